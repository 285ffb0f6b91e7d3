"""Pipelines, notes and readers shared by tests/test_annotate_*.py and tests/test_spark_*.py
(not a test module)."""

import datetime as dt
import json
from pathlib import Path
from typing import Dict, List

from rules_pipelines import add_clinical_rules, rule_pipeline

WHEN = dt.datetime(2024, 5, 6, 7, 8, 9)
NOTES = [
    (
        "101",
        "Family history: mother with breast cancer.\nMedications: aspirin.\n"
        "Patient denies chest pain. Dyspnea.",
    ),
    ("102", "Rule out pneumonia. History of MI in 2015."),
    ("103", "Patient admitted for fever and rash. No headache."),
    ("104", "Nothing of note today."),
]
# (note id, lexical variant) -> (term_exists, term_temporal, flag in term_modifiers)
EXPECTED = {
    ("101", "breast cancer"): ("N", "present", "family=true"),
    ("101", "aspirin"): ("Y", "present", "section=medications"),
    ("101", "chest pain"): ("N", "present", "negated=true"),
    ("101", "Dyspnea"): ("Y", "present", "source=rule"),
    ("102", "pneumonia"): ("Y", "present", "uncertain=true"),
    ("102", "MI"): ("Y", "past", "historical=true"),
    ("103", "fever"): ("Y", "present", "negated=false"),
    ("103", "rash"): ("Y", "present", "label=PROBLEM"),
    ("103", "headache"): ("N", "present", "negated=true"),
}


def save_rule_pipeline(path: Path) -> Path:
    """blank:en + entity_ruler + our rule components (sentences, target rules, sections, ConText)."""
    nlp = add_clinical_rules(rule_pipeline())
    nlp.get_pipe("clinical_target_rules").add_rules(
        [{"literal": "dyspnea", "category": "SYMPTOM"}, {"literal": "aspirin", "category": "DRUG"}]
    )
    nlp.meta["name"] = "annotate_test"
    nlp.meta["version"] = "1.2.3"
    nlp.to_disk(path)
    return path


def write_jsonl(path: Path, records: List[Dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf8")
    return path


def read_table(root: Path, table: str):
    """A table of a Parquet output folder as a pandas DataFrame."""
    import pandas as pd

    return pd.read_parquet(root / table)


def comparable(frame, drop=("nlp_datetime", "nlp_date")):
    """Rows as sorted tuples of plain values, ignoring when they were made."""
    cols = [c for c in frame.columns if c not in drop]
    rows = []
    for rec in frame[cols].to_dict("records"):
        rows.append(
            tuple(
                (
                    k,
                    None
                    if v is None or (isinstance(v, float) and v != v)
                    else (v.isoformat() if hasattr(v, "isoformat") else v),
                )
                for k, v in sorted(rec.items())
            )
        )
    return sorted(rows, key=repr)


def read_db_table(url: str, table: str):
    """A table of a database output as a pandas DataFrame."""
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(f"SELECT * FROM {table}"), conn)
    engine.dispose()
    return frame
