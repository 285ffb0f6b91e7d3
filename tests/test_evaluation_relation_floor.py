"""Relations from a real (untrained) `clinical_relations` component: the evaluation
passes the component's candidates and learned type pairs to the relation scorer,
so the all-pairs floor and the candidate recall appear, and they match hand counts."""
import pytest
import spacy
from evaluation_fixtures import PATTERNS, gold_docs, write_gold
from spacy.training import Example

from spacy_clinicalbert.evaluation import evaluate_pipeline

TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2", "width": 16, "depth": 1, "embed_size": 200,
    "window_size": 1, "maxout_pieces": 2, "subword_features": False, "pretrained_vectors": None,
}


def test_floor_and_model_scores(tmp_path):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    model = {"@architectures": "spacy-clinicalbert.RelationModel.v1", "tok2vec": TOK2VEC,
             "hidden_width": 16, "label_width": 4, "size_width": 4}
    nlp.add_pipe("clinical_relations", config={"model": model})
    gold = gold_docs(nlp.vocab)
    nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in gold])
    ruler.add_patterns(PATTERNS)  # after initialize, which clears the ruler
    data = write_gold(tmp_path / "test.spacy", nlp.vocab)
    metrics = evaluate_pipeline("tiny", data, tmp_path / "out", nlp=nlp, progress=False)
    rel = metrics["relations"]
    assert rel["component"] == "clinical_relations"
    # Learned type pairs: (DRUG, ADE) -> causes (3 gold), (ADE, DRUG) -> treated_by (2).
    # The floor labels every ordered DRUG/ADE pair of the predicted entities both ways:
    # causes TP A, B; FP A(aspirin, pain), B(warfarin, rash), C, D; FN E.
    # treated_by TP C, D; FP (pain|rash, aspirin) in A and (bleeding|rash, warfarin) in B.
    floor = rel["floor"]
    assert floor["counts"] == {"tp": 4, "fp": 8, "fn": 1}
    assert floor["per_type"]["causes"]["f"] == pytest.approx(4 / 9)
    assert floor["per_type"]["treated_by"]["f"] == pytest.approx(0.5)
    assert floor["micro"]["f"] == pytest.approx(8 / 17)
    # 4 of 5 gold relations are reachable (E's entities are never predicted).
    assert rel["candidate_recall"] == pytest.approx(0.8)
    # The model's own figures are what the component's scorer says on the same docs.
    examples = [Example(nlp(d.text), d) for d in gold]
    own = nlp.get_pipe("clinical_relations").score(examples)
    assert rel["micro"]["f"] == pytest.approx(own["rel_micro_f"])
    assert rel["counts"] == own["rel_counts"]
    assert "categories" in metrics["not_evaluated"] and "context" in metrics["not_evaluated"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "all-pairs floor, micro | 33.3 | 80.0 | 47.1" in report
    assert "Candidate recall" in report and "## Not evaluated" in report
