"""Custom rules survive to_disk -> spacy.load in a fresh interpreter with no imports."""
import json
import os
import subprocess
import sys

import pytest
import spacy

from rules_pipelines import add_clinical_rules, load_tiny_ner

TEXTS = [
    "Patient denies chest pain.",
    "Pt refuses to discuss fever. Dyspnea on exertion.",
    "Plan of care: rule out pneumonia.",
    "Family history: mother with breast cancer.",
]

FRESH = r"""
import json, socket, sys
def refuse(*args, **kwargs):
    raise OSError("network blocked")
socket.create_connection = refuse
socket.socket.connect = refuse
import spacy
preloaded = sorted(m for m in ("spacy_clinicalbert", "medspacy") if m in sys.modules)
nlp = spacy.load(sys.argv[1])
out = {"preloaded": preloaded, "pipe_names": nlp.pipe_names, "docs": []}
for doc in nlp.pipe(json.loads(sys.argv[2])):
    out["docs"].append({
        "tokens": [t.text for t in doc],
        "ents": [[e.text, e.label_, e._.clinical_rule, e._.is_negated, e._.is_uncertain,
                  e._.is_family, e[0]._.section_category] for e in doc.ents],
    })
out["n_rules"] = {name: len(nlp.get_pipe(name).rules) for name in
                  ("clinical_target_rules", "clinical_sectionizer", "clinical_context")}
print(json.dumps(out))
"""


def describe(nlp, texts):
    return [
        {
            "tokens": [t.text for t in doc],
            "ents": [[e.text, e.label_, e._.clinical_rule, e._.is_negated, e._.is_uncertain,
                      e._.is_family, e[0]._.section_category] for e in doc.ents],
        }
        for doc in nlp.pipe(texts)
    ]


@pytest.fixture(scope="module")
def saved_pipeline(tiny_bert, tmp_path_factory):
    nlp = add_clinical_rules(load_tiny_ner(tiny_bert))
    nlp.get_pipe("clinical_target_rules").add_rules([{"literal": "dyspnea", "category": "SYMPTOM"}])
    nlp.get_pipe("clinical_context").add_rules(
        [{"literal": "refuses to discuss", "category": "NEGATED_EXISTENCE", "direction": "FORWARD",
          "terminated_by": ["POSSIBLE_EXISTENCE"]}]
    )
    nlp.get_pipe("clinical_sectionizer").add_rules([{"literal": "Plan of care:", "category": "care_plan"}])
    path = tmp_path_factory.mktemp("rules_pipeline") / "pipeline"
    nlp.to_disk(path)
    return nlp, path


def test_saved_rules_files(saved_pipeline):
    nlp, path = saved_pipeline
    lines = (path / "clinical_target_rules" / "rules.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"literal": "dyspnea", "category": "SYMPTOM"}]
    context_rules = [json.loads(x) for x in (path / "clinical_context" / "rules.jsonl").read_text().splitlines()]
    assert context_rules[-1]["terminated_by"] == ["POSSIBLE_EXISTENCE"]
    assert len(context_rules) == len(nlp.get_pipe("clinical_context").rules)


def test_fresh_interpreter_loads_custom_rules(saved_pipeline):
    nlp, path = saved_pipeline
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    proc = subprocess.run([sys.executable, "-c", FRESH, str(path), json.dumps(TEXTS)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=str(path.parent))
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["preloaded"] == [], "nothing of ours was imported before spacy.load"
    assert got["pipe_names"] == nlp.pipe_names
    assert got["docs"] == describe(nlp, TEXTS)
    ents = {e[0]: e for doc in got["docs"] for e in doc["ents"]}
    assert ents["Dyspnea"][1:3] == ["SYMPTOM", "dyspnea"]          # custom target rule
    assert ents["fever"][3] is True                                  # custom ConText rule
    assert ents["pneumonia"][6] == "care_plan"                       # custom section rule
    assert ents["pneumonia"][4] is True                              # default ConText rule
    assert got["n_rules"] == {name: len(nlp.get_pipe(name).rules) for name in got["n_rules"]}


def test_bytes_round_trip_keeps_rules(saved_pipeline):
    nlp, _ = saved_pipeline
    data = nlp.get_pipe("clinical_context").to_bytes()
    fresh = spacy.blank("en").add_pipe("clinical_context", config={"default_rules": False})
    assert fresh.rules == []
    fresh.from_bytes(data)
    assert [r.literal for r in fresh.rules] == [r.literal for r in nlp.get_pipe("clinical_context").rules]
