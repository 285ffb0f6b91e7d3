"""Length-sorted inference: same hidden states for every real wordpiece, fewer padded positions."""
import numpy
import pytest
import spacy
import torch

from spacy_clinicalbert.transformer.length_sorting import PATCH_ATTR, plan_chunks

TEXTS = [
    "Pt denies chest pain.",
    "Metoprolol 25 mg PO b.i.d. was started on 3/14 for HR 112; BP 142/88, SpO2 95% on 2L NC. " * 6,
    "No acute distress.",
    "Hx of CAD s/p CABG x3, HbA1c 7.2%, eGFR 48. Denies SOB, orthopnea or PND. " * 3,
]


def test_chunks_cover_every_row_once_longest_first():
    lengths = [12, 130, 7, 130, 64, 1, 90, 128]
    chunks = plan_chunks(lengths, chunk_wordpieces=260)
    flat = [i for chunk in chunks for i in chunk]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for chunk in chunks:
        assert len(chunk) == 1 or len(chunk) * lengths[chunk[0]] <= 260
    assert chunks == [[1, 3], [7, 6], [4, 0, 2, 5]]  # 2x130 | 128+90 | 64+12+7+1 (4x64 <= 260)


def test_a_row_longer_than_the_budget_gets_its_own_chunk():
    assert plan_chunks([600, 5, 4], chunk_wordpieces=100) == [[0], [1, 2]]


def _hidden(nlp, texts):
    return [doc._.trf_data for doc in nlp.pipe(texts)]


@pytest.mark.parametrize("encoder", ["tiny_bert", "minilm_path"])
def test_sorted_chunks_match_the_padded_batch(request, encoder):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={
        "model": {"name": str(request.getfixturevalue(encoder)), "window": 24, "stride": 16,
                  "inference_chunk_wordpieces": 0},
        "release_trf_data": False,
    })
    nlp.initialize()
    model = nlp.get_pipe("clinicalbert").model
    baseline = _hidden(nlp, TEXTS)
    module = model.layers[0].shims[0]._model
    assert "forward" not in module.__dict__

    calls = []
    module.embeddings.register_forward_pre_hook(
        lambda _module, args, kwargs: calls.append(kwargs["input_ids"].numel()), with_kwargs=True)
    model.attrs["inference_chunk_wordpieces"] = 0
    _hidden(nlp, TEXTS)
    padded_positions = sum(calls)
    calls.clear()
    model.attrs["inference_chunk_wordpieces"] = 64
    sorted_run = _hidden(nlp, TEXTS)
    assert getattr(module, PATCH_ATTR) == 64
    assert len(calls) > 1, "the windows were not split into chunks"
    assert sum(calls) < padded_positions

    for before, after in zip(baseline, sorted_run):
        mask = before.wordpieces.attention_mask.astype(bool)
        old = numpy.asarray(before.model_output.last_hidden_state)
        new = numpy.asarray(after.model_output.last_hidden_state)
        assert old.shape == new.shape
        numpy.testing.assert_allclose(new[mask], old[mask], atol=2e-5, rtol=1e-4)

    model.attrs["inference_chunk_wordpieces"] = 0
    _hidden(nlp, TEXTS[:1])
    assert "forward" not in module.__dict__


def test_training_keeps_the_single_padded_call(tiny_bert):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert), "window": 24, "stride": 16,
                                                   "inference_chunk_wordpieces": 64}})
    nlp.initialize()
    model = nlp.get_pipe("clinicalbert").model
    nlp("Warm up so the encoder is patched.")
    module = model.layers[0].shims[0]._model
    calls = []
    module.embeddings.register_forward_pre_hook(lambda *_: calls.append(1))
    docs = [nlp.make_doc(t) for t in TEXTS]
    with torch.enable_grad():
        model.begin_update(docs)
    assert len(calls) == 1
