"""render(): the page's markup, blocks of long notes, escaping, counted overlaps, CLI."""
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from render_pipelines import NOTE, render_pipeline  # noqa: E402

from spacy_clinicalbert import render  # noqa: E402
from spacy_clinicalbert.cli import app  # noqa: E402
from spacy_clinicalbert.relations.data import Relation, set_relations  # noqa: E402
from spacy_clinicalbert.render.blocks import note_blocks  # noqa: E402


class Collect(HTMLParser):
    """Tags with their attributes, and whether every opened element was closed."""

    VOID = {"meta", "br", "input", "path", "img"}

    def __init__(self):
        super().__init__()
        self.tags, self.stack, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def parse(page: str) -> Collect:
    c = Collect()
    c.feed(page)
    assert not c.errors and not c.stack, (c.errors, c.stack)
    return c


@pytest.fixture(scope="module")
def nlp():
    return render_pipeline()


def test_page_holds_entities_badges_sections_phi_cats_relations(nlp):
    doc = nlp(NOTE)
    page = render(doc)
    tags = parse(page).tags
    marks = [a for t, a in tags if t == "mark"]
    ents = [a for a in marks if "phi" not in a["class"]]
    assert [a["data-text"] for a in ents] == [e.text for e in doc.ents]
    assert [a["data-label"] for a in ents] == [e.label_ for e in doc.ents]
    badges = [a["class"] for t, a in tags if t == "span" and "badge" in a.get("class", "")]
    assert "badge negated" in badges and "badge family" in badges
    assert any("uncertain" in b or "hypothetical" in b for b in badges)
    phi = [a for a in marks if "phi" in a["class"]]
    assert [a["data-text"] for a in phi] == ["[NAME]"]
    assert "family_history" in page and '<h3 class="section">' in page
    assert 'data-label="ADVERSE"' in page and "ADVERSE 0.90" in page
    rels = [json.loads(a["data-rels"]) for t, a in tags if t == "div" and "data-rels" in a]
    flat = [r for block in rels for r in block]
    assert len(flat) == 2 and {r["l"] for r in flat} == {"CAUSES"}
    ids = {a["id"]: a["data-text"] for a in ents}
    assert {(ids[r["h"]], ids[r["t"]]) for r in flat} == {("aspirin", "rash"),
                                                          ("Warfarin", "bleeding")}
    # The note's own "<b>" is text, not markup; no script or style is fetched.
    assert "&lt;b&gt;not html&lt;/b&gt;" in page and "<b>" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_long_note_blocks_keep_arcs_local(nlp):
    sentence = "Warfarin caused bleeding after aspirin and rash . "
    doc = nlp("FAMILY HISTORY: none.\n" + sentence * 200)
    blocks = note_blocks(doc, max_tokens=40)
    covered = [i for b in blocks for i in range(b.start, b.end)]
    assert covered == list(range(len(doc)))
    assert max(b.end - b.start for b in blocks) <= 40
    # Blocks end at sentence ends.
    assert all(b.end == len(doc) or doc[b.end].is_sent_start for b in blocks)
    # A relation from the first to the last sentence: listed, no arc.
    rels = list(doc._.relations)
    far = Relation(doc.ents[0], doc.ents[-1], "FAR", 0.5)
    set_relations(doc, rels + [far])
    stats = []
    page = render(doc, max_block_tokens=40, stats=stats)
    assert stats[0].relations == len(rels) + 1 and stats[0].relations_across_blocks == 1
    tags = parse(page).tags
    arcs = sum(len(json.loads(a["data-rels"])) for t, a in tags if "data-rels" in a)
    assert arcs == len(rels)
    assert "across blocks" in page


def test_overlapping_spans_are_counted_and_listed():
    nlp = spacy.blank("en")
    doc = nlp("severe chest pain today")
    doc.spans["sc"] = [Span(doc, 0, 3, "PROBLEM"), Span(doc, 1, 3, "SITE_PAIN")]
    stats = []
    page = render(doc, spans_key="sc", stats=stats)
    assert stats[0].entities == 2 and stats[0].entities_not_inline == 1
    assert page.count("<mark class") == 1 and 'class="overlapping"' in page and "SITE_PAIN" in page


def test_empty_and_many_docs_and_bad_ids():
    nlp = spacy.blank("en")
    page = render([nlp(""), nlp("plain text")], note_ids=["a", "b"])
    assert "(empty note)" in page and 'data-note-id="b"' in page
    with pytest.raises(ValueError, match="note_ids has 1 ids for 2 docs"):
        render([nlp("x"), nlp("y")], note_ids=["a"])


def test_render_cli_on_jsonl_and_docbin(tmp_path, nlp):
    folder = tmp_path / "pipe"
    nlp.to_disk(folder)
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"id": "n-1", "text": NOTE}) + "\n"
                     + json.dumps({"id": "n-2", "text": ""}) + "\n", encoding="utf8")
    out = tmp_path / "out.html"
    result = CliRunner().invoke(app, ["render", str(folder), str(notes), str(out)])
    assert result.exit_code == 0, result.output
    assert "1 notes" in result.output and "Skipped 1 empty notes" in result.output
    page = out.read_text(encoding="utf8")
    assert 'data-note-id="n-1"' in page and page.count("<mark class") == 8
    # A DocBin shown as it is (gold): its entities, not the pipeline's.
    gold = Doc(nlp.vocab, words=["hives", "after", "penicillin"])
    gold.ents = [Span(gold, 0, 1, "AE"), Span(gold, 2, 3, "DRUG")]
    DocBin(docs=[gold], store_user_data=True).to_disk(tmp_path / "gold.spacy")
    result = CliRunner().invoke(app, ["render", str(folder), str(tmp_path / "gold.spacy"),
                                      str(out), "--as-is"])
    assert result.exit_code == 0, result.output
    assert 'data-text="penicillin"' in out.read_text(encoding="utf8")
    result = CliRunner().invoke(app, ["render", str(folder), str(notes), str(tmp_path / "x.txt")])
    assert result.exit_code == 1 and "must end in .html" in result.output
