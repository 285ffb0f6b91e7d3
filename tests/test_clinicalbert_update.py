"""`ClinicalBert.update` leaves the batch's encoder output on the docs, so a recognizer that
annotates during training reads real features and the encoder runs once per step."""
import pytest
import spacy
from spacy.training import Example
from spacy_transformers.layers import TransformerListener
from spacy_transformers.layers.listener import forward as listener_forward

LISTENER = {"@architectures": "spacy-clinicalbert.TransformerListener.v1", "grad_factor": 1.0,
            "upstream": "clinicalbert", "pooling": {"@layers": "reduce_mean.v1"}}
NER_MODEL = {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner",
             "extra_state_tokens": False, "hidden_width": 16, "maxout_pieces": 2,
             "use_upper": False, "tok2vec": LISTENER}
TEXTS = [("patient developed rash after aspirin", [(18, 22, "AE"), (29, 36, "DRUG")]),
         ("no nausea on ibuprofen today", [(3, 9, "AE"), (13, 22, "DRUG")])]


@pytest.fixture
def pipeline(tiny_bert):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    nlp.add_pipe("ner", config={"model": NER_MODEL})
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TEXTS]
    optimizer = nlp.initialize(lambda: examples)
    return nlp, examples, optimizer


def _encoder_calls_and_features(nlp, examples, optimizer, annotates):
    """(encoder module calls, whether every doc ner annotated had doc._.trf_data) for one update."""
    calls = []
    handle = nlp.get_pipe("clinicalbert").model.transformer.register_forward_hook(
        lambda *args: calls.append(1))
    listener = next(layer for layer in nlp.get_pipe("ner").model.walk()
                    if isinstance(layer, TransformerListener))
    seen = []

    def forward(model, docs, is_train):
        if not is_train:  # ner annotating the batch after its update
            seen.extend(doc._.trf_data is not None for doc in docs)
        return listener_forward(model, docs, is_train)

    listener.replace_callbacks(forward)
    try:
        nlp.update(examples, sgd=optimizer, annotates=annotates, losses={})
    finally:
        handle.remove()
        listener.replace_callbacks(listener_forward)
    return len(calls), seen


def test_annotating_recognizer_reads_the_training_forward(pipeline):
    nlp, examples, optimizer = pipeline
    alone, seen_alone = _encoder_calls_and_features(nlp, examples, optimizer, [])
    ner_only, seen = _encoder_calls_and_features(nlp, examples, optimizer, ["ner"])
    twice, _ = _encoder_calls_and_features(nlp, examples, optimizer, ["clinicalbert", "ner"])
    assert seen_alone == []
    # Without the features on the docs, spacy-transformers' listener would give ner zeros.
    assert seen == [True, True]
    assert alone >= 1 and ner_only == alone
    assert twice > alone  # annotating the encoder too encodes the batch a second time


def test_features_left_on_the_docs_are_the_batch_outputs(pipeline):
    nlp, examples, optimizer = pipeline
    docs = [eg.predicted for eg in examples]
    nlp.get_pipe("clinicalbert").update(examples, sgd=None, losses={})
    for doc in docs:
        data = doc._.trf_data
        assert data is not None and data.align.lengths.shape[0] == len(doc)
    # The listener's backprop has not run: finish the step so the next test starts clean.
    nlp.get_pipe("ner").update(examples, sgd=optimizer, losses={})
