"""configs/rules.cfg through the workflow's add-rules step, on a trained tiny pipeline."""
from pathlib import Path

import spacy

from rules_pipelines import load_tiny_ner

RULES_CFG = Path(__file__).resolve().parents[1] / "configs" / "rules.cfg"


def test_rules_cfg_adds_components_after_the_model(tiny_bert, tmp_path):
    from spacy_clinicalbert.packaging.rules import add_rule_components

    trained = load_tiny_ner(tiny_bert)
    trained.to_disk(tmp_path / "trained")
    targets = tmp_path / "targets.jsonl"
    targets.write_text('{"literal": "dyspnea", "category": "SYMPTOM"}\n', encoding="utf8")
    cfg = tmp_path / "rules.cfg"
    cfg.write_text(RULES_CFG.read_text().replace("target_rules = null", f'target_rules = "{targets}"'))

    added = add_rule_components(tmp_path / "trained", cfg, tmp_path / "assembled")
    assert added == ["clinical_sentences", "clinical_target_rules", "clinical_sectionizer", "clinical_context"]
    nlp = spacy.load(tmp_path / "assembled")
    assert nlp.pipe_names == trained.pipe_names + added
    text = "Patient denies chest pain. Dyspnea noted."
    assert [t.text for t in nlp(text)] == [t.text for t in trained(text)]
    doc = nlp(text)
    assert [(e.text, e.label_, e._.is_negated) for e in doc.ents] == [
        ("chest pain", "PROBLEM", True), ("Dyspnea", "SYMPTOM", False)]
