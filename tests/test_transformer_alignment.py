"""The batch-wide alignment gives spacy-transformers' alignment, on real notes and edge cases."""
from itertools import islice

import numpy
import pytest
import spacy
from spacy_transformers.align import get_alignment_via_offset_mapping
from spacy_transformers.layers.transformer_model import huggingface_tokenize

from spacy_clinicalbert.pretraining import iter_notes
from spacy_clinicalbert.transformer.alignment import align_windows, wordpiece_strings

EDGE_CASES = [
    "",
    "Pt can't  walk;  s/p CABG x3.\n\nHbA1c 7.2%",
    "café naïve   résumé — 5mg/kg q6h",
    "a",
    "   leading and trailing spaces   ",
    "BP 142/88,HR 112;SpO2 95%on 2L NC",
]


def mtsamples_notes(shared_data, limit: int):
    notes = iter_notes([shared_data / "mtsamples" / "mtsamples.csv"], text_field="transcription")
    return [note.text for note in islice(notes, limit)]


@pytest.fixture(scope="module")
def encoder(minilm_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={
        "model": {"name": str(minilm_path), "window": 24, "stride": 16}, "release_trf_data": False})
    nlp.initialize()
    return nlp


def windows_and_offsets(nlp, texts):
    model = nlp.get_pipe("clinicalbert").model
    docs = [nlp.make_doc(text) for text in texts]
    spans = [span for doc_spans in model.attrs["get_spans"](docs) for span in doc_spans]
    return model.tokenizer, spans, huggingface_tokenize(model.tokenizer, [s.text for s in spans])


def test_same_alignment_as_spacy_transformers(encoder, shared_data):
    texts = mtsamples_notes(shared_data, 8) + EDGE_CASES
    tokenizer, spans, encoding = windows_and_offsets(encoder, texts)
    assert len({id(s.doc) for s in spans}) == len(texts) - 1  # the empty note has no window
    expected = get_alignment_via_offset_mapping(spans, encoding["offset_mapping"])
    got = align_windows(spans, encoding["offset_mapping"])
    assert got.lengths.tolist() == expected.lengths.tolist()
    assert got.dataXd.tolist() == expected.dataXd.tolist()
    assert (got.lengths > 1).sum() > 100  # overlapping windows: tokens seen more than once


def test_wordpiece_strings_match_the_tokenizer(encoder):
    tokenizer, _, encoding = windows_and_offsets(encoder, EDGE_CASES)
    assert wordpiece_strings(tokenizer, encoding["input_ids"]) == encoding["input_texts"]


def test_no_windows_and_mismatched_batches():
    nlp = spacy.blank("en")
    empty = align_windows([], numpy.zeros((0, 0, 2), dtype="int64"))
    assert empty.lengths.shape == (0,) and empty.dataXd.shape == (0,)
    span = nlp("chest pain")[0:2]
    with pytest.raises(ValueError, match="Cannot align 1 windows with 2 offset rows"):
        align_windows([span], numpy.zeros((2, 4, 2), dtype="int64"))


def test_pipeline_output_uses_the_same_alignment(encoder, shared_data):
    """The component's own forward stores this alignment and the hidden states it indexes."""
    text = mtsamples_notes(shared_data, 1)[0]
    doc = encoder(text)
    _, spans, encoding = windows_and_offsets(encoder, [text])
    expected = get_alignment_via_offset_mapping(spans, encoding["offset_mapping"])
    assert doc._.trf_data.align.dataXd.tolist() == expected.dataXd.tolist()
    assert doc._.trf_data.wordpieces.strings == encoding["input_texts"]


def test_handmade_offsets_follow_the_stock_rules():
    """Pieces over a token's trailing space, across two tokens, or empty: the stock rules
    (a token owns the character after it unless the next token starts there)."""
    nlp = spacy.blank("en")
    doc = nlp("abc  de,f")  # tokens: abc, ' ', de, ',', f
    spans = [doc[0:3], doc[2:5]]  # overlapping windows: "abc  de", "de,f"
    offsets = numpy.array([
        [[0, 0], [0, 2], [2, 4], [3, 4], [5, 7], [0, 0]],   # [CLS] ab c+space space de [SEP]
        [[0, 0], [0, 3], [3, 4], [0, 0], [0, 0], [0, 0]],   # [CLS] de, f [SEP] pad
    ])
    expected = get_alignment_via_offset_mapping(spans, offsets)
    got = align_windows(spans, offsets)
    assert got.lengths.tolist() == expected.lengths.tolist()
    assert got.dataXd.tolist() == expected.dataXd.tolist()
