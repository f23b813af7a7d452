
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
// Everything the page shows of its data (words, labels, descriptions) goes into the DOM as
// text nodes or attribute values, never through HTML markup: a word is shown as it is.
function h(tag, attrs, ...children) {  // an element with attributes and children (nodes or text)
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}
function pyRepr(s) {  // how Python's repr quotes a word (the command line's messages)
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  return q + s.replace(/\\/g, "\\\\").split(q).join("\\" + q) + q;
}
function hint(w) {  // the command line's hint for a word typed with capitals (pmiembed.cli.common)
  const lower = w.toLowerCase();
  return lower !== w && INDEX.has(lower) ? ` (did you mean ${pyRepr(lower)}?)` : "";
}
function unknown(words) {
  const missing = words.filter(w => !INDEX.has(w));
  return missing.length ? `not among the ${N.toLocaleString("en")} words of this page: ${missing.map(w => w + hint(w)).join(", ")}` : "";
}
// words are separated as the corpus reader separates tokens: by ASCII whitespace and control
// characters only, so a word holding U+00A0 or U+2028 stays one word
const SEP = /[\u0000-\u0020]+/, TRIM = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;
const COMPACT = /^([^\u0000-\u0020]+)[\u0000-\u0020]*-[\u0000-\u0020]*([^\u0000-\u0020]+)[\u0000-\u0020]*\+[\u0000-\u0020]*([^\u0000-\u0020]+)$/;
function parse(text) {  // {word} | {analogy: [a, b, c]} | {several: true}; a word of the page is a word even if it holds - or +
  if (INDEX.has(text)) return {word: text};
  const parts = text.split(SEP);
  if (parts.length === 5 && parts[1] === "-" && parts[3] === "+") return {analogy: [parts[0], parts[2], parts[4]]};
  const m = text.match(COMPACT);
  if (m) return {analogy: m.slice(1)};
  return parts.length > 1 ? {several: true} : {word: text};
}
function table(id, head, rows) {
  return h("table", id ? {id: id} : null, head ? h("thead", null, h("tr", null, head.map(x => h("th", null, x)))) : null,
           h("tbody", null, rows));
}
function panel(m, title, items) {
  const rows = items.map((x, r) => h("tr", {class: r === 0 ? "neighbour answer" : "neighbour", "data-word": x.word},
                                     h("td", null, x.word), h("td", {class: "s"}, x.score.toFixed(3))));
  return h("div", {class: "model", "data-label": m.label}, h("h3", null, m.label, " ", h("small", null, m.description)),
           h("div", {class: "title"}, title), table(null, null, rows));
}
const q = w => ["q", h("sub", null, w)];
function ask(text) {
  const results = document.getElementById("results"), ctx = document.getElementById("contexts"), status = document.getElementById("status");
  results.replaceChildren(); ctx.replaceChildren(); status.className = "note";
  text = text.replace(TRIM, "");
  if (!text) { status.textContent = "type a word, or a - b + c"; return; }
  const query = parse(text);
  if (query.several) { status.className = "error"; status.textContent = "type one word, or an analogy written a - b + c"; return; }
  const bad = unknown(query.analogy || [query.word]);
  if (bad) { status.className = "error"; status.textContent = bad; return; }
  if (query.analogy) {
    const [a, b, c] = query.analogy;
    const ids = [a, b, c].map(w => INDEX.get(w));
    status.textContent = `${a} - ${b} + ${c}: the words closest to the sum of the unit vectors (3CosAdd; ${a}, ${b}, ${c} excluded)`;
    let pmiAnswer = null;
    for (const m of MODELS) {
      const t = new Float32Array(m.dim), ra = row(m, ids[0]), rb = row(m, ids[1]), rc = row(m, ids[2]);
      for (let j = 0; j < m.dim; j++) t[j] = ra[j] - rb[j] + rc[j];
      const items = nearest(m, t, new Set(ids), 8);
      if (CTX && m.label === CTX.model) pmiAnswer = items[0].word;
      results.append(panel(m, `${a} − ${b} + ${c} =`, items));
    }
    if (CTX && pmiAnswer) {
      const d = pmiAnswer, rows = support(ids[0], ids[1], ids[2], INDEX.get(d));
      const body = rows.map(x => h("tr", {"data-word": x.word}, h("td", null, x.word),
        h("td", {class: x.p[0] > x.p[1] ? "plus" : "minus"}, x.p[0] > x.p[1] ? "+" : "−"),
        x.p.map(v => h("td", null, v.toFixed(2))), h("td", null, `${(100 * x.share).toFixed(1)}%`)));
      ctx.append(
        h("h3", null, `Why ${CTX.model} answers `, h("span", {id: "explained"}, d), ": the contexts that most support it"),
        h("p", {class: "note"}, "Contexts x with the largest (", q(d), "[x] − ", q(c), "[x]) (", q(a), "[x] − ", q(b),
          "[x]), q a word's PPMI row over its length: ", h("span", {class: "plus"}, "+"),
          ` ${d} has the context more than ${c}, as ${a} more than ${b}; `, h("span", {class: "minus"}, "−"),
          ` less, as ${a} less than ${b}.`),
        table("support", ["context", "", `PPMI ${a}`, `PPMI ${b}`, `PPMI ${c}`, `PPMI ${d}`, "share"], body));
    }
    return;
  }
  const i = INDEX.get(query.word);
  status.textContent = `nearest neighbours of ${query.word} (cosine)`;
  for (const m of MODELS) results.append(panel(m, `closest to ${query.word}`, nearest(m, row(m, i), new Set([i]), 10)));
  if (CTX) {
    const rows = contextsOf(i).slice(0, 12).map(x => h("tr", {"data-word": x.word}, h("td", null, x.word), h("td", null, x.ppmi.toFixed(2))));
    ctx.append(
      h("h3", null, "Contexts of ", h("span", {id: "explained"}, query.word), ` in ${CTX.model}'s PPMI matrix`),
      h("p", {class: "note"}, `Its strongest of ${CTX.nContexts[i].toLocaleString("en")} contexts by PPMI, among words seen at least ${CTX.minCount.toLocaleString("en")} times: what its vector was factorised from.`),
      table("ctxtable", ["context", "PPMI"], rows));
  }
}
document.getElementById("ask").addEventListener("submit", e => { e.preventDefault(); ask(document.getElementById("query").value); });
document.getElementById("status").textContent = `ready: ${N.toLocaleString("en")} words, ${MODELS.length} models`;
document.body.dataset.ready = "1";
