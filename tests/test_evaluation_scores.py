"""Evaluation figures against counts worked out by hand on the five notes of
evaluation_fixtures.py (entities, relations, categories, ConText, speed)."""
import pytest
from evaluation_fixtures import build_nlp, gold_docs, write_gold
from spacy.tokens import Doc
from spacy.training import Example

from spacy_clinicalbert.evaluation import EvaluationError, evaluate_pipeline
from spacy_clinicalbert.evaluation.categories import score_categories


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    nlp = build_nlp()
    data = write_gold(tmp_path_factory.mktemp("eval") / "test.spacy", nlp.vocab)
    return evaluate_pipeline("tiny", data, None, nlp=nlp, progress=False)


def test_entities_by_hand(metrics):
    ents = metrics["entities"]
    # gold: DRUG 5, ADE 6. Predicted DRUG 4 (all right, penicillin missed, the
    # split "anti - nausea drug" aligned to the whole gold token); ADE 6 with "pain"
    # wrong and "hives" missed. Micro: TP 9, FP 1, FN 2.
    assert ents["gold"] == 11 and ents["predicted"] == 10
    assert ents["per_type"]["DRUG"]["p"] == pytest.approx(1.0)
    assert ents["per_type"]["DRUG"]["r"] == pytest.approx(0.8)
    assert ents["per_type"]["DRUG"]["f"] == pytest.approx(8 / 9)
    assert ents["per_type"]["ADE"]["f"] == pytest.approx(5 / 6)
    assert (ents["per_type"]["ADE"]["support"], ents["per_type"]["ADE"]["predicted"]) == (6, 6)
    assert ents["micro"]["p"] == pytest.approx(0.9)
    assert ents["micro"]["r"] == pytest.approx(9 / 11)
    assert ents["micro"]["f"] == pytest.approx(18 / 21)
    assert ents["macro"]["f"] == pytest.approx((8 / 9 + 5 / 6) / 2)


def test_relations_by_hand(metrics):
    rel = metrics["relations"]
    # causes: TP A, B; FP A(aspirin, pain), B(warfarin, rash), C(drug, vomiting);
    # FN E(penicillin, hives). treated_by: TP D; FN C.
    assert rel["component"] == "test_eval_relations"
    assert rel["counts"] == {"tp": 3, "fp": 3, "fn": 2}
    causes, treated = rel["per_type"]["causes"], rel["per_type"]["treated_by"]
    assert (causes["p"], causes["r"], causes["f"]) == pytest.approx((0.4, 2 / 3, 0.5))
    assert (treated["p"], treated["r"], treated["f"]) == pytest.approx((1.0, 0.5, 2 / 3))
    assert (causes["support"], causes["predicted"], treated["support"]) == (3, 5, 2)
    assert rel["micro"]["f"] == pytest.approx(6 / 11)
    assert rel["macro"]["p"] == pytest.approx(0.7)
    assert rel["macro"]["f"] == pytest.approx((0.5 + 2 / 3) / 2)
    # Only relations over entities both sides have: E's gold and A's "pain" drop out.
    assert rel["given_entities_micro"]["f"] == pytest.approx(2 / 3)
    # A rule component has no candidate generator: no floor, and the result says why.
    assert rel["floor"] is None and "no candidate generator" in rel["floor_note"]


def test_exclusive_categories_by_hand(metrics):
    cats = metrics["categories"]
    # gold MILD A C E, SEVERE B D; predicted (argmax) SEVERE A B, MILD C D E.
    assert cats["mode"] == "exclusive" and cats["mode_source"].startswith("detected")
    assert cats["accuracy"] == pytest.approx(0.6)
    assert cats["confusion"]["labels"] == ["MILD", "SEVERE"]
    assert cats["confusion"]["matrix"] == [[2, 1], [1, 1]]
    assert cats["per_type"]["MILD"]["f"] == pytest.approx(2 / 3)
    assert cats["per_type"]["SEVERE"]["p"] == pytest.approx(0.5)
    assert cats["macro_f"] == pytest.approx(7 / 12)
    # SEVERE scores: positives .9 .2, negatives .6 .2 .2 -> 4 of 6 pairs (ties half).
    assert cats["per_type"]["SEVERE"]["roc_auc"] == pytest.approx(4 / 6)
    assert cats["roc_auc_macro"] == pytest.approx(4 / 6)


def test_context_by_hand(metrics):
    ctx = metrics["context"]
    neg = ctx["flags"]["is_negated"]
    # "no rash" flagged and gold-negated (TP); gold-negated "Vomiting" not flagged (FN).
    assert (neg["p"], neg["r"], neg["support"], neg["predicted"]) == (1.0, 0.5, 2, 1)
    assert ctx["predicted_entities"] == 10 and ctx["entities_matched_to_gold"] == 9


def test_speed_counts(metrics):
    speed = metrics["speed"]
    nlp = build_nlp()
    words = sum(len(nlp.make_doc(d.text)) for d in gold_docs(nlp.vocab))
    assert speed["docs"] == 5 and speed["words"] == words
    assert speed["words"] > metrics["data"]["words"]  # "anti-nausea" and "rash." split
    assert speed["words_per_second"] == pytest.approx(speed["words"] / speed["seconds"])


def test_multilabel_categories_by_hand():
    nlp = build_nlp(relations=False)
    gold = [{"A": 1.0, "B": 1.0}, {"A": 1.0, "B": 0.0}, {"A": 0.0, "B": 0.0}, {"A": 0.0, "B": 1.0}]
    pred = [{"A": 0.7, "B": 0.4}, {"A": 0.6, "B": 0.45}, {"A": 0.55, "B": 0.2}, {"A": 0.1, "B": 0.9}]
    examples = []
    for g, p in zip(gold, pred):
        ref, hyp = Doc(nlp.vocab, words=["x"]), Doc(nlp.vocab, words=["x"])
        ref.cats, hyp.cats = g, p
        examples.append(Example(hyp, ref))
    cats = score_categories(examples)
    assert cats["mode"] == "multilabel"
    assert cats["accuracy"] == pytest.approx(0.5)  # docs 2 and 4 exactly right
    assert cats["hamming_accuracy"] == pytest.approx(0.75)
    assert cats["per_type"]["A"]["f"] == pytest.approx(0.8)
    assert cats["per_type"]["B"]["f"] == pytest.approx(2 / 3)
    assert cats["macro_f"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert cats["micro"]["f"] == pytest.approx(0.75)
    assert cats["per_type"]["A"]["roc_auc"] == pytest.approx(1.0)
    assert cats["per_type"]["B"]["roc_auc"] == pytest.approx(0.75)
    assert cats["confusion_per_label"]["A"] == [[1, 1], [0, 2]]
    # Forced exclusive: only docs 2 and 4 have exactly one positive; both argmaxes are right.
    forced = score_categories(examples, mode="exclusive")
    assert forced["docs"] == 2 and forced["docs_ambiguous"] == 2
    assert forced["accuracy"] == pytest.approx(1.0)


def test_absent_parts_are_named(tmp_path):
    nlp = build_nlp(cats=False, negation=False)
    data = write_gold(tmp_path / "test.spacy", nlp.vocab, relations=False)
    metrics = evaluate_pipeline("tiny", data, tmp_path / "out", nlp=nlp, progress=False)
    assert "relations" not in metrics and "categories" not in metrics and "context" not in metrics
    assert "gold data has no doc._.relations" in metrics["not_evaluated"]["relations"]
    assert "no component that writes doc.cats" in metrics["not_evaluated"]["categories"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Not evaluated" in report and "## Categories" not in report
    assert "relations:" in report and "categories:" in report


def test_bad_data_files(tmp_path):
    nlp = build_nlp()
    with pytest.raises(EvaluationError, match="not found"):
        evaluate_pipeline("tiny", tmp_path / "missing.spacy", nlp=nlp, progress=False)
    junk = tmp_path / "junk.spacy"
    junk.write_bytes(b"not a docbin")
    with pytest.raises(EvaluationError, match="junk.spacy: not a readable spaCy DocBin"):
        evaluate_pipeline("tiny", junk, nlp=nlp, progress=False)


def test_single_label_multilabel_scores_the_positive_class():
    """One label (ADE sentence yes/no): figures are for the label, not for its absence."""
    nlp = build_nlp(relations=False)
    # gold ADE: 1 1 1 0 0 0 0 0; predicted: 1 1 0 1 0 0 0 0 -> TP 2, FP 1, FN 1, TN 4
    gold = [1, 1, 1, 0, 0, 0, 0, 0]
    pred = [0.9, 0.8, 0.2, 0.7, 0.1, 0.3, 0.2, 0.4]
    examples = []
    for g, s in zip(gold, pred):
        ref, hyp = Doc(nlp.vocab, words=["x"]), Doc(nlp.vocab, words=["x"])
        ref.cats, hyp.cats = {"ADE": float(g)}, {"ADE": s}
        examples.append(Example(hyp, ref))
    cats = score_categories(examples)
    assert cats["mode"] == "multilabel"
    ade = cats["per_type"]["ADE"]
    assert ade["support"] == 3 and ade["predicted"] == 3
    assert ade["p"] == pytest.approx(2 / 3) and ade["r"] == pytest.approx(2 / 3)
    assert cats["confusion_per_label"]["ADE"] == [[4, 1], [1, 2]]
    assert cats["micro"]["f"] == pytest.approx(2 / 3)
    assert cats["accuracy"] == pytest.approx(6 / 8)
