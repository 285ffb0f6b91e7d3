"""Rendered pages in a real headless Chromium (Debian chromium + chromedriver, Selenium):
entities, arcs and badges are in the page the browser built, the script logs no error,
the label filter works, a long MTSamples note renders, and a screenshot is saved."""
import csv
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from render_pipelines import NOTE, render_pipeline  # noqa: E402

from spacy_clinicalbert import render  # noqa: E402
from spacy_clinicalbert.render.browser import (  # noqa: E402
    chromium,
    console_errors,
    open_page,
    screenshot,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def driver():
    from selenium.webdriver.common.by import By  # noqa: F401  (fails early if missing)

    with chromium() as d:
        yield d


@pytest.fixture(scope="module")
def nlp():
    return render_pipeline()


def _css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def test_note_in_chromium(tmp_path, driver, nlp):
    doc = nlp(NOTE)
    page = tmp_path / "note.html"
    page.write_text(render(doc, title="render test"), encoding="utf8")
    open_page(driver, page)
    marks = _css(driver, "mark.ent:not(.phi)")
    assert [m.get_attribute("data-text") for m in marks] == [e.text for e in doc.ents]
    assert all(m.is_displayed() for m in marks)
    arcs = _css(driver, "path.arc")
    assert len(arcs) == len(doc._.relations) == 2
    for arc in arcs:  # drawn from real positions: numbers, not NaN
        d = arc.get_attribute("d")
        assert d.startswith("M") and "NaN" not in d, d
    assert [a.get_attribute("data-label") for a in arcs] == ["CAUSES", "CAUSES"]
    badges = {b.text for b in _css(driver, ".badge")}
    assert {"negated", "family"} <= badges
    assert len(_css(driver, "mark.ent.phi")) == 1
    assert console_errors(driver) == []
    shot = screenshot(driver, tmp_path / "note.png", _css(driver, "article.note")[0])
    assert shot.read_bytes()[:8] == PNG_MAGIC and shot.stat().st_size > 5000
    # Unticking DRUG hides the drug marks' colour and the arcs that start at them.
    _css(driver, '.filters input[data-label="DRUG"]')[0].click()
    assert all("off" in m.get_attribute("class") for m in _css(driver, 'mark[data-label="DRUG"]'))
    assert _css(driver, "path.arc") == []
    assert console_errors(driver) == []


def test_long_mtsamples_note_in_chromium(tmp_path, driver, nlp, shared_data):
    csv.field_size_limit(10 ** 8)
    with (shared_data / "mtsamples" / "mtsamples.csv").open(encoding="utf8", newline="") as f:
        texts = [row["transcription"] for row in csv.DictReader(f)]
    longest = max(texts, key=len)
    doc = nlp(longest)
    assert len(doc) > 3000
    stats = []
    page = tmp_path / "long.html"
    page.write_text(render(doc, max_block_tokens=120, stats=stats), encoding="utf8")
    open_page(driver, page)
    blocks = _css(driver, ".block")
    assert len(blocks) >= len(doc) // 120
    assert len(_css(driver, "mark.ent")) == len(doc.ents) - stats[0].entities_not_inline
    in_block = len(doc._.relations) - stats[0].relations_across_blocks
    assert int(driver.execute_script("return document.body.getAttribute('data-arcs')")) == in_block
    # No arc is wider than its block: they stay local.
    widths = driver.execute_script(
        "return Array.from(document.querySelectorAll('.block')).map(function(b){"
        "var w=b.getBoundingClientRect().width;return Array.from(b.querySelectorAll('path.arc'))"
        ".map(function(p){return p.getBBox().width<=w+1;});}).flat();")
    assert all(widths)
    assert console_errors(driver) == []


def test_attribution_heat_map_in_chromium(tmp_path, driver, tiny_bert):
    """explain() output drawn by render: one coloured span per token, the target outlined."""
    from explain_pipelines import load_tiny_explain

    from spacy_clinicalbert import explain

    nlp = load_tiny_explain(tiny_bert)
    doc = nlp("patient denies rash on aspirin .")
    attributions = [explain(nlp, doc, "NEGATED"), explain(nlp, doc, doc.ents[1])]
    page = tmp_path / "heat.html"
    page.write_text(render([doc], attributions=attributions), encoding="utf8")
    open_page(driver, page)
    heat = _css(driver, ".heat")
    assert len(heat) == 4  # integrated gradients and occlusion, for each target
    tokens = _css(driver, '.heat[data-method="integrated gradients"] .tok')
    assert len(tokens) == 2 * len(doc)
    top = max(tokens[:len(doc)], key=lambda t: abs(float(t.get_attribute("data-score"))))
    assert top.text == "denies" and "rgba(214" in top.get_attribute("style")  # red: raised it
    assert [t.text for t in _css(driver, ".heat .tok.target")] == ["aspirin", "aspirin"]
    assert console_errors(driver) == []
    shot = screenshot(driver, tmp_path / "heat.png", _css(driver, "section.attribution")[0])
    assert shot.read_bytes()[:8] == PNG_MAGIC
