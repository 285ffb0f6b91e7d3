"""nlp.pipe groups docs for the encoder by total tokens; hidden states do not depend on it."""
import numpy
import pytest
import spacy

from spacy_clinicalbert.transformer.batching import batch_by_total_tokens

NOTES = [
    "Pt denies chest pain.",
    "Metoprolol 25 mg PO b.i.d. started for HR 112; BP 142/88, SpO2 95% on 2L NC. " * 4,
    "No acute distress.",
    "Hx of CAD s/p CABG x3, HbA1c 7.2%, eGFR 48. Denies SOB, orthopnea or PND. " * 2,
    "Afebrile.",
]


def test_groups_are_consecutive_and_within_the_budget():
    nlp = spacy.blank("en")
    docs = [nlp.make_doc(text) for text in NOTES]
    lengths = [len(doc) for doc in docs]
    groups = list(batch_by_total_tokens(docs, max_tokens=max(lengths)))
    assert [i for group in groups for i in group] == list(range(len(docs)))
    for group in groups:
        assert len(group) == 1 or sum(lengths[i] for i in group) <= max(lengths)
    assert list(batch_by_total_tokens(docs, max_tokens=sum(lengths))) == [list(range(len(docs)))]


def test_a_doc_over_the_budget_gets_a_call_of_its_own():
    nlp = spacy.blank("en")
    docs = [nlp.make_doc(text) for text in ["a b", "one two three four five six", "c"]]
    assert list(batch_by_total_tokens(docs, max_tokens=3)) == [[0], [1], [2]]
    with pytest.raises(ValueError, match="max_batch_items"):
        list(batch_by_total_tokens(docs, max_tokens=0))


def test_pipe_makes_one_call_per_group_with_the_same_hidden_states(tiny_bert):
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("clinicalbert", config={
        "model": {"name": str(tiny_bert), "window": 16, "stride": 12}, "release_trf_data": False})
    nlp.initialize()
    calls = []
    stock_predict = pipe.predict
    pipe.predict = lambda docs: calls.append(len(docs)) or stock_predict(docs)

    total = sum(len(nlp.make_doc(text)) for text in NOTES)
    pipe.cfg["max_batch_items"] = total  # fits all notes, not notes x longest note
    one_call = list(nlp.pipe(NOTES, batch_size=64))
    assert calls == [len(NOTES)]  # spacy-transformers' padded-size rule splits these

    calls.clear()
    longest = max(len(doc) for doc in one_call)
    pipe.cfg["max_batch_items"] = longest
    split = list(nlp.pipe(NOTES, batch_size=64))
    assert len(calls) > 1 and sum(calls) == len(NOTES)
    for a, b in zip(one_call, split):
        assert a.text == b.text
        mask_a = a._.trf_data.wordpieces.attention_mask.astype(bool)
        mask_b = b._.trf_data.wordpieces.attention_mask.astype(bool)
        ha = numpy.asarray(a._.trf_data.model_output.last_hidden_state)[mask_a]
        hb = numpy.asarray(b._.trf_data.model_output.last_hidden_state)[mask_b]
        numpy.testing.assert_allclose(ha, hb, atol=2e-5, rtol=1e-4)
