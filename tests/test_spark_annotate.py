"""Spark engine in local[2]: the same rows as the local engine, from the API and the CLI."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from annotate_helpers import (
    EXPECTED,
    NOTES,
    WHEN,
    comparable,
    read_table,
    save_rule_pipeline,
    write_jsonl,
)
from spacy_clinicalbert import annotate
from spacy_clinicalbert.annotate.schema import NOTE_NLP
from spacy_clinicalbert.cli import app


@pytest.fixture(scope="module")
def load_log(tmp_path_factory):
    return tmp_path_factory.mktemp("spark") / "loads.log"


@pytest.fixture(scope="module")
def spark(load_log):
    import os

    from spacy_clinicalbert.spark import LOAD_LOG, spark_session

    os.environ[LOAD_LOG] = str(load_log)  # inherited by the local[2] Python workers
    session = spark_session("local[2]", "spacy-clinicalbert tests")
    yield session
    session.stop()
    del os.environ[LOAD_LOG]


def test_spark_rows_equal_the_local_engine(spark, load_log, tmp_path):
    from spacy_clinicalbert.spark import annotate as spark_annotate

    pipeline = str(save_rule_pipeline(tmp_path / "pipeline"))
    records = [{"note_id": int(n), "text": t, "pid": 5} for n, t in NOTES]
    records += [
        {"note_id": 900, "text": None, "pid": 5},
        {"note_id": 101, "text": "again", "pid": 5},
        {"note_id": 901, "text": "   ", "pid": 5},
    ]
    pd.DataFrame(records).to_parquet(tmp_path / "notes.parquet")
    write_jsonl(tmp_path / "notes.jsonl", records)
    local = annotate(
        pipeline,
        str(tmp_path / "notes.parquet"),
        str(tmp_path / "local"),
        person_id="pid",
        nlp_datetime=WHEN,
        progress=False,
    )
    assert (local.annotated, local.failed) == (4, 3)
    # Python API: a DataFrame in, the NOTE_NLP DataFrame out (the CLI below runs the same plan)
    rows = spark_annotate(
        spark.read.parquet(str(tmp_path / "notes.parquet")),
        pipeline,
        person_id="pid",
        nlp_datetime=WHEN,
    )
    assert rows.columns == list(NOTE_NLP.names)
    assert dict(rows.dtypes)["note_nlp_id"] == "bigint" and dict(rows.dtypes)["nlp_date"] == "date"
    # CLI: --engine spark, Parquet to the local engine's layout, then a resumed run skips all
    args = [
        "annotate",
        pipeline,
        "-i",
        str(tmp_path / "notes.parquet"),
        "-o",
        str(tmp_path / "spark"),
        "--engine",
        "spark",
        "--master",
        "local[2]",
        "--person-column",
        "pid",
        "--nlp-datetime",
        WHEN.isoformat(),
        "--summary",
        str(tmp_path / "s.json"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert (summary["annotated"], summary["failed"], summary["failed_by_reason"]) == (
        4,
        3,
        {"null_text": 1, "duplicate_id": 1, "empty_text": 1},
    )
    assert len(read_table(tmp_path / "spark", "note_nlp")) == len(EXPECTED)
    for table in ("note_nlp", "note_nlp_note", "note_nlp_error"):
        # `location` says where the local engine read a note (file: row) and Spark its row id
        assert comparable(read_table(tmp_path / "spark", table), drop=("location",)) == comparable(
            read_table(tmp_path / "local", table), drop=("location",)
        ), table
    again = CliRunner().invoke(app, args)
    assert "7 notes read: 0 annotated, 0 failed, 7 skipped (already done)" in again.output
    # the pipeline was loaded once per Python worker (at most 2 in local[2]), with 1 torch thread
    # (spark.task.cpus), not once per batch or task
    loads = [line.split() for line in load_log.read_text().splitlines()]
    assert 1 <= len(loads) <= 2 and len({pid for pid, _, _ in loads}) == len(loads)
    assert {threads for _, threads, _ in loads} == {"1"}
