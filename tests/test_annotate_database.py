"""annotate against a real PostgreSQL server (started here with initdb/pg_ctl) and SQLite:
notes from a query, rows into typed tables, errors, resume, SIGKILL and restart."""

import datetime as dt
import multiprocessing
import os
import random
import signal
import time

import pandas as pd
import pytest
import sqlalchemy as sa

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
from postgres_server import postgres_server
from spacy_clinicalbert import annotate


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return str(save_rule_pipeline(tmp_path_factory.mktemp("db") / "pipeline"))


def _note_table(url, rows):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS note"))
        conn.execute(
            sa.text(
                "CREATE TABLE note (note_id BIGINT, person_id BIGINT, note_date DATE, "
                "note_text TEXT)"
            )
        )
        conn.execute(sa.text("INSERT INTO note VALUES (:i, :p, :d, :t)"), rows)
    engine.dispose()


QUERY = "SELECT note_id, person_id, note_date, note_text FROM note"


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_query_to_typed_tables_with_errors_and_resume(backend, pg_url, pipeline, tmp_path):
    url = pg_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'ehr.db'}"
    rows = [
        {"i": int(n), "p": 40 + k, "d": dt.date(2022, 3, k + 1), "t": t}
        for k, (n, t) in enumerate(NOTES)
    ]
    rows += [
        {"i": 900, "p": 1, "d": None, "t": None},
        {"i": 901, "p": 1, "d": None, "t": "x" * 5000},
        {"i": 101, "p": 1, "d": None, "t": "a second note 101"},
    ]
    _note_table(url, rows)
    kw = dict(
        text="note_text",
        person_id="person_id",
        note_date="note_date",
        query=QUERY,
        nlp_datetime=WHEN,
        progress=False,
        max_chars=4000,
        overwrite=True,
    )
    summary = annotate(pipeline, url, url, **kw)  # the same database in and out
    assert (summary.read, summary.annotated, summary.failed) == (7, 4, 3)
    assert dict(summary.reasons) == {"null_text": 1, "oversize": 1, "duplicate_id": 1}
    errors = read_db_table(url, "note_nlp_error").sort_values("note_id")
    assert list(zip(errors.note_id, errors.reason, strict=True)) == [
        (101, "duplicate_id"),
        (900, "null_text"),
        (901, "oversize"),
    ]
    reference = tmp_path / "ref"
    write_jsonl(tmp_path / "n.jsonl", [{"note_id": n, "text": t} for n, t in NOTES])
    annotate(pipeline, str(tmp_path / "n.jsonl"), str(reference), nlp_datetime=WHEN, progress=False)
    got = read_db_table(url, "note_nlp")
    assert len(got) == len(EXPECTED)
    assert comparable(got, drop=("nlp_datetime", "nlp_date")) == comparable(
        read_table(reference, "note_nlp"), drop=("nlp_datetime", "nlp_date")
    )
    assert set(pd.to_datetime(got.nlp_date).dt.date) == {WHEN.date()}
    notes = read_db_table(url, "note_nlp_note").query("status == 'annotated'").sort_values("note_id")
    assert notes.person_id.tolist() == [40, 41, 42, 43]
    assert [str(d)[:10] for d in notes.note_date] == [
        "2022-03-01",
        "2022-03-02",
        "2022-03-03",
        "2022-03-04",
    ]
    again = annotate(pipeline, url, url, **dict(kw, overwrite=False))
    assert (again.read, again.annotated, again.skipped_done) == (7, 0, 7)
    assert len(read_db_table(url, "note_nlp")) == len(EXPECTED)
    if backend == "postgresql":
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            types = dict(
                conn.execute(
                    sa.text(
                        "SELECT column_name, CASE WHEN character_maximum_length IS NULL THEN data_type ELSE "
                        "data_type || '(' || character_maximum_length || ')' END FROM information_schema.columns "
                        "WHERE table_name = 'note_nlp'"
                    )
                ).all()
            )
        engine.dispose()
        assert types == {
            "note_nlp_id": "bigint",
            "note_id": "bigint",
            "section_concept_id": "integer",
            "snippet": "character varying(250)",
            "offset": "character varying(50)",
            "lexical_variant": "character varying(250)",
            "note_nlp_concept_id": "integer",
            "note_nlp_source_concept_id": "integer",
            "nlp_system": "character varying(250)",
            "nlp_date": "date",
            "nlp_datetime": "timestamp without time zone",
            "term_exists": "character varying(1)",
            "term_temporal": "character varying(50)",
            "term_modifiers": "character varying(2000)",
        }


# Enough notes that no run ends inside the kill window on an idle machine: with 2,000 notes and a
# window of up to 1 s, one CI run finished everything after a single kill.
KILL_NOTES = 6000


def _run(pipeline, notes, url):
    annotate(
        pipeline, str(notes), url, nlp_datetime=WHEN, progress=False, batch_size=40, commit_every=40
    )


def _done_count(url):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM note_nlp_note")).scalar()
    except sa.exc.ProgrammingError:  # the first run has not created the tables yet
        return 0
    finally:
        engine.dispose()


def test_postgres_sigkill_and_restart_is_exactly_once(pg_url, pipeline, tmp_path):
    records = [
        {"note_id": i, "text": f"Patient denies chest pain. Rule out pneumonia {i}. History of MI."}
        for i in range(KILL_NOTES)
    ]
    notes = write_jsonl(tmp_path / "notes.jsonl", records)
    url = pg_url.rsplit("/", 1)[0] + "/killtest"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS killtest"))
        conn.execute(sa.text("CREATE DATABASE killtest"))
    admin.dispose()
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    fork = multiprocessing.get_context("fork")
    killed, done_before = 0, 0
    for _ in range(4):
        child = fork.Process(target=_run, args=(pipeline, notes, url))
        child.start()
        deadline = time.time() + 60
        while child.is_alive() and time.time() < deadline:  # until this run has committed
            if _done_count(url) > done_before:
                break
            time.sleep(0.05)
        child.join(rng.uniform(0.0, 0.4))  # then a random moment of its work
        if child.is_alive():
            os.kill(child.pid, signal.SIGKILL)
            killed += 1
        child.join()
        done_before = _done_count(url)
    assert killed >= 2, f"seed {seed}: {killed} kills, {done_before} done"
    _run(pipeline, notes, url)
    rows, done = read_db_table(url, "note_nlp"), read_db_table(url, "note_nlp_note")
    assert len(done) == KILL_NOTES and done.note_source_id.is_unique, seed
    assert len(rows) == 3 * KILL_NOTES and rows.note_nlp_id.is_unique, seed
    assert rows.groupby("note_id").size().eq(3).all(), seed
