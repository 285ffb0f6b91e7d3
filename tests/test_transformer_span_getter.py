"""Windows as a span getter: `wordpiece_windows.v1` under `ClinicalBertTransformer.v2` gives v1's
model, is found through entry points, and can be swapped for spacy-transformers' windows in config."""
import subprocess
import sys

import numpy
import spacy

from spacy_clinicalbert.transformer.windows import WordpieceWindows, wordpiece_windows_v1

V2 = "spacy-clinicalbert.ClinicalBertTransformer.v2"
WINDOWS = "spacy-clinicalbert.wordpiece_windows.v1"
NOTES = [
    "Pt denies chest pain.",
    "MRN 123456789; acct 987654321-42; ICD-10 I25.10, CPT 93000. BP 142/88 HR 112. " * 12,
    "",
    "History of MI in family (mother).",
]


def v2_config(name, get_spans: dict) -> dict:
    return {"model": {"@architectures": V2, "name": str(name), "get_spans": get_spans},
            "release_trf_data": False}


def _pipeline(config: dict):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config=config)
    nlp.initialize()
    return nlp


def test_found_through_entry_points_without_import(tiny_bert):
    code = (
        "import spacy\n"
        "nlp = spacy.blank('en')\n"
        f"cfg = {v2_config(tiny_bert, {'@span_getters': WINDOWS, 'window': 20, 'stride': 15})!r}\n"
        "pipe = nlp.add_pipe('clinicalbert', config=cfg)\n"
        "spans = pipe.model.attrs['get_spans']\n"
        "print('ok', type(spans).__name__, spans.window, spans.stride, spans.max_wordpieces)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ok WordpieceWindows 20 15 512" in proc.stdout


def test_v2_with_wordpiece_windows_equals_v1(tiny_bert):
    v1 = _pipeline({"model": {"name": str(tiny_bert), "window": 24, "stride": 16}, "release_trf_data": False})
    v2 = _pipeline(v2_config(tiny_bert, {"@span_getters": WINDOWS, "window": 24, "stride": 16,
                                         "max_wordpieces": 512}))
    assert v1.config["components"]["clinicalbert"]["model"]["@architectures"].endswith(".v1")
    docs = [v1.make_doc(text) for text in NOTES]
    windows = [m.get_pipe("clinicalbert").model.attrs["get_spans"](docs) for m in (v1, v2)]
    assert [[(s.start, s.end) for s in d] for d in windows[0]] == [[(s.start, s.end) for s in d] for d in windows[1]]
    for a, b in zip(v1.pipe(NOTES), v2.pipe(NOTES)):
        ta, tb = a._.trf_data, b._.trf_data
        numpy.testing.assert_array_equal(ta.wordpieces.input_ids, tb.wordpieces.input_ids)
        numpy.testing.assert_array_equal(ta.align.lengths, tb.align.lengths)
        numpy.testing.assert_array_equal(ta.align.dataXd, tb.align.dataXd)
        assert ("last_hidden_state" in ta.model_output) == ("last_hidden_state" in tb.model_output)
        if len(a) == 0:  # an empty doc has no window and no hidden state
            continue
        numpy.testing.assert_allclose(ta.model_output.last_hidden_state, tb.model_output.last_hidden_state,
                                      atol=1e-6)


def test_windows_check_wordpieces_with_the_model_tokenizer(tiny_bert):
    nlp = _pipeline(v2_config(tiny_bert, {"@span_getters": WINDOWS, "window": 200, "stride": 150,
                                          "max_wordpieces": 64}))
    model = nlp.get_pipe("clinicalbert").model
    tokenizer = model.tokenizer
    doc = nlp(NOTES[1])
    windows = model.attrs["get_spans"]([doc])[0]
    assert len(windows) > 2  # 200-token windows had to be split to fit 64 wordpieces
    assert max(len(tokenizer(w.text)["input_ids"]) for w in windows) <= 64
    assert doc._.trf_data.wordpieces.input_ids.shape[1] <= 64


def test_swapped_for_strided_spans_in_config(tiny_bert, tmp_path):
    strided = {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 8, "stride": 6}
    nlp = _pipeline(v2_config(tiny_bert, strided))
    get_spans = nlp.get_pipe("clinicalbert").model.attrs["get_spans"]
    assert not isinstance(get_spans, WordpieceWindows)
    doc = nlp(NOTES[3])
    assert [(s.start, s.end) for s in get_spans([doc])[0]] == [(0, 8), (6, 9)]
    assert doc._.trf_data.wordpieces.input_ids.shape[0] == 2
    nlp.to_disk(tmp_path / "strided")
    loaded = spacy.load(tmp_path / "strided")
    again = loaded(NOTES[3])
    assert loaded.config["components"]["clinicalbert"]["model"]["get_spans"]["window"] == 8
    numpy.testing.assert_allclose(again._.trf_data.model_output.last_hidden_state,
                                  doc._.trf_data.model_output.last_hidden_state, atol=1e-5)


def test_registered_function_builds_the_windows():
    windows = wordpiece_windows_v1(window=10, stride=5, max_wordpieces=32)
    assert isinstance(windows, WordpieceWindows)
    assert (windows.window, windows.stride, windows.max_wordpieces) == (10, 5, 32)
    assert spacy.util.registry.span_getters.get(WINDOWS) is wordpiece_windows_v1
