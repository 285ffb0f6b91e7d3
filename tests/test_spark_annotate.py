"""Spark engine in local[2]: the same rows as the local engine, from the API and the CLI,
from Parquet to Parquet and from a real PostgreSQL to it over JDBC."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from annotate_helpers import (
    EXPECTED,
    NOTES,
    WHEN,
    comparable,
    read_db_table,
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
    from spacy_clinicalbert.spark_database import DEBIAN_POSTGRES_JAR

    # the JDBC test needs the driver on the JVM's classpath from the start (.ci/run installs it)
    assert DEBIAN_POSTGRES_JAR.exists(), "install Debian's libpostgresql-jdbc-java"
    os.environ[LOAD_LOG] = str(load_log)  # inherited by the local[2] Python workers
    session = spark_session("local[2]", "spacy-clinicalbert tests", jars=[str(DEBIAN_POSTGRES_JAR)])
    yield session
    session.stop()
    del os.environ[LOAD_LOG]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """One pipeline path for the module: each Python worker loads it once, whatever the test."""
    return str(save_rule_pipeline(tmp_path_factory.mktemp("spark") / "pipeline"))


RECORDS = [{"note_id": int(n), "text": t, "pid": 5} for n, t in NOTES] + [
    {"note_id": 900, "text": None, "pid": 5},
    {"note_id": 101, "text": "again", "pid": 5},
    {"note_id": 901, "text": "   ", "pid": 5},
]


def _assert_summary(path):
    """RECORDS' account: 4 notes annotated, one null, one duplicate id, one blank."""
    summary = json.loads(path.read_text())
    assert (summary["annotated"], summary["failed"], summary["failed_by_reason"]) == (
        4,
        3,
        {"null_text": 1, "duplicate_id": 1, "empty_text": 1},
    )
    return summary


def test_spark_rows_equal_the_local_engine(spark, load_log, pipeline, tmp_path):
    from spacy_clinicalbert.spark import annotate as spark_annotate

    records = RECORDS
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
    _assert_summary(tmp_path / "s.json")
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


def _sql(url, statement, rows=None):
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), rows) if rows else conn.execute(sa.text(statement))
        out = result.all() if result.returns_rows else None
    engine.dispose()
    return out


def test_spark_reads_and_writes_postgresql_over_jdbc_exactly_once(spark, pipeline, tmp_path):
    """Notes from a PostgreSQL query, rows into its typed tables through staging tables and one
    transaction: the local engine's rows; a killed run's leftover staging rows never land; a
    second run skips every note."""
    from postgres_server import postgres_server

    local = tmp_path / "local"
    pd.DataFrame(RECORDS).to_parquet(tmp_path / "notes.parquet")
    annotate(
        pipeline,
        str(tmp_path / "notes.parquet"),
        str(local),
        person_id="pid",
        nlp_datetime=WHEN,
        progress=False,
    )
    with postgres_server() as url:
        # seq keeps the input's order: the first of the two notes 101 is the one annotated
        _sql(url, "CREATE TABLE note (seq INT, note_id BIGINT, pid BIGINT, note_text TEXT)")
        _sql(
            url,
            "INSERT INTO note VALUES (:seq, :note_id, :pid, :text)",
            [dict(r, seq=k) for k, r in enumerate(RECORDS)],
        )
        # what a run killed between staging and commit leaves behind: staged rows, never landed
        _sql(url, "CREATE TABLE note_nlp_spark_stage (note_id BIGINT, lexical_variant TEXT)")
        _sql(url, "INSERT INTO note_nlp_spark_stage VALUES (101, 'left by a killed run')")
        args = [
            "annotate",
            pipeline,
            "-i",
            url,
            "--query",
            "SELECT note_id, pid, note_text FROM note ORDER BY seq",
            "-o",
            url,
            "--engine",
            "spark",
            "--text-column",
            "note_text",
            "--person-column",
            "pid",
            "--nlp-datetime",
            WHEN.isoformat(),
            "--summary",
            str(tmp_path / "s.json"),
        ]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        summary = _assert_summary(tmp_path / "s.json")
        assert summary["rows"]["note_nlp"] == len(EXPECTED)
        for table in ("note_nlp", "note_nlp_note", "note_nlp_error"):
            assert comparable(read_db_table(url, table), drop=("location",)) == comparable(
                read_table(local, table), drop=("location",)
            ), table
        stages = _sql(
            url,
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE :pattern",
            {"pattern": "%spark_stage"},
        )
        assert stages == []
        types = dict(
            _sql(
                url,
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'note_nlp'",
            )
        )
        assert (types["note_nlp_id"], types["nlp_date"], types["snippet"]) == (
            "bigint",
            "date",
            "character varying",
        )
        again = CliRunner().invoke(app, args)
        assert again.exit_code == 0, again.output
        assert "7 notes read: 0 annotated, 0 failed, 7 skipped (already done)" in again.output
        assert _sql(url, "SELECT COUNT(*) FROM note_nlp")[0][0] == len(EXPECTED)
        sqlite = CliRunner().invoke(app, [*args[:6], "-o", f"sqlite:///{tmp_path}/x.db", *args[8:]])
        assert sqlite.exit_code == 1 and "supports PostgreSQL" in sqlite.output
