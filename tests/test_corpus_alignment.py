"""--alignment expand|contract|strict, counted repairs, and --prepare mapping annotations onto prepared text."""
import json

import pytest

from spacy_clinicalbert.corpus import CorpusError, convert
from spacy_clinicalbert.text import blank_clinical

TEXT = "Given azithromycin-induced ototoxicity and hepatotoxic effects."


@pytest.fixture(scope="module")
def nlp():
    return blank_clinical()


@pytest.fixture
def jsonl(tmp_path):
    def write(text, spans):
        path = tmp_path / "t.jsonl"
        path.write_text(json.dumps({"text": text, "spans": spans}) + "\n", encoding="utf8")
        return path

    return write


def doc_of(result):
    return next(d for ds in result.docs.values() for d in ds)


SPANS = [
    {"start": 6, "end": 18, "label": "DRUG"},  # "azithromycin": a whole token
    {"start": 43, "end": 50, "label": "AE"},  # "hepatot" cut inside "hepatotoxic"
    {"start": 27, "end": 42, "label": "AE"},  # "ototoxicity and": whole tokens
    {"start": 28, "end": 37, "label": "X"},  # "totoxicit": inside one token
]


def test_expand(nlp, jsonl):
    result = convert("jsonl", jsonl(TEXT, SPANS), nlp=nlp, ratios=(1, 0, 0))
    doc = doc_of(result)
    assert {(s.text, s.label_) for s in doc.spans["entities"]} == {
        ("azithromycin", "DRUG"), ("hepatotoxic", "AE"), ("ototoxicity and", "AE"), ("ototoxicity", "X")
    }
    assert result.stats.repairs["alignment_expanded"] == 2
    # X overlaps the longer AE: set aside from doc.ents, kept in spans.
    assert "X" not in {e.label_ for e in doc.ents}


def test_contract(nlp, jsonl):
    text = "Severe chest pain today."
    spans = [{"start": 3, "end": 17, "label": "AE"}, {"start": 8, "end": 11, "label": "X"}]
    result = convert("jsonl", jsonl(text, spans), nlp=nlp, alignment="contract", ratios=(1, 0, 0))
    doc = doc_of(result)
    assert [(s.text, s.label_) for s in doc.spans["entities"]] == [("chest pain", "AE")]
    assert result.stats.repairs["alignment_contracted"] == 1
    assert result.stats.omissions["entity_unalignable_contract"] == 1
    assert result.stats.omissions["entity_unaligned"] == 1


def test_strict_names_the_record(nlp, jsonl, tmp_path):
    with pytest.raises(CorpusError, match=r"t\.jsonl:1: span 43-50 'hepatot' \(AE\) does not fall on token boundaries"):
        convert("jsonl", jsonl(TEXT, SPANS), nlp=nlp, alignment="strict")
    ok = convert("jsonl", jsonl(TEXT, SPANS[:1]), nlp=nlp, alignment="strict", ratios=(1, 0, 0))
    assert not ok.stats.repairs


def test_prepare_maps_annotations(nlp, jsonl):
    text = "Seen by [**Doctor Last Name 12**]  for   chest pain,\r\nstarted [**Known lastname 7**]'s aspirin."
    chest = text.index("chest pain")
    asp = text.index("aspirin")
    tag = text.index("[**Known")
    spans = [
        {"start": chest, "end": chest + 10, "label": "AE"},
        {"start": asp, "end": asp + 7, "label": "DRUG"},
        {"start": tag + 3, "end": tag + 9, "label": "NAME"},  # inside a tag: snaps to the placeholder
    ]
    result = convert("jsonl", jsonl(text, spans), nlp=nlp, prepare=True, ratios=(1, 0, 0))
    doc = doc_of(result)
    assert doc.text == "Seen by [NAME] for chest pain,\nstarted [NAME]'s aspirin."
    assert [(e.text, e.label_) for e in doc.ents] == [("chest pain", "AE"), ("[NAME]", "NAME"), ("aspirin", "DRUG")]
    assert result.stats.repairs["text_prepared"] == 1
