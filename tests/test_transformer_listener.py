"""spacy-clinicalbert.TransformerListener.v1: spacy-transformers' listener outputs and
gradients, from a sparse mean; pipelines saved with either listener load with the other."""
import numpy
import pytest
import spacy
from spacy.training import Example
from spacy_transformers.layers import trfs2arrays
from thinc.api import reduce_max, reduce_mean

from spacy_clinicalbert.transformer.listener import pool_wordpieces

NOTES = [
    "Pt denies chest pain.  No SOB.\n\nBP 142/88, HR 112.",
    "Metformin 500 mg po bid started; developed rash after taking lisinopril. " * 3,
    "",
    "   ",
    "History of MI in family (mother).",
]
STOCK = "spacy-transformers.TransformerListener.v1"
OURS = "spacy-clinicalbert.TransformerListener.v1"


@pytest.fixture(scope="module")
def trf_datas(tiny_bert):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={
        "model": {"name": str(tiny_bert), "window": 8, "stride": 5}, "release_trf_data": False})
    nlp.initialize()
    return [doc._.trf_data for doc in nlp.pipe(NOTES)]


@pytest.mark.parametrize("grad_factor", [1.0, 0.5])
def test_mean_pooling_and_gradients_match_the_stock_layer(trf_datas, grad_factor):
    stock = trfs2arrays(reduce_mean(), grad_factor)
    ours = pool_wordpieces(reduce_mean(), grad_factor)
    expected, stock_backprop = stock(trf_datas, is_train=True)
    got, our_backprop = ours(trf_datas, is_train=True)
    assert [a.shape for a in got] == [a.shape for a in expected]
    for a, b in zip(got, expected):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    rng = numpy.random.default_rng(0)
    d_outputs = [rng.normal(size=a.shape).astype("float32") for a in expected]
    d_expected = stock_backprop([d.copy() for d in d_outputs])
    d_got = our_backprop([d.copy() for d in d_outputs])
    assert len(d_got) == len(d_expected)
    for a, b in zip(d_got, d_expected):
        assert a.align is b.align
        numpy.testing.assert_allclose(a.model_output.last_hidden_state,
                                      b.model_output.last_hidden_state, rtol=1e-5, atol=1e-6)


def test_other_pooling_keeps_the_stock_path(trf_datas):
    no_space_tokens = [trf_datas[1], trf_datas[4]]  # the stock max pooling refuses empty rows
    expected, _ = trfs2arrays(reduce_max(), 1.0)(no_space_tokens, is_train=False)
    got, _ = pool_wordpieces(reduce_max(), 1.0)(no_space_tokens, is_train=False)
    for a, b in zip(got, expected):
        numpy.testing.assert_array_equal(a, b)


def build(tiny_bert, listener: str):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert), "window": 16, "stride": 12}})
    tok2vec = {"@architectures": listener, "grad_factor": 1.0, "upstream": "*",
               "pooling": {"@layers": "reduce_mean.v1"}}
    nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "hidden_width": 16,
        "maxout_pieces": 2, "use_upper": False, "tok2vec": tok2vec}})
    nlp.add_pipe("textcat_multilabel", config={"model": {
        "@architectures": "spacy.TextCatReduce.v1", "exclusive_classes": False, "use_reduce_first": False,
        "use_reduce_last": False, "use_reduce_max": False, "use_reduce_mean": True, "tok2vec": tok2vec}})
    return nlp


def examples(nlp):
    data = [
        ("Patient developed rash after taking aspirin.", [(18, 22, "AE"), (36, 43, "DRUG")], 1.0),
        ("Metformin 500 mg po bid.", [(0, 9, "DRUG")], 0.0),
        ("Warfarin induced bleeding.", [(0, 8, "DRUG"), (17, 25, "AE")], 1.0),
    ]
    return [Example.from_dict(nlp.make_doc(text), {"entities": ents, "cats": {"ADE": ade}})
            for text, ents, ade in data]


def test_trains_and_round_trips(tiny_bert, tmp_path):
    nlp = build(tiny_bert, OURS)
    train = examples(nlp)
    optimizer = nlp.initialize(lambda: train)
    assert set(nlp.get_pipe("clinicalbert").listener_map) == {"ner", "textcat_multilabel"}
    encoder = nlp.get_pipe("clinicalbert").model.layers[0].shims[0]._model
    before = next(encoder.parameters()).detach().clone()
    losses = {}
    for _ in range(4):
        nlp.update(train, sgd=optimizer, losses=losses)
    assert all(numpy.isfinite(v) and v > 0 for v in losses.values())
    assert not numpy.allclose(before.numpy(), next(encoder.parameters()).detach().numpy())
    nlp.to_disk(tmp_path / "ours")
    loaded = spacy.load(tmp_path / "ours")
    for a, b in zip(nlp.pipe(NOTES), loaded.pipe(NOTES)):
        assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]
        assert a.cats == pytest.approx(b.cats, abs=1e-6)


def test_pipeline_saved_with_the_stock_listener_loads_with_ours(tiny_bert, tmp_path):
    nlp = build(tiny_bert, STOCK)
    train = examples(nlp)
    optimizer = nlp.initialize(lambda: train)
    for _ in range(2):
        nlp.update(train, sgd=optimizer)
    nlp.to_disk(tmp_path / "stock")
    swap = {f"components.{name}.model.tok2vec.@architectures": OURS
            for name in ("ner", "textcat_multilabel")}
    swapped = spacy.load(tmp_path / "stock", config=swap)
    assert swapped.config["components"]["ner"]["model"]["tok2vec"]["@architectures"] == OURS
    for a, b in zip(nlp.pipe(NOTES), swapped.pipe(NOTES)):
        assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]
        assert a.cats == pytest.approx(b.cats, abs=1e-5)
