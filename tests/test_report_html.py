"""report.html in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by selenium) opens the page that ``pmiembed compare`` wrote
from disk, with the network cut off, types a word and an analogy, and the rendered
answers are checked against the same computation in numpy on the page's own data and
against the full-precision models."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from pmiembed.cli.main import main
from pmiembed.explain import PPMI
from pmiembed.report_html import neighbour_fidelity, pack_vectors, unpack_vectors
from pmiembed.vectors import load_vectors

BUNDLED = Path(__file__).resolve().parent.parent / "corpora" / "text8-head.txt.gz"


def _executables() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver); "
                    f"found chromium={chromium}, chromedriver={driver}")
    return chromium, driver


@pytest.fixture(scope="module")
def chromium():
    """Skips (before any training) when the browser is not installed."""
    return _executables()


def _browser():
    chromium, driver = _executables()
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1200,1500", "--proxy-server=http://127.0.0.1:9",
                "--host-resolver-rules=MAP * ~NOTFOUND"):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=driver))


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """``pmiembed compare`` on the bundled text8 sample (the defaults; one word2vec epoch
    to keep the test short)."""
    out = tmp_path_factory.mktemp("report") / "report"
    assert main(["compare", str(BUNDLED), "--out", str(out), "--quiet", "--w2v-epochs", "1"]) == 0
    return out


def page_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def decoded(data: dict) -> dict:
    """Each model's unit vectors as the page decodes them."""
    n = len(data["words"])
    out = {}
    for m in data["models"]:
        q = unpack_vectors(base64.b64decode(m["vectors"]), n, m["dim"]).astype(np.float64)
        out[m["label"]] = q / np.linalg.norm(q, axis=1, keepdims=True)
    return out


def expected_neighbours(v: np.ndarray, words: list, target: np.ndarray, exclude: set, k: int) -> list:
    s = v @ (target / np.linalg.norm(target))
    s[list(exclude)] = -np.inf
    return [words[i] for i in np.argsort(-s, kind="stable")[:k]]


def expected_support(data: dict, query: list) -> list:
    """The page's supporting contexts of ``a - b + c -> d``, from its stored rows."""
    p = data["pmi"]
    index = np.frombuffer(base64.b64decode(p["index"]), dtype="<u2" if p["indexBytes"] == 2 else "<u4")
    values = np.frombuffer(base64.b64decode(p["values"]), dtype=np.uint8)
    rows = []
    for w in query:
        i = data["words"].index(w)
        sl = slice(i * p["k"], (i + 1) * p["k"])
        rows.append({p["ctxWords"][x]: v * p["step"] / p["norms"][i] for x, v in zip(index[sl], values[sl]) if v})
    scored = []
    for x in set().union(*rows):
        q = [r.get(x, 0.0) for r in rows]
        s = (q[3] - q[2]) * (q[0] - q[1])
        if s > 0:
            scored.append((-s, x))
    return [x for _, x in sorted(scored)[:10]]


def test_packing_round_trip_and_fidelity():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((500, 30)).astype(np.float32)
    data, q = pack_vectors(v)
    assert len(data) == 500 * 32 // 4 * 3  # 30 coordinates padded to 32, four in three bytes
    assert np.array_equal(unpack_vectors(data, 500, 30), q) and np.abs(q).max() == 31
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    assert np.abs(q / np.linalg.norm(q, axis=1, keepdims=True) - unit).max() < 0.03
    assert neighbour_fidelity(v, v) == 1.0 and 0.6 < neighbour_fidelity(v, q) < 1.0


def test_page_is_self_contained_and_says_what_it_holds(compared):
    text = (compared / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text) and "@import" not in text
    assert re.findall(r'<img alt="(\w+)" src="data:image/png;base64,', text) == ["scores", "training"]
    data = page_data(text)
    report = json.loads((compared / "report.json").read_text(encoding="utf-8"))
    assert report["html"]["bytes"] == len(text.encode("utf-8")) < 10 * 2**20
    assert len(data["words"]) == 10_000 and [m["label"] for m in data["models"]] == ["pmi", "word2vec"]
    assert "the 10,000 most frequent words present in every model, vectors at reduced precision (6 bits" in text
    kv = load_vectors(compared / "pmi")
    assert data["words"][:50] == kv.index_to_key[:50]
    # the precision note's numbers are what the packed vectors keep of the full ones
    # (word2vec after one epoch is nearly flat, so its neighbours are fragile)
    for m, folder in zip(data["models"], ("pmi", "word2vec/vectors.bin")):
        full = load_vectors(compared / folder)
        packed = decoded(data)[m["label"]]
        assert m["fidelity"] == pytest.approx(neighbour_fidelity(full[data["words"]], packed), abs=1e-4)
        assert f"{m['label']} {100 * m['fidelity']:.1f}%" in text
    assert data["models"][0]["fidelity"] > 0.95
    # the contexts are the model's own, from its PPMI matrix
    ppmi = PPMI.load(compared / "pmi")
    p = data["pmi"]
    index = np.frombuffer(base64.b64decode(p["index"]), dtype="<u2" if p["indexBytes"] == 2 else "<u4")
    values = np.frombuffer(base64.b64decode(p["values"]), dtype=np.uint8)
    i = data["words"].index("king")
    from pmiembed.explain import contexts

    truth = contexts(ppmi, "king", p["k"], min_count=p["minCount"])
    shown = [(p["ctxWords"][index[i * p["k"] + j]], values[i * p["k"] + j] * p["step"]) for j in range(p["k"])
             if values[i * p["k"] + j]]
    assert [w for w, _ in shown] == [c.word for c in truth]
    assert np.allclose([x for _, x in shown], [c.ppmi for c in truth], atol=p["step"])
    assert p["norms"][i] == pytest.approx(ppmi.norms[ppmi.index["king"]], rel=1e-4)


def drive(report_dir: Path, screenshot: Path) -> dict:
    """Open report.html in headless Chromium, ask a word and an analogy, check the
    answers against numpy on the page's data; returns what was rendered."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = (report_dir / "report.html").resolve()
    data = page_data(page.read_text(encoding="utf-8"))
    words = data["words"]
    vectors = decoded(data)
    browser = _browser()
    rendered = {}
    try:
        browser.get(page.as_uri())
        WebDriverWait(browser, 60).until(lambda b: b.execute_script("return document.body.dataset.ready") == "1")
        status = browser.execute_script("return document.getElementById('status').textContent")
        assert status.startswith("ready: 10,000")

        def ask(text):
            box = browser.find_element(By.ID, "query")
            box.clear()
            box.send_keys(text)
            browser.find_element(By.ID, "go").click()

        def columns():
            return {el.get_attribute("data-label"): [r.get_attribute("data-word")
                                                     for r in el.find_elements(By.CSS_SELECTOR, "tr.neighbour")]
                    for el in browser.find_elements(By.CSS_SELECTOR, "#results .model")}

        ask("king")
        got = columns()
        assert list(got) == ["pmi", "word2vec"]
        i = words.index("king")
        for label, v in vectors.items():
            assert got[label] == expected_neighbours(v, words, v[i], {i}, 10), label
        rendered["king"] = got
        ctx = [r.get_attribute("data-word") for r in browser.find_elements(By.CSS_SELECTOR, "#ctxtable tbody tr")]
        assert len(ctx) == 12 and browser.find_element(By.ID, "explained").text == "king"
        rendered["king contexts"] = ctx

        ask("king - man + woman")
        got = columns()
        ids = [words.index(w) for w in ("king", "man", "woman")]
        for label, v in vectors.items():
            target = v[ids[0]] - v[ids[1]] + v[ids[2]]
            assert got[label] == expected_neighbours(v, words, target, set(ids), 8), label
        rendered["king - man + woman"] = got
        assert browser.find_element(By.ID, "explained").text == got["pmi"][0]
        support = [r.get_attribute("data-word") for r in browser.find_elements(By.CSS_SELECTOR, "#support tbody tr")]
        assert support and support == expected_support(data, ["king", "man", "woman", got["pmi"][0]])
        rendered["support"] = support
        browser.save_screenshot(str(screenshot))

        ask("qwertyuiopasdf")
        status = browser.find_element(By.ID, "status")
        assert "not among the 10,000 words of this page: qwertyuiopasdf" in status.text
        assert "error" in status.get_attribute("class") and not columns()
        # nothing was fetched from anywhere but the file itself
        urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(u.startswith(("data:", "file:")) for u in urls), urls
        errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, errors
    finally:
        browser.quit()
    return rendered


def test_explorer_in_headless_chromium(chromium, compared, tmp_path):
    shot = tmp_path / "report-explorer.png"
    rendered = drive(compared, shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    print(f"\nscreenshot: {shot}\nrendered: {rendered}")
    # the page's answers agree with the full-precision models where they are clear
    for label, folder in (("pmi", "pmi"),):
        kv = load_vectors(compared / folder)
        page = set(page_data((compared / "report.html").read_text(encoding="utf-8"))["words"])
        full = [w for w, _ in kv.most_similar("king", topn=60) if w in page][:10]
        assert len(set(full) & set(rendered["king"][label])) >= 7, (label, full, rendered["king"][label])


# ------------------------------------------------------------ a hostile vocabulary

#: tokens that web text holds and that must not change how the page parses or renders
#: (``--tokenize whitespace`` splits at ASCII whitespace and control characters only and
#: keeps them, as a user's ``tokenizer=`` may; the default drops most); without a
#: "-->" after them, "<!--" and "<script" made the HTML parser read past the data's end
HOSTILE = ["<!--", "--!>", "<script>", "</script>", "<script", "</script", "<!--<script>", "]]>", "<![CDATA[",
           "</style>", "<b>bold</b>", "<img/src=x/onerror=alert(1)>", "&amp;", "&lt;b&gt;", "&", '"dq"', "'sq'",
           "it's", "`tick`", "a|b", "\\u003c", "\\", "${x}", "{{x}}", "line\u2028sep", "para\u2029sep",
           "nb\u00a0sp", "*star*", "_under_", "#hash", "[link](x)", "x-y+z"]
#: a model label and a corpus file name that are markup in HTML and markdown (and the
#: label matplotlib's mathtext, the name an undecodable byte)
LABEL = "</script><!--<script>*x*|y`z&amp;'\"$\\foo{$"
CORPUS_NAME = "<i>lee|`x`&amp;'s" + os.fsdecode(b"\xe9") + ".txt"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, lee_path):
    """The Lee corpus (gensim's test data) with every HOSTILE token inserted about 35
    times among its words, a model trained on it and ``pmiembed compare`` of a new PMI
    model on it (corpus file named CORPUS_NAME) with that model labelled LABEL."""
    import random

    root = tmp_path_factory.mktemp("hostile")
    rng = random.Random(0)
    lines = []
    for line in Path(lee_path).read_text(encoding="utf-8").splitlines():
        words = line.split()
        for h in HOSTILE:
            if rng.random() < 0.12:
                words.insert(rng.randrange(len(words) + 1), h)
        lines.append(" ".join(words))
    corpus = root / CORPUS_NAME
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = root / "model"
    assert main(["train", str(corpus), "--out", str(model), "--dim", "30", "--quiet", "--tokenize", "whitespace"]) == 0
    out = root / "report"
    assert main(["compare", str(corpus), "--no-word2vec", "--vectors", f"{model}={LABEL}", "--out", str(out),
                 "--dim", "30", "--seed", "1", "--quiet", "--tokenize", "whitespace",
                 "--words", "<script>", "a|b", "`tick`", "</script"]) == 0
    return out


def test_hostile_words_and_labels_keep_the_page_intact(hostile):
    text = (hostile / "report.html").read_text(encoding="utf-8")
    data = page_data(text)
    assert set(HOSTILE) <= set(data["words"]) and [m["label"] for m in data["models"]] == ["pmi", LABEL]
    # the data block holds no character the HTML parser reacts to inside a script
    block = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S).group(1)
    assert not re.search(r"[<>&\u2028\u2029\x00]", block) and not re.search(r"[^\x20-\x7e]", block)
    # exactly the page's own two scripts and its plots, whatever the words and labels
    assert re.findall(r"<script\b[^>]*>", text) == ['<script type="application/json" id="data">', "<script>"]
    assert len(re.findall(r"<img\b", text)) == 2 and "<!--" not in text.replace(block, "")
    assert "<li><b>Corpus</b>: &lt;i&gt;lee|`x`&amp;amp;&#x27;s\ufffd.txt, " in text


def test_hostile_vocabulary_in_headless_chromium(chromium, hostile):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = (hostile / "report.html").resolve()
    data = page_data(page.read_text(encoding="utf-8"))
    words = data["words"]
    vectors = decoded(data)
    browser = _browser()
    try:
        browser.get(page.as_uri())
        WebDriverWait(browser, 60).until(lambda b: b.execute_script("return document.body.dataset.ready") == "1")
        js = browser.execute_script
        assert js("return document.getElementById('status').textContent") == f"ready: {len(words):,} words, 2 models"
        assert js("return document.title") == f"pmiembed report: pmi vs {LABEL}"
        assert js("return document.querySelector('h1').textContent") == f"Word vectors side by side: pmi vs {LABEL}"
        assert js("return document.scripts.length") == 2 and js("return document.images.length") == 2
        assert js("return document.querySelectorAll('b b, i, [onerror]').length") == 0
        assert js("return D.words") == words  # the page's own JSON.parse gives back every word exactly

        def ask(text):
            box = browser.find_element(By.ID, "query")
            box.clear()
            js("arguments[0].value = arguments[1]", box, text)  # typed as is (send_keys would drop U+2028)
            browser.find_element(By.ID, "go").click()
            return js("return document.getElementById('status').textContent")

        def shown():
            return js("""return [...document.querySelectorAll('#results .model')].map(e => ({
                label: e.dataset.label, title: e.querySelector('h3').firstChild.textContent,
                rows: [...e.querySelectorAll('tr.neighbour')].map(r => [r.dataset.word, r.cells[0].textContent])}))""")

        for w in HOSTILE:
            assert ask(w) == f"nearest neighbours of {w} (cosine)"
            got = shown()
            assert [p["label"] for p in got] == ["pmi", LABEL] and [p["title"] for p in got] == ["pmi", LABEL]
            i = words.index(w)
            for p in got:
                v = vectors[p["label"]]
                assert [a for a, b in p["rows"]] == [b for a, b in p["rows"]] == expected_neighbours(v, words, v[i],
                                                                                                   {i}, 10), w
            assert browser.find_element(By.ID, "explained").get_attribute("textContent") == w
            assert js("return document.querySelectorAll('#ctxtable tbody tr').length") > 0, w

        ask("<script> - </script> + <!--")
        got = shown()
        ids = [words.index(w) for w in ("<script>", "</script>", "<!--")]
        v = vectors["pmi"]
        answer = expected_neighbours(v, words, v[ids[0]] - v[ids[1]] + v[ids[2]], set(ids), 8)
        assert [a for a, _ in got[0]["rows"]] == answer
        assert browser.find_element(By.ID, "explained").get_attribute("textContent") == answer[0]
        assert js("return [...document.querySelectorAll('#support thead th')].map(e => e.textContent)") == [
            "context", "", "PPMI <script>", "PPMI </script>", "PPMI <!--", f"PPMI {answer[0]}", "share"]

        # a word of the page holding - and + is a word, not an analogy
        assert ask("x-y+z") == "nearest neighbours of x-y+z (cosine)"
        # unknown words are shown as typed: no &lt; or &#39;
        n = f"{len(words):,}"
        assert ask("<b>nope'&amp;") == f"not among the {n} words of this page: <b>nope'&amp;"
        assert ask("it's - <nope> + &") == f"not among the {n} words of this page: <nope>"
        # the command line's hint for a word typed with capitals
        lower = next(w for w in words if w.isalpha() and w.islower() and len(w) > 4
                     and w.upper() not in words and w.capitalize() not in words)
        assert ask(lower.upper()) == (f"not among the {n} words of this page: {lower.upper()} "
                                      f"(did you mean '{lower}'?)")
        assert ask(f"{lower.capitalize()} - <script> + IT'S") == (
            f"not among the {n} words of this page: {lower.capitalize()} (did you mean '{lower}'?), "
            "IT'S (did you mean \"it's\"?)")
        assert js("return document.getElementById('status').className") == "error"
        errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, errors
    finally:
        browser.quit()


def _outside_code_spans(line: str) -> str:
    """``line`` without its code spans (CommonMark: a run of n backticks up to the next
    run of exactly n)."""
    out, i = [], 0
    while i < len(line):
        if line[i] == "`" and (i == 0 or line[i - 1] != "\\"):
            n = len(re.match(r"`+", line[i:]).group(0))
            m = re.compile(r"(?<!`)`{%d}(?!`)" % n).search(line, i + n)
            if m:
                i = m.end()
                continue
        out.append(line[i])
        i += 1
    return "".join(out)


def test_report_md_shows_hostile_labels_file_names_and_words_as_text(hostile):
    from pmiembed._report import md_code, md_text

    md = (hostile / "report.md").read_text(encoding="utf-8")
    assert md.splitlines()[0] == f"# Word vectors side by side: pmi vs {md_text(LABEL)}"
    assert f"- **Files**: {md_code(str(Path(hostile).parent / CORPUS_NAME))}" in md
    assert f"- **{md_text(LABEL)}** (existing vectors): " in md
    assert "| `<script>` | " in md and "| `a\\|b` | " in md and "| `` `tick` `` | " in md
    for line in md.splitlines():
        plain = _outside_code_spans(line)
        # outside code spans nothing starts HTML, an entity or a code span
        assert not re.search(r"(?<!\\)(<(?=[A-Za-z/!?])|&(?=[#A-Za-z])|`)", plain), line
        if line.startswith("|"):  # every table row has its three cells (a row label and two models)
            assert len(re.findall(r"(?<!\\)\|", plain)) == 4, line


@pytest.mark.parametrize("text", ["a|b", "`", "``x``", "x`", "`x", " x", "x ", " ", "<b>&amp;</b>", "a\nb", "\\|"])
def test_md_code_spans_give_back_the_text(text):
    from pmiembed._report import md_code

    for table in (False, True):
        span = md_code(text, table=table)
        n = len(re.match(r"`*", span).group(0))
        if n == 0:  # an all-space text is shown escaped, not as a code span
            assert not text.strip()
            continue
        inner = span[n:-n]
        assert span.endswith("`" * n) and "`" * n not in re.sub(r"`{%d,}" % (n + 1), "", inner)
        if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
            inner = inner[1:-1]  # CommonMark strips one space from each side
        if table:
            inner = inner.replace("\\|", "|")  # GFM reads \| in a cell as |
        assert inner == text.replace("\n", " ")
