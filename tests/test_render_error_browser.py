"""evaluate writes report.html (the error browser) and links it from report.md: every FP/FN
entity and relation and every mis-classified doc, counted by hand from the five notes of
evaluation_fixtures (the figures test_evaluation_outputs checks as scores), and opened in
headless Chromium, where the label filter hides the other rows."""
import json
from html.parser import HTMLParser

import pytest
from evaluation_fixtures import build_nlp, write_gold
from typer.testing import CliRunner

from spacy_clinicalbert.cli import app
from spacy_clinicalbert.render.browser import chromium, console_errors, open_page


class Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.focus = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class") == "err":
            self.rows.append((attrs["data-part"], attrs["data-kind"], attrs["data-label"]))
        if tag == "mark" and "focus" in attrs.get("class", ""):
            self.focus += 1


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("error_browser")
    nlp = build_nlp()
    nlp.to_disk(root / "model")
    data = write_gold(root / "test.spacy", nlp.vocab)
    out = root / "metrics"
    result = CliRunner().invoke(app, ["evaluate", str(root / "model"), str(data), "--output",
                                      str(out), "--no-plots"])
    assert result.exit_code == 0, result.output
    return out


def test_report_html_lists_each_error_once(evaluated):
    page = (evaluated / "report.html").read_text(encoding="utf8")
    parsed = Rows()
    parsed.feed(page)
    rows = parsed.rows
    entity = sorted((k, lab) for part, k, lab in rows if part == "entities")
    # FP: "pain" (note A); FN: hives and penicillin (note E).
    assert entity == [("FN", "ADE"), ("FN", "DRUG"), ("FP", "ADE")]
    relation = sorted((k, lab) for part, k, lab in rows if part == "relations")
    # FP: aspirin->pain, warfarin->rash, causes(drug, vomiting); FN: treated_by (C), causes (E).
    assert relation == [("FN", "causes"), ("FN", "treated_by"),
                        ("FP", "causes"), ("FP", "causes"), ("FP", "causes")]
    cats = sorted((k, lab) for part, k, lab in rows if part == "categories")
    assert cats == [("FN", "MILD"), ("FN", "SEVERE"), ("FP", "MILD"), ("FP", "SEVERE")]
    # Every entity and relation error is marked in its context (relations mark both ends).
    assert parsed.focus == 3 + 2 * 5
    assert "penicillin" in page
    metrics = json.loads((evaluated / "metrics.json").read_text())
    assert metrics["error_browser"] == "report.html"
    assert "[report.html](report.html)" in (evaluated / "report.md").read_text()


def test_error_browser_filters_in_chromium(evaluated):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with chromium() as driver:
        open_page(driver, evaluated / "report.html")
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.err")
        assert len(rows) == 12 and all(r.is_displayed() for r in rows)
        Select(driver.find_element(By.ID, "f-label")).select_by_value("causes")
        shown = [r for r in rows if r.is_displayed()]
        assert len(shown) == 4 and driver.find_element(By.ID, "shown").text == "4"
        Select(driver.find_element(By.ID, "f-kind")).select_by_value("FN")
        assert len([r for r in rows if r.is_displayed()]) == 1
        assert console_errors(driver) == []
