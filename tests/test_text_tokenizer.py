"""The clinical tokenizer: clinical rules, registry lookup by name, and a saved pipeline that keeps them."""
import pytest
import spacy

from spacy_clinicalbert.text import blank_clinical, prepare_clinical_text
from spacy_clinicalbert.text.tokenizer import with_spacy_whitespace_rules

CASES = [
    ("Started 5mg po b.i.d. for pain.", ["Started", "5", "mg", "po", "b.i.d.", "for", "pain", "."]),
    ("s/p CABG x3, SOB 2/2 CHF", ["s/p", "CABG", "x", "3", ",", "SOB", "2/2", "CHF"]),
    ("S/P fall, 65 y/o M w/o c/o n/v", ["S/P", "fall", ",", "65", "y/o", "M", "w/o", "c/o", "n/v"]),
    ("10mcg/kg q6h, 0.5mL, 20units", ["10", "mcg", "/", "kg", "q6h", ",", "0.5", "mL", ",", "20", "units"]),
    ("BP 120/80 on 3/14/2020, Hgb 7.2->8.1", ["BP", "120/80", "on", "3/14/2020", ",", "Hgb", "7.2", "->", "8.1"]),
    ("Aspirin 81mg q.d. (p.r.n.)", ["Aspirin", "81", "mg", "q.d.", "(", "p.r.n.", ")"]),
    ("[NAME] saw [DATE], Dr. [NAME].", ["[NAME]", "saw", "[DATE]", ",", "Dr.", "[NAME]", "."]),
    ("xylitol x-ray", ["xylitol", "x", "-", "ray"]),
]


@pytest.fixture(scope="module")
def nlp():
    return blank_clinical()


@pytest.mark.parametrize("text,tokens", CASES)
def test_clinical_rules(nlp, text, tokens):
    assert [t.text for t in nlp(text)] == tokens


def test_differs_from_plain_english(nlp):
    plain = spacy.blank("en")
    text = "s/p CABG x3 b.i.d."
    assert [t.text for t in plain(text)] != [t.text for t in nlp(text)]


def test_registered_by_name_in_config():
    nlp = spacy.blank(
        "en", config={"nlp": {"tokenizer": {"@tokenizers": "spacy-clinicalbert.ClinicalTokenizer.v1"}}}
    )
    assert [t.text for t in nlp("s/p x3")] == ["s/p", "x", "3"]


def test_entry_point_declared():
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="spacy_tokenizers")}
    assert "spacy-clinicalbert.ClinicalTokenizer.v1" in names


def test_saved_pipeline_tokenizes_alike(nlp, tmp_path):
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.config["nlp"]["tokenizer"]["@tokenizers"] == "spacy-clinicalbert.ClinicalTokenizer.v1"
    for text, tokens in CASES:
        assert [t.text for t in loaded(text)] == tokens
    restored = blank_clinical()
    restored.tokenizer.from_bytes(nlp.tokenizer.to_bytes())
    assert [t.text for t in restored("q.i.d. s/p x2")] == ["q.i.d.", "s/p", "x", "2"]


def test_placeholders_from_preparation_are_single_tokens(nlp):
    prep = prepare_clinical_text("Seen by [**Doctor Last Name 12**] on [**2150-3-4**].")
    assert [t.text for t in nlp(prep.text)] == ["Seen", "by", "[NAME]", "on", "[DATE]", "."]


WHITESPACE_TEXTS = [
    "Pain  resolved.\tNo fever.\n\nPlan: f/u  in 2 wk.",
    "  leading and trailing  ",
    "tabs\t\tand\u00a0non-breaking\u00a0spaces,\r\nWindows lines",
    " \n \t ",
]
ATTRS = ["ORTH", "NORM", "LOWER", "SHAPE", "SPACY", "IS_SPACE", "LIKE_NUM", "IS_PUNCT"]


def test_whitespace_rules_left_out_with_the_same_tokens(nlp, shared_data):
    """Leaving out the whitespace rules (which switch the cache off) changes no token or attribute:
    600 MTSamples transcriptions (double spaces after every sentence) and whitespace edge cases."""
    from itertools import islice

    from spacy_clinicalbert.pretraining import iter_notes

    assert not {" ", "\t", "\n"} & set(nlp.tokenizer.rules)
    assert "\u00a0" in nlp.tokenizer.rules  # it sets a NORM, so it stays
    before = with_spacy_whitespace_rules(nlp.tokenizer)
    assert set(before.rules) == set(nlp.tokenizer.rules) | {" ", "\t", "\n"}
    notes = iter_notes([shared_data / "mtsamples" / "mtsamples.csv"], text_field="transcription")
    texts = WHITESPACE_TEXTS + [note.text for note in islice(notes, 600)]
    assert len(texts) == 604
    for text in texts:
        ours, theirs = nlp.tokenizer(text), before(text)
        assert [t.text_with_ws for t in ours] == [t.text_with_ws for t in theirs], text[:80]
        assert (ours.to_array(ATTRS) == theirs.to_array(ATTRS)).all(), text[:80]


def test_loaded_pipeline_drops_saved_whitespace_rules(nlp, tmp_path):
    """A pipeline saved with the whitespace rules (by an earlier release) loads without them."""
    nlp.tokenizer.rules = {**nlp.tokenizer.rules, " ": [{"ORTH": " "}], "\n": [{"ORTH": "\n"}]}
    try:
        nlp.to_disk(tmp_path / "saved")
    finally:
        nlp.tokenizer.rules = {k: v for k, v in nlp.tokenizer.rules.items() if k not in (" ", "\n")}
    loaded = spacy.load(tmp_path / "saved")
    assert type(loaded.tokenizer).__name__ == "ClinicalTokenizer"
    assert not {" ", "\n"} & set(loaded.tokenizer.rules)
    assert loaded.tokenizer.rules == nlp.tokenizer.rules
