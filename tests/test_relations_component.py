"""`clinical_relations`: learns a synthetic task where all-pairs is wrong (tiny BERT
through the transformer listener, and a tok2vec), serializes, handles empty docs and
batches without candidates, runs in two processes, and `spacy evaluate` prints it."""
import random

import numpy
import pytest
import spacy
from relations_synthetic import (
    TOK2VEC,
    relation_config,
    synthetic_docs,
    with_gold_entities,
)
from spacy.tokens import DocBin, Span
from spacy.training import Example

from spacy_clinicalbert.relations import get_relations
from spacy_clinicalbert.relations.pair_set import PairSet
from spacy_clinicalbert.relations.relation_component import RelationExtractor
from spacy_clinicalbert.relations.relation_model import PairBatch

PATTERNS = [{"label": "DRUG", "pattern": w} for w in "aspirin metformin lisinopril warfarin".split()] + [
    {"label": "AE", "pattern": w} for w in "rash nausea vomiting headache bleeding fever".split()
]


def train(nlp, examples, epochs, batch_size=16, seed=0):
    rng = random.Random(seed)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(epochs):
        rng.shuffle(examples)
        for i in range(0, len(examples), batch_size):
            nlp.update(examples[i:i + batch_size], sgd=optimizer)
    return nlp


def tok2vec_pipeline(**settings):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_relations", config=relation_config(TOK2VEC, **settings))
    return nlp


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tok2vec relation pipeline trained on the synthetic task, plus an entity ruler."""
    spacy.util.fix_random_seed(0)
    nlp = tok2vec_pipeline()
    train(nlp, with_gold_entities(synthetic_docs(nlp.vocab, 240, seed=1)), epochs=6)
    ruler = nlp.add_pipe("entity_ruler", before="clinical_relations")
    ruler.add_patterns(PATTERNS)
    return nlp


def test_tiny_bert_learns_what_all_pairs_gets_wrong(tiny_bert):
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    nlp.add_pipe("clinical_relations", config=relation_config())
    train(nlp, with_gold_entities(synthetic_docs(nlp.vocab, 240, seed=1)), epochs=8)
    scores = nlp.evaluate(with_gold_entities(synthetic_docs(nlp.vocab, 80, seed=2)))
    # All-pairs predicts both drugs for the AE: precision 0.5, F1 2/3.
    assert scores["rel_floor_micro_f"] == pytest.approx(2 / 3)
    assert scores["rel_micro_f"] >= 0.9


@pytest.mark.parametrize("settings", [{"multi_label": True}, {"negative_ratio": 1.0}])
def test_tok2vec_sigmoid_and_negative_sampling(settings):
    spacy.util.fix_random_seed(0)
    nlp = tok2vec_pipeline(**settings)
    train(nlp, with_gold_entities(synthetic_docs(nlp.vocab, 240, seed=1)), epochs=6)
    scores = nlp.evaluate(with_gold_entities(synthetic_docs(nlp.vocab, 80, seed=2)))
    assert scores["rel_micro_f"] >= 0.9 > scores["rel_floor_micro_f"]


def test_initialize_learns_labels_and_type_pairs(trained):
    rel = trained.get_pipe("clinical_relations")
    assert rel.labels == ("ADE",)
    assert rel.cfg["entity_labels"] == ["AE", "DRUG"]
    assert rel.cfg["type_pairs"] == [["DRUG", "AE", "ADE", 240]]
    assert rel.floor_labels() == {("DRUG", "AE"): "ADE"}
    assert rel.cfg["gold_reachable"] == [240, 240]


def _relations(doc):
    return sorted((r.head.start, r.tail.start, r.label, round(r.score, 5)) for r in get_relations(doc))


TEXTS = [
    "warfarin induced rash and aspirin was given",
    "patient developed nausea after taking metformin ; lisinopril daily",
]


def test_serialization_round_trip(trained, tmp_path, no_network):
    expected = [_relations(doc) for doc in trained.pipe(TEXTS)]
    assert all(expected)
    trained.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert [_relations(doc) for doc in loaded.pipe(TEXTS)] == expected
    clone = tok2vec_pipeline()
    clone.add_pipe("entity_ruler", before="clinical_relations")
    clone.from_bytes(trained.to_bytes())
    clone.get_pipe("entity_ruler").add_patterns(PATTERNS)  # the ruler's bytes do not carry them
    assert [_relations(doc) for doc in clone.pipe(TEXTS)] == expected
    assert clone.get_pipe("clinical_relations").cfg == trained.get_pipe("clinical_relations").cfg


def test_empty_docs_and_batches_without_candidates(trained):
    texts = ["", "aspirin", "no entities here", "rash and nausea", TEXTS[0]]
    docs = list(trained.pipe(texts, batch_size=2))
    assert [len(get_relations(d)) for d in docs[:4]] == [0, 0, 0, 0]
    assert get_relations(docs[4])
    rel = trained.get_pipe("clinical_relations")
    pairs, probs = rel.predict([trained.make_doc("aspirin only")])
    assert len(pairs) == 0 and probs.shape == (0, 2)  # softmax: no-relation + ADE
    # Training on a batch with no candidate pair at all: zero loss, no error.
    losses = rel.update(_no_candidate_examples(trained))
    assert losses["clinical_relations"] == 0.0


def _no_candidate_examples(nlp):
    doc = nlp.make_doc("aspirin was given")
    doc.ents = [Span(doc, 0, 1, "DRUG")]
    return [Example(nlp.make_doc("aspirin was given"), doc), Example(nlp.make_doc(""), nlp.make_doc(""))]


def test_no_candidate_batch_still_backprops_to_the_transformer(tiny_bert):
    """The last listener triggers the transformer's update, so a batch without pairs
    must still call backprop (with zero gradients) rather than skip it."""
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    nlp.add_pipe("clinical_relations", config=relation_config())
    optimizer = nlp.initialize(lambda: with_gold_entities(synthetic_docs(nlp.vocab, 8, seed=1)))
    trf = nlp.get_pipe("clinicalbert")
    calls = []
    original = trf.finish_update
    trf.finish_update = lambda sgd: (calls.append(1), original(sgd))
    # (No empty doc here: the clinicalbert windows fail on one, a transformer issue.)
    nlp.update(_no_candidate_examples(nlp)[:1], sgd=optimizer)
    assert calls == [1]
    docs = list(nlp.pipe(["aspirin was given", "no entities", TEXTS[0]]))
    assert [len(get_relations(d)) for d in docs[:2]] == [0, 0]


def test_symmetric_labels_written_once_in_offset_order(trained):
    rel = RelationExtractor(
        trained.vocab, trained.get_pipe("clinical_relations").model, "x",
        candidates=trained.get_pipe("clinical_relations").candidates, symmetric_labels=["ADE"],
        multi_label=True,
    )
    rel.cfg["labels"] = ["ADE"]
    doc = trained.make_doc("aspirin and warfarin")
    a, w = Span(doc, 0, 1, "DRUG"), Span(doc, 2, 3, "DRUG")
    pairs = PairSet([[(a, w), (w, a)]], PairBatch.from_rows([(0, 0, 1, 2, 3, 0, 0), (0, 2, 3, 0, 1, 0, 0)]))
    rel.set_annotations([doc], (pairs, numpy.asarray([[0.7], [0.9]], dtype="f")))
    rels = get_relations(doc)
    assert [(r.head.start, r.tail.start, r.score) for r in rels] == [(0, 2, pytest.approx(0.9))]


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="training_entities"):
        tok2vec_pipeline(training_entities="silver")
    with pytest.raises(ValueError, match="threshold"):
        tok2vec_pipeline(threshold=1.5)


def test_two_processes_match_one(trained):
    texts = TEXTS * 4
    one = [_relations(d) for d in trained.pipe(texts)]
    two = [_relations(d) for d in trained.pipe(texts, n_process=2, batch_size=2)]
    assert two == one and all(one)


def test_spacy_evaluate_prints_relation_scores(trained, tmp_path, capsys):
    from spacy.cli.evaluate import evaluate

    trained.to_disk(tmp_path / "model")
    gold = synthetic_docs(trained.vocab, 40, seed=3)
    DocBin(docs=gold, store_user_data=True).to_disk(tmp_path / "dev.spacy")
    scores = evaluate(str(tmp_path / "model"), tmp_path / "dev.spacy", spans_key="rel", silent=False)
    out = capsys.readouterr().out
    assert "SPAN F" in out and "ALL-PAIRS FLOOR (micro)" in out and "ADE" in out
    assert scores["rel_micro_f"] >= 0.9 and scores["rel_floor_micro_f"] == pytest.approx(2 / 3)


def test_boundary_model_with_boundary_negatives_learns_the_task():
    spacy.util.fix_random_seed(0)
    nlp = tok2vec_pipeline(architecture="spacy-clinicalbert.RelationModel.v2", boundary_negatives=2)
    train(nlp, with_gold_entities(synthetic_docs(nlp.vocab, 240, seed=1)), epochs=6)
    scores = nlp.evaluate(with_gold_entities(synthetic_docs(nlp.vocab, 80, seed=2)))
    assert scores["rel_micro_f"] >= 0.9 > scores["rel_floor_micro_f"]
    # 3 head/tail blocks + 8 boundary tokens of width 48, 2 labels of 32, 3 sizes of 16.
    assert nlp.get_pipe("clinical_relations").model.layers[1].layers[0].get_dim("nI") == 11 * 48 + 64 + 48


def test_boundary_negatives_shift_one_boundary_and_keep_the_label():
    random.seed(0)
    nlp = tok2vec_pipeline(boundary_negatives=4)
    rel = nlp.get_pipe("clinical_relations")
    doc = nlp.make_doc("severe skin rash after warfarin today")
    gold = [Span(doc, 1, 3, label="AE"), Span(doc, 4, 5, label="DRUG")]
    shifted = rel.training_pairs.boundary_negatives(doc, gold)
    got = sorted((s.start, s.end, s.label_) for s in shifted)
    assert got == [(0, 3, "AE"), (1, 2, "AE"), (1, 4, "AE"), (2, 3, "AE"),
                   (3, 5, "DRUG"), (4, 6, "DRUG")]
    assert tok2vec_pipeline().get_pipe("clinical_relations").training_pairs.boundary_negatives(doc, gold) == []


def test_predicted_training_entities_are_capped_per_doc():
    random.seed(0)
    rel = tok2vec_pipeline(max_predicted_entities=3).get_pipe("clinical_relations")
    doc = spacy.blank("en").make_doc("a b c d e f g h")
    spans = [Span(doc, i, i + 1, label="AE") for i in range(8)]
    kept = rel.training_pairs.limit_predicted(spans)
    assert len(kept) == 3 and all(s in spans for s in kept)
    assert kept == sorted(kept, key=lambda s: s.start)
    assert tok2vec_pipeline(max_predicted_entities=-1).get_pipe("clinical_relations").training_pairs.limit_predicted(spans) == spans
