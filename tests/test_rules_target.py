"""clinical_target_rules: rule entities beside model entities, never over them."""
import warnings

import pytest
import spacy

from rules_pipelines import rule_pipeline


def target_pipeline(**config):
    nlp = rule_pipeline()
    rules = nlp.add_pipe("clinical_target_rules", config=config)
    rules.add_rules([
        {"literal": "pain", "category": "SYMPTOM"},  # inside the model's "chest pain": conflict
        {"literal": "dyspnea", "category": "PROBLEM"},
        {"literal": "bp", "category": "VITAL", "pattern": [{"LOWER": "bp"}, {"LIKE_NUM": True, "OP": "?"}]},
        {"literal": "hba1c", "category": "LAB", "pattern": r"hba1c \d+(\.\d+)?%?"},
    ])
    return nlp, rules


def test_rules_add_entities_without_overriding_the_model():
    nlp, rules = target_pipeline()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doc = nlp("Chest pain and dyspnea, BP 140 and HbA1c 8.2% today.")
    assert [(e.text, e.label_, e._.clinical_rule) for e in doc.ents] == [
        ("Chest pain", "PROBLEM", None),
        ("dyspnea", "PROBLEM", "dyspnea"),
        ("BP 140", "VITAL", "bp"),
        ("HbA1c 8.2%", "LAB", "hba1c"),
    ]
    assert doc._.rule_conflicts == 1
    assert rules.stats_summary() == {"matches": 4, "added": 3, "conflicts": 1}
    assert not [w for w in caught if "conflict" in str(w.message).lower()], "no warning per conflict"


def test_group_mode_keeps_every_match_and_leaves_ents_alone():
    nlp, _ = target_pipeline(result_type="group", span_group="rules")
    doc = nlp("Chest pain and dyspnea.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Chest pain", "PROBLEM")]
    assert [(s.text, s.label_) for s in doc.spans["rules"]] == [("pain", "SYMPTOM"), ("dyspnea", "PROBLEM")]
    assert doc._.rule_conflicts == 0


def test_rule_attributes_need_registered_extensions():
    nlp, rules = target_pipeline()
    rules.add_rules([{"literal": "old mi", "category": "PROBLEM", "attributes": {"not_registered_xyz": True}}])
    with pytest.raises(ValueError, match="not_registered_xyz"):
        nlp("old MI")


def test_rule_file_errors_name_file_and_line(tmp_path):
    path = tmp_path / "rules.jsonl"
    path.write_text('{"literal": "a", "category": "X"}\n{"literal": "b"\n', encoding="utf8")
    nlp = spacy.blank("en")
    rules = nlp.add_pipe("clinical_target_rules")
    with pytest.raises(ValueError, match=r"rules\.jsonl:2: not valid JSON"):
        rules.add_rules(path)
    path.write_text('{"literal": "a", "category": "X", "pattern": 3}\n', encoding="utf8")
    with pytest.raises(ValueError, match=r"rules\.jsonl:1: 'pattern' must be"):
        rules.add_rules(path)


def test_callback_rules_refuse_to_save(tmp_path):
    from medspacy.target_matcher import TargetRule

    nlp = spacy.blank("en")
    rules = nlp.add_pipe("clinical_target_rules")
    rules.add_rules([TargetRule("flu", "PROBLEM", on_match=lambda *args: None)])
    assert [e.text for e in nlp("flu").ents] == ["flu"]
    with pytest.raises(ValueError, match="'flu' has an on_match callback"):
        nlp.to_disk(tmp_path / "p")


def test_initialize_reads_rules_from_config(tmp_path):
    path = tmp_path / "targets.jsonl"
    path.write_text('{"literal": "sepsis", "category": "PROBLEM"}\n', encoding="utf8")
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_target_rules")
    config = nlp.config.copy()
    config["initialize"]["components"] = {"clinical_target_rules": {"rules": str(path)}}
    nlp2 = spacy.util.load_model_from_config(config, auto_fill=True)
    nlp2.initialize()
    assert [(e.text, e.label_) for e in nlp2("Concern for sepsis.").ents] == [("sepsis", "PROBLEM")]
