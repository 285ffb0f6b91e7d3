"""clinical_sentences against spaCy's sentencizer on hand-marked clinical sentence breaks."""
from pathlib import Path

import pytest
import spacy

from spacy_clinicalbert.rules.sentence_eval import predicted_starts, read_sentence_cases, score_boundaries

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def score(splitter: str, case_file: str) -> dict:
    nlp = spacy.blank("en")
    nlp.add_pipe(splitter)
    cases = read_sentence_cases(ASSETS / case_file)
    return score_boundaries((c.starts, predicted_starts(nlp(c.text))) for c in cases)


@pytest.mark.parametrize("case_file", ["clinical_sentence_breaks.txt", "clinical_sentence_breaks_heldout.txt"])
def test_clinical_rules_beat_sentencizer(case_file):
    ours, stock = score("clinical_sentences", case_file), score("sentencizer", case_file)
    assert ours["f1"] >= 0.95, ours
    assert ours["f1"] > stock["f1"] + 0.15, (ours, stock)


def test_lists_abbreviations_and_headers():
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_sentences")
    doc = nlp("MEDICATIONS:\n1. Aspirin 81 mg p.o. daily.\n2. Seen by Dr. Patel q.d. He agrees.")
    assert [s.text.strip() for s in doc.sents] == [
        "MEDICATIONS:", "1. Aspirin 81 mg p.o. daily.", "2. Seen by Dr. Patel q.d.", "He agrees."]


def test_case_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "cases.txt"
    bad.write_text("stray text\n=== a\nA. ||B.\n", encoding="utf8")
    with pytest.raises(ValueError, match=r"cases.txt:1: text before"):
        read_sentence_cases(bad)


def test_empty_doc_and_config_round_trip():
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_sentences", config={"titles": ["dr", "capt"]})
    assert len(nlp("")) == 0
    nlp2 = spacy.blank("en").from_config(nlp.config)
    assert nlp2.get_pipe("clinical_sentences").titles == {"dr", "capt"}
    assert [s.text for s in nlp2("Seen by Capt. Smith. Fine.").sents] == ["Seen by Capt. Smith.", "Fine."]
