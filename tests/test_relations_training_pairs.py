"""The training-pair policy of `clinical_relations` (`relation_training_pairs.v1`): the
factory default is the recommended setup, the component's older top-level settings still
configure it (and win over the block), docs that do not annotate relations teach nothing,
and gold entities reach the predicted tokens by spaCy's alignment, the same way for the
training candidates and the gold-entity augmenter."""
import random

import numpy
import pytest
import spacy
from relations_synthetic import TOK2VEC, relation_config, synthetic_docs, with_gold_entities
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import registry

from spacy_clinicalbert.layers import ENTITIES, set_layers
from spacy_clinicalbert.relations import add_relation, copy_gold_entities, relation_component
from spacy_clinicalbert.relations.alignment import align_gold_spans
from spacy_clinicalbert.relations.candidates import CandidateGenerator
from spacy_clinicalbert.relations.reachability import count_reachable, split_reachable
from spacy_clinicalbert.relations.training_pairs import TrainingPairs

RECOMMENDED = {"entities": "gold+predicted", "max_predicted_entities": 64, "boundary_negatives": 2,
               "negative_ratio": -1.0}


def _policy(**config):
    nlp = spacy.blank("en")
    return nlp.add_pipe("clinical_relations", config=config).training_pairs


def test_factory_default_is_the_recommended_policy():
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_relations")
    assert nlp.get_pipe("clinical_relations").training_pairs.to_cfg() == RECOMMENDED
    block = nlp.config["components"]["clinical_relations"]
    assert block["training_pairs"]["@misc"] == "spacy-clinicalbert.relation_training_pairs.v1"
    assert block["training_entities"] is None and block["negative_ratio"] is None
    assert registry.misc.get("spacy-clinicalbert.relation_training_pairs.v1")().to_cfg() == RECOMMENDED


def test_older_top_level_settings_configure_the_policy_and_win():
    legacy = _policy(training_entities="gold", boundary_negatives=0, negative_ratio=1.0)
    assert legacy.to_cfg() == dict(RECOMMENDED, entities="gold", boundary_negatives=0, negative_ratio=1.0)
    block = {"@misc": "spacy-clinicalbert.relation_training_pairs.v1", "entities": "predicted",
             "max_predicted_entities": 5}
    both = _policy(training_pairs=block, max_predicted_entities=7)
    assert both.to_cfg() == dict(RECOMMENDED, entities="predicted", max_predicted_entities=7)
    with pytest.raises(ValueError, match="training_entities"):
        _policy(training_pairs={**block, "entities": "silver"})


def _train(config, n_docs=48, epochs=2):
    spacy.util.fix_random_seed(0)
    random.seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_relations", config=config)
    examples = with_gold_entities(synthetic_docs(nlp.vocab, n_docs, seed=1))
    optimizer = nlp.initialize(lambda: examples)
    losses = []
    for _ in range(epochs):
        for i in range(0, len(examples), 16):
            got = {}
            nlp.update(examples[i:i + 16], sgd=optimizer, losses=got)
            losses.append(got["clinical_relations"])
    return nlp, losses


@pytest.mark.parametrize("settings", [
    {"training_entities": "gold+predicted", "boundary_negatives": 2},
    {"negative_ratio": 1.0, "max_predicted_entities": 1},
])
def test_legacy_config_trains_as_the_block_does_and_survives_saving(settings, tmp_path, no_network):
    nlp, old = _train(relation_config(TOK2VEC, legacy=True, **settings))
    _, new = _train(relation_config(TOK2VEC, **settings))
    assert old == new and old[-1] < old[0]
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    policy = loaded.get_pipe("clinical_relations").training_pairs
    assert policy.to_cfg() == nlp.get_pipe("clinical_relations").training_pairs.to_cfg()


def test_docs_not_annotating_relations_give_no_pairs_and_no_loss(monkeypatch):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_relations", config=relation_config(TOK2VEC, training_entities="gold+predicted",
                                                               boundary_negatives=2))
    examples = with_gold_entities(synthetic_docs(nlp.vocab, 8, seed=1))
    optimizer = nlp.initialize(lambda: examples)
    rel = nlp.get_pipe("clinical_relations")
    for eg in examples:
        set_layers(eg.reference, {ENTITIES})  # entities annotated, relations missing
    assert rel.training_pairs(examples, rel.candidates, rel.type_pairs()) == [[]] * len(examples)
    rates = []
    original = relation_component.set_dropout_rate
    monkeypatch.setattr(relation_component, "set_dropout_rate",
                        lambda model, drop: (rates.append(drop), original(model, drop)))
    assert rel.update(examples, drop=0.3, sgd=optimizer)["clinical_relations"] == 0.0
    assert rates == [0.3]
    # get_loss masks them too, whatever pairs it is handed.
    pairs, probs = rel.predict([eg.predicted for eg in examples])
    assert len(pairs) > 0
    loss, grad = rel.get_loss(examples, (pairs, probs))
    assert loss == 0.0 and not grad.any()


def test_negative_sampling_keeps_every_positive():
    random.seed(0)
    positive = numpy.asarray([True, False, False, True, False, False, False, False])
    keep = TrainingPairs(negative_ratio=0.5).sample_negatives(positive)
    assert list(keep) == sorted(keep) and {0, 3} <= set(keep.tolist()) and len(keep) == 3
    assert TrainingPairs(negative_ratio=-1).sample_negatives(positive) is None


def _example(gold_words, gold_spaces, pred_words, pred_spaces, ents):
    vocab = spacy.blank("en").vocab
    ref = Doc(vocab, words=gold_words, spaces=gold_spaces)
    spans = [Span(ref, a, b, label) for a, b, label in ents]
    ref.ents = spans
    add_relation(ref, spans[1], spans[0], "ADE")
    return Example(Doc(vocab, words=pred_words, spaces=pred_spaces), ref)


def test_gold_entities_reach_other_tokens_one_way():
    # Finer predicted tokens: "skin-rash" becomes three tokens and still maps.
    finer = _example(["severe", "skin-rash", "after", "aspirin"], [True, True, True, False],
                     ["severe", "skin", "-", "rash", "after", "aspirin"], [True, False, False, True, True, False],
                     [(1, 2, "AE"), (3, 4, "DRUG")])
    # A coarser predicted token ("rash." for "rash" "."): the gold span cannot be cut out.
    coarser = _example(["aspirin", "caused", "rash", "."], [True, True, False, False],
                       ["aspirin", "caused", "rash."], [True, True, False],
                       [(0, 1, "DRUG"), (2, 3, "AE")])
    policy = TrainingPairs(entities="gold", boundary_negatives=0)
    gen = CandidateGenerator(sentence_window=-1)
    for eg, expected, skipped in ((finer, [(1, 4, "AE"), (5, 6, "DRUG")], 0), (coarser, [(0, 1, "DRUG")], 1)):
        ents, n_skipped = policy.candidate_entities(eg, gen)
        assert [(s.start, s.end, s.label_) for s in ents] == expected and n_skipped == skipped
        assert all(s.doc is eg.predicted for s in ents)
        copied = copy_gold_entities(eg).predicted
        assert [(s.start, s.end, s.label_) for s in copied.ents] == expected
        aligned = align_gold_spans(eg, eg.reference.ents)
        assert [(s.start, s.end, s.label_) for s in aligned] == expected
    pairs = policy([finer], gen, {("DRUG", "AE")})
    assert [(h.text, t.text) for h, t in pairs[0]] == [("aspirin", "skin-rash")]


def test_reachability_counts_pairs_the_generator_produces():
    vocab = spacy.blank("en").vocab
    doc = Doc(vocab, words="aspirin gave rash and far far away nausea".split())
    a, r, n = Span(doc, 0, 1, "DRUG"), Span(doc, 2, 3, "AE"), Span(doc, 7, 8, "AE")
    doc.ents = [a, r, n]
    add_relation(doc, a, r, "ADE")
    add_relation(doc, a, n, "ADE")
    add_relation(doc, r, a, "LINK")
    gen = CandidateGenerator(max_distance=3, sentence_window=-1)
    reached, missed = split_reachable(doc, gen, {("DRUG", "AE")})
    assert [(x.tail.text, x.label) for x in reached] == [("rash", "ADE")]
    assert len(missed) == 2
    reached, _ = split_reachable(doc, gen, {("DRUG", "AE")}, symmetric_labels=["LINK"])
    assert len(reached) == 2
    reach = count_reachable([doc, doc], gen, {("DRUG", "AE")})
    assert (reach.reachable, reach.gold, reach.docs) == (2, 6, 2)
    assert reach.share == pytest.approx(1 / 3)
