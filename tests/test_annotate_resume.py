"""annotate is resumable and exactly-once: SIGKILL at random moments, restart, same rows."""

import multiprocessing
import os
import random
import signal
import time

import pandas as pd
import pytest

from annotate_helpers import WHEN, comparable, save_rule_pipeline, write_jsonl
from spacy_clinicalbert import annotate
from spacy_clinicalbert.annotate.ledger import STATE

TEMPLATES = [
    "Patient denies {p}.",
    "Family history: mother with {p}.",
    "Rule out {p}.",
    "History of {p} in 2015.",
    "Patient admitted for {p} and rash.",
    "Nothing of note.",
]
PROBLEMS = ["chest pain", "breast cancer", "pneumonia", "MI", "fever", "headache"]
N_NOTES = 3000
SETTINGS = dict(nlp_datetime=WHEN, progress=False, batch_size=50, commit_every=50)


@pytest.fixture(scope="module")
def workload(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    pipeline = str(save_rule_pipeline(folder / "pipeline"))
    rng = random.Random(7)
    records = [
        {
            "note_id": i,
            "text": " ".join(
                rng.choice(TEMPLATES).format(p=rng.choice(PROBLEMS))
                for _ in range(rng.randint(1, 3))
            ),
        }
        for i in range(N_NOTES)
    ]
    records[100]["text"] = ""  # errors are committed exactly once too
    records.append({"note_id": 5, "text": "a duplicate id"})
    notes = write_jsonl(folder / "notes.jsonl", records)
    annotate(pipeline, str(notes), str(folder / "reference"), **SETTINGS)
    start = time.perf_counter()
    annotate(
        pipeline, str(notes), str(folder / "reference"), **SETTINGS
    )  # all done: the start-up cost
    startup = time.perf_counter() - start
    start = time.perf_counter()
    annotate(pipeline, str(notes), str(folder / "timed"), **SETTINGS)
    per_note = max(1e-5, (time.perf_counter() - start - startup) / N_NOTES)
    return pipeline, notes, folder, (startup, per_note)


def _tables(out):
    if str(out).startswith("sqlite"):
        import sqlalchemy as sa

        engine = sa.create_engine(out)
        with engine.connect() as conn:
            tables = {
                t: pd.read_sql(f"SELECT * FROM {t}", conn)
                for t in ("note_nlp", "note_nlp_note", "note_nlp_error")
            }
        engine.dispose()
        return tables
    return {t: pd.read_parquet(out / t) for t in ("note_nlp", "note_nlp_note", "note_nlp_error")}


def _check_no_partial_note(out):
    """After recovery: every done note has all its rows, and nothing else is there."""
    tables = _tables(out)
    counts = tables["note_nlp"].groupby("note_id").size().to_dict()
    done = tables["note_nlp_note"]
    assert done.set_index(["note_source_id", "occurrence"]).index.is_unique
    assert tables["note_nlp"].note_nlp_id.is_unique
    expected = {nid: n for nid, n in zip(done.note_id, done.entities, strict=True) if n}
    assert counts == expected
    return len(done)


def _run(pipeline, notes, out):
    annotate(pipeline, str(notes), str(out), **SETTINGS)


@pytest.mark.parametrize("sink,kills", [("parquet", 10), ("sqlite", 4)])
def test_sigkill_at_random_moments_then_restart_gives_the_rows_of_one_run(
    workload, sink, kills, tmp_path
):
    pipeline, notes, folder, (startup, per_note) = workload
    out = tmp_path / "out" if sink == "parquet" else f"sqlite:///{tmp_path / 'out.db'}"
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    fork = multiprocessing.get_context("fork")  # the child runs no torch op: a fork is safe
    killed_mid_run = 0
    remaining = N_NOTES + 1
    for left in range(kills, 0, -1):
        child = fork.Process(target=_run, args=(pipeline, notes, out))
        child.start()
        # a random moment in start-up or work, so that about 1/kills of the work is done per run
        child.join(rng.uniform(0.0, startup + 2 * remaining * per_note / (left + 1)))
        if child.is_alive():
            os.kill(child.pid, signal.SIGKILL)
            killed_mid_run += 1
        child.join()
        if sink == "parquet" and (out / STATE).exists():
            from spacy_clinicalbert.annotate.sinks import FileSink
            from spacy_clinicalbert.annotate.schema import OMOP_TABLES

            FileSink(out).open(OMOP_TABLES)  # recovery, as a restart does it
        if sink == "parquet" and not (out / "note_nlp_note").exists():
            continue
        if sink == "sqlite" and not (tmp_path / "out.db").exists():
            continue
        if sink != "parquet" or (out / "note_nlp").exists():
            remaining = N_NOTES + 1 - _check_no_partial_note(out)
    assert killed_mid_run >= kills // 2, f"seed {seed}: the runs finished before most kills"
    summary = annotate(pipeline, str(notes), str(out), **SETTINGS)
    assert summary.read == N_NOTES + 1
    assert summary.skipped_done + summary.annotated + summary.failed == N_NOTES + 1
    got, want = _tables(out), _tables(folder / "reference")
    for table in ("note_nlp", "note_nlp_note", "note_nlp_error"):
        assert len(got[table]) == len(want[table]), (seed, table)
        assert comparable(got[table]) == comparable(want[table]), (seed, table)
    assert set(got["note_nlp_error"].reason) == {"empty_text", "duplicate_id"}


def test_every_table_is_readable_from_the_moment_a_run_opens_its_output(tmp_path):
    """A run killed before its first commit (or before any note failed) leaves tables that
    readers open as empty, with their columns, not missing folders."""
    from spacy_clinicalbert.annotate.schema import OMOP_TABLES
    from spacy_clinicalbert.annotate.sinks import FileSink

    FileSink(tmp_path / "out").open(OMOP_TABLES)
    for table in OMOP_TABLES:
        frame = pd.read_parquet(tmp_path / "out" / table.name)
        assert len(frame) == 0 and list(frame.columns) == list(table.names), table.name
