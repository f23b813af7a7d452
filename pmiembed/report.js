
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const N = D.words.length, INDEX = new Map(D.words.map((w, i) => [w, i]));
function bytes(b64) { const s = atob(b64), a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }
function unpack(m) {  // 6-bit codes, four in three bytes -> unit rows (Float32Array, N x dim)
  const b = bytes(m.vectors), dim = m.dim, padded = dim + ((4 - dim % 4) % 4), v = new Float32Array(N * dim);
  let p = 0;
  for (let r = 0; r < N; r++) {
    let norm = 0;
    for (let j = 0; j < padded; j += 4) {
      const x = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16); p += 3;
      for (let t = 0; t < 4; t++) { const c = j + t; if (c < dim) { const q = ((x >> (6 * t)) & 63) - 31; v[r * dim + c] = q; norm += q * q; } }
    }
    norm = Math.sqrt(norm) || 1;
    for (let c = 0; c < dim; c++) v[r * dim + c] /= norm;
  }
  return v;
}
const MODELS = D.models.map(m => ({label: m.label, description: m.description, dim: m.dim, v: unpack(m)}));
let CTX = null;
if (D.pmi) {
  const p = D.pmi, raw = bytes(p.index);
  const idx = p.indexBytes === 4 ? new Uint32Array(raw.buffer) : new Uint16Array(raw.buffer);
  CTX = {model: p.model, k: p.k, idx: idx, val: bytes(p.values), step: p.step, words: p.ctxWords, norms: p.norms,
         nContexts: p.nContexts, minCount: p.minCount};
}
function row(m, i) { return m.v.subarray(i * m.dim, (i + 1) * m.dim); }
function nearest(m, target, exclude, k) {
  const dim = m.dim, v = m.v, best = [];
  let tn = 0; for (let c = 0; c < dim; c++) tn += target[c] * target[c]; tn = Math.sqrt(tn) || 1;
  for (let r = 0; r < N; r++) {
    if (exclude.has(r)) continue;
    let s = 0; const o = r * dim;
    for (let c = 0; c < dim; c++) s += v[o + c] * target[c];
    s /= tn;
    if (best.length < k || s > best[best.length - 1][1]) {
      best.push([r, s]); best.sort((a, b) => b[1] - a[1]); if (best.length > k) best.pop();
    }
  }
  return best.map(([r, s]) => ({word: D.words[r], score: s}));
}
function contextsOf(i) {  // [{word, ppmi}] of page word i, strongest first
  const out = [];
  for (let j = 0; j < CTX.k; j++) { const q = CTX.val[i * CTX.k + j]; if (q) out.push({word: CTX.words[CTX.idx[i * CTX.k + j]], ppmi: q * CTX.step}); }
  return out;
}
function support(a, b, c, d) {  // (q_d - q_c)(q_a - q_b) over the stored contexts of the four words
  const rows = [a, b, c, d].map(i => { const m = new Map(); for (const x of contextsOf(i)) m.set(x.word, x.ppmi); return m; });
  const all = new Set(); rows.forEach(m => m.forEach((_, w) => all.add(w)));
  const norms = [a, b, c, d].map(i => CTX.norms[i] || 1), out = [];
  let positive = 0;
  for (const w of all) {
    const p = rows.map(m => m.get(w) || 0), q = p.map((x, t) => x / norms[t]);
    const s = (q[3] - q[2]) * (q[0] - q[1]);
    if (s > 0) { positive += s; out.push({word: w, p: p, s: s}); }
  }
  out.sort((x, y) => y.s - x.s || (x.word < y.word ? -1 : 1));
  return out.slice(0, 10).map(x => Object.assign(x, {share: x.s / positive}));
}
const esc = s => String(s).replace(/[&<>"']/g, ch => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch]));
function unknown(words) {
  const missing = words.filter(w => !INDEX.has(w));
  return missing.length ? `not among the ${N.toLocaleString("en")} words of this page: ${missing.map(esc).join(", ")}` : "";
}
function panel(m, title, items) {
  const rows = items.map((x, r) => `<tr class="neighbour${r === 0 ? " answer" : ""}" data-word="${esc(x.word)}"><td>${esc(x.word)}</td><td class="s">${x.score.toFixed(3)}</td></tr>`).join("");
  return `<div class="model" data-label="${esc(m.label)}"><h3>${esc(m.label)} <small>${esc(m.description)}</small></h3><div class="title">${title}</div><table>${rows}</table></div>`;
}
function ask(text) {
  const results = document.getElementById("results"), ctx = document.getElementById("contexts"), status = document.getElementById("status");
  results.innerHTML = ""; ctx.innerHTML = ""; status.className = "note";
  text = text.trim();
  if (!text) { status.textContent = "type a word, or a - b + c"; return; }
  const m3 = text.match(/^(\S+)\s*-\s*(\S+)\s*\+\s*(\S+)$/);
  if (m3) {
    const [a, b, c] = m3.slice(1);
    const bad = unknown([a, b, c]);
    if (bad) { status.className = "error"; status.textContent = bad; return; }
    const ids = [a, b, c].map(w => INDEX.get(w));
    status.textContent = `${a} - ${b} + ${c}: the words closest to the sum of the unit vectors (3CosAdd; ${a}, ${b}, ${c} excluded)`;
    let pmiAnswer = null;
    for (const m of MODELS) {
      const t = new Float32Array(m.dim), ra = row(m, ids[0]), rb = row(m, ids[1]), rc = row(m, ids[2]);
      for (let j = 0; j < m.dim; j++) t[j] = ra[j] - rb[j] + rc[j];
      const items = nearest(m, t, new Set(ids), 8);
      if (CTX && m.label === CTX.model) pmiAnswer = items[0].word;
      results.insertAdjacentHTML("beforeend", panel(m, `${esc(a)} − ${esc(b)} + ${esc(c)} =`, items));
    }
    if (CTX && pmiAnswer) {
      const d = pmiAnswer, rows = support(ids[0], ids[1], ids[2], INDEX.get(d));
      const body = rows.map(x => `<tr data-word="${esc(x.word)}"><td>${esc(x.word)}</td><td class="${x.p[0] > x.p[1] ? "plus" : "minus"}">${x.p[0] > x.p[1] ? "+" : "−"}</td>${x.p.map(v => `<td>${v.toFixed(2)}</td>`).join("")}<td>${(100 * x.share).toFixed(1)}%</td></tr>`).join("");
      ctx.innerHTML = `<h3>Why ${esc(CTX.model)} answers <span id="explained">${esc(d)}</span>: the contexts that most support it</h3>
<p class="note">Contexts x with the largest (q<sub>${esc(d)}</sub>[x] − q<sub>${esc(c)}</sub>[x]) (q<sub>${esc(a)}</sub>[x] − q<sub>${esc(b)}</sub>[x]), q a word's PPMI row over its length:
<span class="plus">+</span> ${esc(d)} has the context more than ${esc(c)}, as ${esc(a)} more than ${esc(b)}; <span class="minus">−</span> less, as ${esc(a)} less than ${esc(b)}.</p>
<table id="support"><thead><tr><th>context</th><th></th><th>PPMI ${esc(a)}</th><th>PPMI ${esc(b)}</th><th>PPMI ${esc(c)}</th><th>PPMI ${esc(d)}</th><th>share</th></tr></thead><tbody>${body}</tbody></table>`;
    }
    return;
  }
  if (/\s/.test(text)) { status.className = "error"; status.textContent = "type one word, or an analogy written a - b + c"; return; }
  const bad = unknown([text]);
  if (bad) { status.className = "error"; status.textContent = bad; return; }
  const i = INDEX.get(text);
  status.textContent = `nearest neighbours of ${text} (cosine)`;
  for (const m of MODELS) results.insertAdjacentHTML("beforeend", panel(m, `closest to ${esc(text)}`, nearest(m, row(m, i), new Set([i]), 10)));
  if (CTX) {
    const rows = contextsOf(i).slice(0, 12).map(x => `<tr data-word="${esc(x.word)}"><td>${esc(x.word)}</td><td>${x.ppmi.toFixed(2)}</td></tr>`).join("");
    ctx.innerHTML = `<h3>Contexts of <span id="explained">${esc(text)}</span> in ${esc(CTX.model)}'s PPMI matrix</h3>
<p class="note">Its strongest of ${CTX.nContexts[i].toLocaleString("en")} contexts by PPMI, among words seen at least ${CTX.minCount.toLocaleString("en")} times: what its vector was factorised from.</p>
<table id="ctxtable"><thead><tr><th>context</th><th>PPMI</th></tr></thead><tbody>${rows}</tbody></table>`;
  }
}
document.getElementById("ask").addEventListener("submit", e => { e.preventDefault(); ask(document.getElementById("query").value); });
document.getElementById("status").textContent = `ready: ${N.toLocaleString("en")} words, ${MODELS.length} models`;
document.body.dataset.ready = "1";
