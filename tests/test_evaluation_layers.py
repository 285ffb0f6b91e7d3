"""Every figure covers only the docs that annotate its layer (`spacy_clinicalbert.layers`).

A prediction on a doc whose layer is *missing* (an ADE-NEG sentence: only its
category is annotated) is neither right nor wrong; on a doc annotated as having
nothing it is a false positive. Each case below is checked both ways, by hand.
"""
from typing import Dict, Iterable, List

import pytest
import spacy
from evaluation_fixtures import build_nlp, gold_docs
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example

from spacy_clinicalbert.evaluation import evaluate_pipeline
from spacy_clinicalbert.evaluation.categories import score_categories
from spacy_clinicalbert.evaluation.entities import score_entities
from spacy_clinicalbert.layers import ATTRIBUTES, CATEGORIES, ENTITIES, RELATIONS, set_layers
from spacy_clinicalbert.relations import add_relation
from spacy_clinicalbert.relations.candidates import CandidateGenerator
from spacy_clinicalbert.relations.scorer import make_relation_scorer, score_relations

MISSING = "missing"  # the layer is not annotated
NOTHING = "nothing"  # the layer is annotated, with nothing in it


@pytest.fixture
def nlp():
    return spacy.blank("en")


# ---- entities --------------------------------------------------------------------


def _entity_examples(nlp, second: str) -> List[Example]:
    """Doc 1: gold and predicted DRUG 'aspirin'. Doc 2: predicted DRUG 'warfarin',
    gold entity layer missing or annotated as nothing."""
    examples = []
    for text in ("aspirin helped", "warfarin helped"):
        pred = nlp(text)
        pred.ents = [Span(pred, 0, 1, "DRUG")]
        gold = nlp(text)
        examples.append(Example(pred, gold))
    examples[0].reference.ents = [Span(examples[0].reference, 0, 1, "DRUG")]
    set_layers(examples[0].reference, {ENTITIES})
    ref = examples[1].reference
    if second == NOTHING:
        ref.ents = []
        set_layers(ref, {ENTITIES, CATEGORIES})
    else:
        set_layers(ref, {CATEGORIES})
    return examples


def test_entity_on_doc_missing_entities_is_no_false_positive(nlp):
    ents = score_entities(_entity_examples(nlp, MISSING))
    assert ents["micro"] == {"p": 1.0, "r": 1.0, "f": 1.0}
    assert (ents["docs"], ents["docs_not_annotating"], ents["docs_without_gold_entities"]) == (1, 1, 1)
    assert ents["predicted"] == 1


def test_entity_on_doc_annotated_as_nothing_is_a_false_positive(nlp):
    ents = score_entities(_entity_examples(nlp, NOTHING))
    assert ents["micro"]["p"] == pytest.approx(0.5) and ents["micro"]["r"] == 1.0
    assert (ents["docs"], ents["docs_not_annotating"]) == (2, 0)
    assert ents["predicted"] == 2 and ents["per_type"]["DRUG"]["predicted"] == 2


def test_entity_layer_inferred_without_a_record(nlp):
    """No record: a doc annotates entities when ENT_IOB is set, as spaCy decides."""
    examples = _entity_examples(nlp, MISSING)
    examples[1].reference.user_data.clear()  # no record, ENT_IOB unset
    assert score_entities(examples)["docs"] == 1


# ---- relations (scorer, gold-entity mode, floor) ----------------------------------

FLOOR = {"candidates": CandidateGenerator(sentence_window=-1), "type_pairs": {("DRUG", "AE")},
         "floor_labels": {("DRUG", "AE"): "ADE"}}


def _relation_examples(nlp, second: str) -> List[Example]:
    """Doc 1: gold and predicted ADE(aspirin, rash). Doc 2: predicted
    ADE(warfarin, bleeding) over gold entities; its relation layer missing or empty."""
    examples = []
    for i, text in enumerate(("aspirin caused rash", "warfarin caused bleeding")):
        docs = []
        for _ in range(2):
            doc = nlp(text)
            drug, ae = Span(doc, 0, 1, "DRUG"), Span(doc, 2, 3, "AE")
            doc.ents = [drug, ae]
            docs.append((doc, drug, ae))
        (pred, p_drug, p_ae), (gold, g_drug, g_ae) = docs
        add_relation(pred, p_drug, p_ae, "ADE")
        if i == 0:
            add_relation(gold, g_drug, g_ae, "ADE")
            set_layers(gold, {ENTITIES, RELATIONS})
        else:
            set_layers(gold, {ENTITIES, RELATIONS} if second == NOTHING else {ENTITIES})
        examples.append(Example(pred, gold))
    return examples


@pytest.mark.parametrize("mode", ["end_to_end", "gold_entities"])
def test_relation_on_doc_missing_relations_is_no_false_positive(nlp, mode):
    s = score_relations(_relation_examples(nlp, MISSING), mode=mode, **FLOOR)
    assert s["rel_counts"] == {"tp": 1, "fp": 0, "fn": 0}
    # The floor guesses ADE(warfarin, bleeding) too; on doc 2 it is not scored either.
    assert s["rel_floor_counts"] == {"tp": 1, "fp": 0, "fn": 0}
    assert s["rel_candidate_recall"] == 1.0
    assert s["rel_docs"] == 1


@pytest.mark.parametrize("mode", ["end_to_end", "gold_entities"])
def test_relation_on_doc_annotated_as_nothing_is_a_false_positive(nlp, mode):
    s = score_relations(_relation_examples(nlp, NOTHING), mode=mode, **FLOOR)
    assert s["rel_counts"] == {"tp": 1, "fp": 1, "fn": 0}
    assert s["rel_floor_counts"] == {"tp": 1, "fp": 1, "fn": 0}
    other = "given_ents" if mode == "end_to_end" else "e2e"
    assert s[f"rel_{other}_micro_p"] == pytest.approx(0.5)
    assert s["rel_docs"] == 2


def test_registered_scorer_reports_docs_under_its_prefix(nlp):
    scorer = make_relation_scorer(prefix="x")
    assert scorer(_relation_examples(nlp, MISSING), **FLOOR)["x_docs"] == 1
    assert scorer(_relation_examples(nlp, NOTHING), **FLOOR)["x_docs"] == 2


# ---- categories ------------------------------------------------------------------


def _cat_examples(nlp, golds: Iterable[Dict[str, float]], preds: Iterable[Dict[str, float]],
                  layers: Iterable = None) -> List[Example]:
    examples = []
    for i, (g, p) in enumerate(zip(golds, preds)):
        ref, hyp = Doc(nlp.vocab, words=["x"]), Doc(nlp.vocab, words=["x"])
        ref.cats, hyp.cats = dict(g), dict(p)
        if layers is not None:
            set_layers(ref, list(layers)[i])
        examples.append(Example(hyp, ref))
    return examples


def test_category_on_doc_missing_categories_is_no_false_positive(nlp):
    # Docs 1-2 annotate ADE (1, 0) and are predicted right; doc 3 annotates entities
    # only, and the pipeline says ADE 0.9 there.
    golds, preds = [{"ADE": 1.0}, {"ADE": 0.0}, {}], [{"ADE": 0.9}, {"ADE": 0.1}, {"ADE": 0.9}]
    missing = score_categories(_cat_examples(nlp, golds, preds, [{CATEGORIES}] * 2 + [{ENTITIES}]))
    assert missing["mode"] == "multilabel"
    assert missing["confusion_per_label"]["ADE"] == [[1, 0], [0, 1]]
    assert missing["per_type"]["ADE"]["p"] == 1.0 and missing["per_type"]["ADE"]["predicted"] == 1
    assert (missing["docs"], missing["docs_not_annotating"], missing["docs_without_gold_cats"]) == (2, 1, 1)
    # Annotated as "no ADE here": the same prediction is a false positive.
    golds[2] = {"ADE": 0.0}
    nothing = score_categories(_cat_examples(nlp, golds, preds, [{CATEGORIES}] * 3))
    assert nothing["confusion_per_label"]["ADE"] == [[1, 1], [0, 1]]
    assert nothing["per_type"]["ADE"]["p"] == pytest.approx(0.5)
    assert (nothing["docs"], nothing["docs_not_annotating"]) == (3, 0)
    assert nothing["accuracy"] == pytest.approx(2 / 3)


def test_label_scored_only_on_docs_that_have_its_key(nlp):
    """Multi-label: doc 3 annotates A only, so its B prediction is not scored, its A one
    is. (Every doc has one positive, so auto would pick exclusive, where A settles B.)"""
    golds = [{"A": 1.0, "B": 0.0}, {"A": 0.0, "B": 1.0}, {"A": 1.0}]
    preds = [{"A": 0.9, "B": 0.1}, {"A": 0.1, "B": 0.9}, {"A": 0.2, "B": 0.9}]
    cats = score_categories(_cat_examples(nlp, golds, preds), mode="multilabel")
    b = cats["per_type"]["B"]
    assert (b["p"], b["r"], b["support"], b["predicted"], b["docs"]) == (1.0, 1.0, 1, 1, 2)
    a = cats["per_type"]["A"]
    assert (a["r"], a["support"], a["docs"]) == (pytest.approx(0.5), 2, 3)
    assert cats["confusion_per_label"]["B"] == [[1, 0], [0, 1]]
    assert cats["docs"] == 3
    assert cats["accuracy"] == pytest.approx(2 / 3)  # doc 3 misses A
    assert cats["hamming_accuracy"] == pytest.approx(4 / 5)
    # With B 0.0 written out, doc 3's B prediction is a false positive.
    golds[2] = {"A": 1.0, "B": 0.0}
    written = score_categories(_cat_examples(nlp, golds, preds), mode="multilabel")
    assert written["per_type"]["B"]["p"] == pytest.approx(0.5) and written["per_type"]["B"]["docs"] == 3


def test_label_no_doc_annotates_is_not_scored(nlp):
    golds, preds = [{"A": 1.0}, {"A": 0.0}], [{"A": 0.9, "X": 0.9}, {"A": 0.1, "X": 0.9}]
    cats = score_categories(_cat_examples(nlp, golds, preds), mode="multilabel")
    assert cats["labels"] == ["A"] and cats["labels_not_annotated"] == ["X"]
    assert cats["micro"]["p"] == 1.0


def test_exclusive_skips_docs_missing_categories(nlp):
    golds = [{"MILD": 1.0, "SEVERE": 0.0}, {"MILD": 0.0, "SEVERE": 1.0}, {}]
    preds = [{"MILD": 0.8, "SEVERE": 0.2}, {"MILD": 0.3, "SEVERE": 0.7}, {"MILD": 0.9, "SEVERE": 0.1}]
    cats = score_categories(_cat_examples(nlp, golds, preds, [{CATEGORIES}] * 2 + [{ENTITIES}]))
    assert cats["mode"] == "exclusive" and cats["accuracy"] == 1.0
    assert cats["confusion"]["matrix"] == [[1, 0], [0, 1]]
    assert (cats["docs"], cats["docs_not_annotating"]) == (2, 1)


# ---- the whole evaluation ----------------------------------------------------------


def _write(path, docs: List[Doc]):
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return path


def _note_a_as(nlp, how: str) -> List[Doc]:
    """The five fixture notes, note A's entities and relations missing (like an ADE-NEG
    sentence) or annotated as nothing; its category stays annotated."""
    docs = gold_docs(nlp.vocab)
    a = docs[0]
    plain = Doc(nlp.vocab, words=[t.text for t in a], spaces=[bool(t.whitespace_) for t in a])
    plain.cats = dict(a.cats)
    if how == NOTHING:
        plain.ents = []
        set_layers(plain, {ENTITIES, RELATIONS, CATEGORIES})
    else:
        set_layers(plain, {CATEGORIES})
    return [plain] + docs[1:]


def test_pipeline_scores_only_docs_annotating_each_layer(tmp_path):
    nlp = build_nlp()
    data = _write(tmp_path / "test.spacy", _note_a_as(nlp, MISSING))
    metrics = evaluate_pipeline("tiny", data, tmp_path / "out", nlp=nlp, progress=False)
    # Attributes by content: notes B and D carry entity_attributes.
    assert metrics["data"]["layers"] == {ENTITIES: 4, RELATIONS: 4, CATEGORIES: 5, ATTRIBUTES: 2}
    # Without note A (aspirin, rash right; pain wrong): TP 7, FP 0, FN 2.
    ents = metrics["entities"]
    assert (ents["docs"], ents["docs_not_annotating"], ents["gold"], ents["predicted"]) == (4, 1, 9, 7)
    assert ents["micro"]["p"] == 1.0 and ents["micro"]["r"] == pytest.approx(7 / 9)
    # Without A's causes(aspirin, rash) TP and causes(aspirin, pain) FP.
    rel = metrics["relations"]
    assert rel["counts"] == {"tp": 2, "fp": 2, "fn": 2}
    assert (rel["docs"], rel["docs_not_annotating"], rel["gold"], rel["predicted"]) == (4, 1, 4, 4)
    assert metrics["categories"]["docs"] == 5
    report = (tmp_path / "out" / "report.md").read_text()
    assert "scored on 4 of 5 documents (those that annotate entities)" in report
    assert "scored on 4 of 5 documents (those that annotate relations)" in report
    assert "scored on 5 of 5 documents (those that annotate categories)" in report
    assert "scored on 2 of 5 documents (those that annotate attributes)" in report
    assert "Docs annotating each layer: entities 4, relations 4, categories 5, attributes 2" in report


def test_pipeline_counts_predictions_on_docs_annotated_as_nothing(tmp_path):
    nlp = build_nlp()
    data = _write(tmp_path / "test.spacy", _note_a_as(nlp, NOTHING))
    metrics = evaluate_pipeline("tiny", data, None, nlp=nlp, progress=False)
    ents = metrics["entities"]
    # Note A's aspirin, pain and rash are now all false positives: TP 7, FP 3, FN 2.
    assert (ents["docs"], ents["gold"], ents["predicted"]) == (5, 9, 10)
    assert ents["micro"]["p"] == pytest.approx(0.7)
    rel = metrics["relations"]
    assert rel["counts"] == {"tp": 2, "fp": 4, "fn": 2} and rel["docs"] == 5


def test_no_document_annotating_a_layer_is_named(tmp_path):
    nlp = build_nlp()
    docs = []
    for doc in gold_docs(nlp.vocab, relations=False):
        plain = Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        plain.cats = dict(doc.cats)
        set_layers(plain, {CATEGORIES})
        docs.append(plain)
    data = _write(tmp_path / "test.spacy", docs)
    metrics = evaluate_pipeline("tiny", data, tmp_path / "out", nlp=nlp, progress=False)
    skipped = metrics["not_evaluated"]
    assert "entities" not in metrics and "relations" not in metrics
    assert "no document of the test data annotates entities" in skipped["entities"]
    assert "no document of the test data annotates relations" in skipped["relations"]
    assert metrics["data"]["layers"] == {ENTITIES: 0, RELATIONS: 0, CATEGORIES: 5, ATTRIBUTES: 0}
    assert metrics["categories"]["docs"] == 5


def test_context_flags_scored_only_on_docs_annotating_attributes(tmp_path):
    """Note B ('no rash', flagged and gold-negated) stops annotating attributes: only
    note D's unflagged gold negation is left, so the flag has no true positive."""
    nlp = build_nlp()
    docs = gold_docs(nlp.vocab)
    set_layers(docs[1], {ENTITIES, RELATIONS, CATEGORIES})
    data = _write(tmp_path / "test.spacy", docs)
    ctx = evaluate_pipeline("tiny", data, None, nlp=nlp, progress=False)["context"]
    neg = ctx["flags"]["is_negated"]
    assert (neg["p"], neg["r"], neg["support"], neg["predicted"]) == (0.0, 0.0, 1, 1)
    assert (ctx["docs"], ctx["docs_not_annotating"]) == (1, 4)
