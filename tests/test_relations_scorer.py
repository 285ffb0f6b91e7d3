"""The relation scorer against counts made by hand: end to end (missed entities are
false negatives, wrong boundaries are both), gold-entity mode, the all-pairs floor,
symmetric labels and the `spacy evaluate` mirror keys."""
import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example

from spacy_clinicalbert.relations import add_relation
from spacy_clinicalbert.relations.candidates import CandidateGenerator
from spacy_clinicalbert.relations.scorer import make_relation_scorer, score_relations

TEXT = "warfarin induced severe bleeding and aspirin caused rash"
#        0        1       2      3        4   5       6      7


@pytest.fixture
def nlp():
    return spacy.blank("en")


def gold_doc(nlp):
    doc = nlp(TEXT)
    warf, bleed = Span(doc, 0, 1, "DRUG"), Span(doc, 2, 4, "AE")
    asp, rash = Span(doc, 5, 6, "DRUG"), Span(doc, 7, 8, "AE")
    doc.ents = [warf, bleed, asp, rash]
    add_relation(doc, warf, bleed, "ADE")
    add_relation(doc, asp, rash, "ADE")
    return doc


def predicted_doc(nlp):
    """NER found warfarin, 'bleeding' (wrong boundary: gold is 'severe bleeding'),
    aspirin, and missed 'rash'. The model related warfarin->bleeding (wrong entity)
    and aspirin->bleeding (wrong pair)."""
    doc = nlp(TEXT)
    warf, bleed, asp = Span(doc, 0, 1, "DRUG"), Span(doc, 3, 4, "AE"), Span(doc, 5, 6, "DRUG")
    doc.ents = [warf, bleed, asp]
    add_relation(doc, warf, bleed, "ADE", 0.9)
    add_relation(doc, asp, bleed, "ADE", 0.6)
    return doc


def test_end_to_end_counts_missed_and_wrong_boundary(nlp):
    eg = Example(predicted_doc(nlp), gold_doc(nlp))
    s = score_relations([eg])
    # Gold: (warf, severe bleeding), (asp, rash). Predicted: (warf, bleeding), (asp, bleeding).
    # Wrong boundary: FP + FN; missed 'rash': FN; so TP 0, FP 2, FN 2.
    assert s["rel_counts"] == {"tp": 0, "fp": 2, "fn": 2}
    assert s["rel_micro_f"] == 0.0
    # Given entities: no gold relation has both entities predicted, and no predicted
    # relation has both entities gold ('bleeding' is not gold), so nothing is counted.
    assert s["rel_given_ents_micro_f"] == 0.0


def test_partial_match_counts(nlp):
    gold = gold_doc(nlp)
    pred = nlp(TEXT)
    warf, bleed = Span(pred, 0, 1, "DRUG"), Span(pred, 2, 4, "AE")
    asp, rash = Span(pred, 5, 6, "DRUG"), Span(pred, 7, 8, "AE")
    pred.ents = [warf, bleed, asp, rash]
    add_relation(pred, warf, bleed, "ADE")      # TP
    add_relation(pred, asp, bleed, "ADE")       # FP over gold entities
    add_relation(pred, warf, bleed, "OTHER")    # FP, wrong label
    s = score_relations([Example(pred, gold)], labels=("ADE", "OTHER"))
    assert s["rel_counts"] == {"tp": 1, "fp": 2, "fn": 1}
    assert s["rel_micro_p"] == pytest.approx(1 / 3)
    assert s["rel_micro_r"] == pytest.approx(1 / 2)
    assert s["rel_micro_f"] == pytest.approx(0.4)
    ade = s["rel_per_type"]["ADE"]
    assert (ade["p"], ade["r"]) == (pytest.approx(0.5), pytest.approx(0.5))
    assert s["rel_per_type"]["OTHER"] == {"p": 0.0, "r": 0.0, "f": 0.0}
    assert s["rel_macro_f"] == pytest.approx(0.25)


def test_gold_entity_mode_and_floor(nlp):
    gold = gold_doc(nlp)
    pred = nlp(TEXT)
    warf, bleed, asp = Span(pred, 0, 1, "DRUG"), Span(pred, 2, 4, "AE"), Span(pred, 5, 6, "DRUG")
    wrong = Span(pred, 7, 8, "DRUG")  # 'rash' with the wrong label
    pred.ents = [warf, bleed, asp, wrong]
    add_relation(pred, warf, bleed, "ADE")
    add_relation(pred, asp, bleed, "ADE")
    gen = CandidateGenerator(sentence_window=-1)
    floor_labels = {("DRUG", "AE"): "ADE"}
    s = score_relations(
        [Example(pred, gold)], mode="gold_entities", candidates=gen,
        type_pairs={("DRUG", "AE")}, floor_labels=floor_labels,
    )
    # Gold-entity mode: gold (asp, rash) is dropped (rash was not predicted as AE);
    # predicted (warf, bleed) TP, (asp, bleed) FP.
    assert s["rel_counts"] == {"tp": 1, "fp": 1, "fn": 0}
    assert s["rel_e2e_micro_f"] == pytest.approx(0.5)  # TP 1, FP 1, FN 1
    # Candidates over predicted entities: DRUG->AE pairs (warf, bleed), (asp, bleed)
    # and (rash-as-DRUG, bleed). Gold (asp, rash) is not reachable: recall 1/2.
    assert s["rel_candidate_recall"] == pytest.approx(0.5)
    # Floor in gold-entity mode: (rash-as-DRUG, bleed) is dropped (entity not gold),
    # so TP 1, FP 1 like the model.
    assert s["rel_floor_counts"] == {"tp": 1, "fp": 1, "fn": 0}
    # The scorer registered for the factory gives the same end-to-end figures.
    scorer = make_relation_scorer(mode="end_to_end", prefix="x")
    e2e = scorer([Example(pred, gold)], candidates=gen, type_pairs={("DRUG", "AE")},
                 floor_labels=floor_labels)
    assert e2e["x_counts"] == {"tp": 1, "fp": 1, "fn": 1}
    assert e2e["x_floor_counts"] == {"tp": 1, "fp": 2, "fn": 1}
    assert e2e["spans_x_f"] == e2e["x_micro_f"]
    assert "ALL-PAIRS FLOOR (micro)" in e2e["spans_x_per_type"]


def test_symmetric_labels_match_either_direction(nlp):
    gold = nlp("aspirin and warfarin")
    a, w = Span(gold, 0, 1, "DRUG"), Span(gold, 2, 3, "DRUG")
    gold.ents = [a, w]
    add_relation(gold, a, w, "AND")
    pred = nlp("aspirin and warfarin")
    a2, w2 = Span(pred, 0, 1, "DRUG"), Span(pred, 2, 3, "DRUG")
    pred.ents = [a2, w2]
    add_relation(pred, w2, a2, "AND")
    eg = Example(pred, gold)
    assert score_relations([eg])["rel_counts"] == {"tp": 0, "fp": 1, "fn": 1}
    assert score_relations([eg], symmetric_labels=["AND"])["rel_counts"] == {"tp": 1, "fp": 0, "fn": 0}


def test_bad_mode_is_rejected():
    with pytest.raises(ValueError, match="mode"):
        make_relation_scorer(mode="relaxed")
