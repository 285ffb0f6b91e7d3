"""annotate: NOTE_NLP rows field by field, our tables, bad input, every source and sink."""

import csv
import json
import sqlite3

import pandas as pd
import pytest
import spacy
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
from spacy_clinicalbert.annotate.omop import RowContext, omop_rows, snippet
from spacy_clinicalbert.annotate.records import Note, omop_note_id
from spacy_clinicalbert.annotate.schema import NOTE_NLP
from spacy_clinicalbert.cli import app
from spacy_clinicalbert.relations.data import add_relation


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return str(save_rule_pipeline(tmp_path_factory.mktemp("annotate") / "pipeline"))


@pytest.fixture(scope="module")
def notes_jsonl(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notes")
    return write_jsonl(
        folder / "notes.jsonl",
        [
            {"id": nid, "body": text, "pid": 7 + i, "day": f"2023-01-0{i + 1}"}
            for i, (nid, text) in enumerate(NOTES)
        ],
    )


@pytest.fixture(scope="module")
def omop_out(pipeline, notes_jsonl, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "omop"
    summary = annotate(
        pipeline,
        str(notes_jsonl),
        str(out),
        note_id="id",
        text="body",
        person_id="pid",
        note_date="day",
        nlp_datetime=WHEN,
        progress=False,
    )
    return out, summary


def test_note_nlp_rows_field_by_field(omop_out):
    out, summary = omop_out
    assert (summary.read, summary.annotated, summary.failed, summary.skipped_done) == (4, 4, 0, 0)
    rows = read_table(out, "note_nlp")
    assert list(rows.columns) == list(NOTE_NLP.names)
    texts = dict(NOTES)
    by_note = {omop_note_id(nid): nid for nid in texts}
    seen = {}
    for row in rows.to_dict("records"):
        nid = by_note[row["note_id"]]
        text, start = texts[nid], int(row["offset"])
        assert text[start : start + len(row["lexical_variant"])] == row["lexical_variant"]
        assert row["lexical_variant"] in row["snippet"] and row["snippet"] in text
        assert (
            row["section_concept_id"],
            row["note_nlp_concept_id"],
            row["note_nlp_source_concept_id"],
        ) == (0, 0, 0)
        assert row["nlp_system"] == "en_annotate_test 1.2.3"
        assert row["nlp_date"] == WHEN.date() and row["nlp_datetime"] == pd.Timestamp(WHEN)
        seen[(nid, row["lexical_variant"])] = (
            row["term_exists"],
            row["term_temporal"],
            row["term_modifiers"],
        )
    assert set(seen) == set(EXPECTED)
    for key, (exists, temporal, flag) in EXPECTED.items():
        got_exists, got_temporal, modifiers = seen[key]
        assert (got_exists, got_temporal) == (exists, temporal), key
        assert flag in modifiers.split(";"), (key, modifiers)
        assert modifiers.startswith("label=")
    assert "section=family_history" in seen[("101", "breast cancer")][2]
    assert rows.note_nlp_id.is_unique
    notes = read_table(out, "note_nlp_note").sort_values("note_source_id")
    assert notes.person_id.tolist() == [7, 8, 9, 10]
    assert [d.isoformat() for d in notes.note_date] == [
        "2023-01-01",
        "2023-01-02",
        "2023-01-03",
        "2023-01-04",
    ]
    assert notes.entities.tolist() == [4, 2, 3, 0] and set(notes.status) == {"annotated"}
    assert len(read_table(out, "note_nlp_error")) == 0  # empty part, columns readable


def test_no_context_means_unknown_not_existing(tmp_path, notes_jsonl):
    from rules_pipelines import rule_pipeline

    rule_pipeline().to_disk(tmp_path / "bare")
    annotate(
        str(tmp_path / "bare"),
        str(notes_jsonl),
        str(tmp_path / "out"),
        note_id="id",
        text="body",
        progress=False,
    )
    rows = read_table(tmp_path / "out", "note_nlp")
    assert len(rows) and rows.term_exists.isna().all() and rows.term_temporal.isna().all()
    assert not rows.term_modifiers.str.contains("negated=").any()


def test_relation_and_category_rows_are_keyed_to_note_nlp():
    nlp = spacy.blank("en")
    doc = nlp("aspirin caused rash")
    doc.ents = [doc.char_span(0, 7, "DRUG"), doc.char_span(15, 19, "ADE")]
    add_relation(doc, doc.ents[0], doc.ents[1], "CAUSES", 0.75)
    doc.cats = {"ADE": 0.9, "NEG": 0.1}
    note = Note("n1", omop_note_id("n1"), doc.text)
    rows = omop_rows(doc, note, RowContext("sys", WHEN, has_context=False, has_sections=False))
    ids = {r["lexical_variant"]: r["note_nlp_id"] for r in rows["note_nlp"]}
    (rel,) = rows["note_nlp_relation"]
    assert (rel["head_note_nlp_id"], rel["tail_note_nlp_id"], rel["relation"], rel["score"]) == (
        ids["aspirin"],
        ids["rash"],
        "CAUSES",
        0.75,
    )
    assert rel["note_id"] == note.note_id
    assert [(c["category"], c["score"], c["note_id"]) for c in rows["note_nlp_category"]] == [
        ("ADE", 0.9, note.note_id),
        ("NEG", 0.1, note.note_id),
    ]


def test_snippet_always_holds_the_term():
    text = "x" * 1000 + "TERM" + "y" * 1000
    assert "TERM" in snippet(text, 1000, 1004) and len(snippet(text, 1000, 1004)) == 250
    assert snippet("ab TERM", 3, 7) == "ab TERM"
    assert snippet(text, 0, 600) == text[:250]


def test_bad_input_goes_to_errors_and_the_run_goes_on(pipeline, tmp_path):
    raw = tmp_path / "bad.csv"
    with raw.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["note_id", "text"])
        writer.writerows(
            [
                ["1", "Patient denies chest pain."],
                ["2", ""],
                ["3", "   "],
                ["4", "fever " * 50],
                ["1", "Rule out pneumonia."],
                ["", "no id here"],
                ["6", "PLACEHOLDER"],
                ["7", "History of MI."],
            ]
        )
    data = raw.read_bytes().replace(b"PLACEHOLDER", b"rash \xff\xfe here")
    raw.write_bytes(data)
    summary = annotate(pipeline, str(raw), str(tmp_path / "out"), max_chars=200, progress=False)
    assert (summary.read, summary.annotated, summary.failed) == (8, 2, 6)
    errors = read_table(tmp_path / "out", "note_nlp_error").sort_values("location")
    reasons = dict(zip(errors.note_source_id, errors.reason, strict=True))
    assert reasons["2"] == "empty_text" and reasons["3"] == "empty_text"
    assert reasons["4"] == "oversize" and reasons["6"] == "invalid_utf8"
    assert reasons["1"] == "duplicate_id"
    assert any(r == "missing_id" for r in errors.reason)
    assert all("bad.csv:row" in loc for loc in errors.location)
    assert dict(summary.reasons) == {
        "empty_text": 2,
        "oversize": 1,
        "invalid_utf8": 1,
        "duplicate_id": 1,
        "missing_id": 1,
    }
    lexical = set(read_table(tmp_path / "out", "note_nlp").lexical_variant)
    assert lexical == {"chest pain", "MI"}  # the first note 1 kept, its duplicate not
    # null text (JSON null) and an unparsable line
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"note_id": 1, "text": null}\n{oops\n{"note_id": 2, "text": "No rash."}\n')
    summary = annotate(pipeline, str(bad), str(tmp_path / "out2"), progress=False)
    assert dict(summary.reasons) == {"null_text": 1, "bad_record": 1} and summary.annotated == 1


def test_every_source_gives_the_same_rows(pipeline, tmp_path):
    records = [{"note_id": nid, "text": text} for nid, text in NOTES]
    inputs = {"jsonl": str(write_jsonl(tmp_path / "n.jsonl", records))}
    frame = pd.DataFrame(records)
    frame.to_csv(tmp_path / "n.csv", index=False)
    frame.to_csv(tmp_path / "n.tsv", index=False, sep="\t")
    frame.to_parquet(tmp_path / "n.parquet")
    inputs.update(
        csv=str(tmp_path / "n.csv"),
        tsv=str(tmp_path / "n.tsv"),
        parquet=str(tmp_path / "n.parquet"),
    )
    with sqlite3.connect(tmp_path / "notes.db") as conn:
        conn.execute("CREATE TABLE note (note_id INTEGER, note_text TEXT)")
        conn.executemany("INSERT INTO note VALUES (?, ?)", [(int(n), t) for n, t in NOTES])
    results = {}
    for name, spec in inputs.items():
        annotate(pipeline, spec, str(tmp_path / name), nlp_datetime=WHEN, progress=False)
        results[name] = comparable(read_table(tmp_path / name, "note_nlp"))
    annotate(
        pipeline,
        f"sqlite:///{tmp_path / 'notes.db'}",
        str(tmp_path / "sql"),
        text="note_text",
        query="SELECT note_id, note_text FROM note ORDER BY note_id",
        nlp_datetime=WHEN,
        progress=False,
    )
    results["sql"] = comparable(read_table(tmp_path / "sql", "note_nlp"))
    assert len(results["jsonl"]) == len(EXPECTED)
    for name, rows in results.items():
        assert rows == results["jsonl"], name
    folder = tmp_path / "txt"
    folder.mkdir()
    for nid, text in NOTES:
        (folder / f"{nid}.txt").write_text(text)
    summary = annotate(pipeline, str(folder), str(tmp_path / "from_txt"), progress=False)
    assert summary.annotated == 4 and set(
        read_table(tmp_path / "from_txt", "note_nlp_note").note_source_id
    ) == {f"{nid}.txt" for nid, _ in NOTES}


def test_csv_jsonl_and_sqlite_sinks_hold_the_same_rows(pipeline, notes_jsonl, omop_out, tmp_path):
    parquet_rows = comparable(read_table(omop_out[0], "note_nlp"))
    kw = dict(note_id="id", text="body", nlp_datetime=WHEN, progress=False)
    annotate(pipeline, str(notes_jsonl), str(tmp_path / "csv"), output_format="csv", **kw)
    annotate(
        pipeline, str(notes_jsonl), str(tmp_path / "rows.jsonl"), **kw
    )  # format from the suffix
    annotate(pipeline, str(notes_jsonl), f"sqlite:///{tmp_path / 'out.db'}", **kw)
    csv_rows = pd.concat(
        pd.read_csv(p, dtype={"offset": str}, keep_default_na=False)
        for p in sorted((tmp_path / "csv" / "note_nlp").glob("part-*.csv"))
    )
    jsonl_rows = pd.concat(
        pd.read_json(p, lines=True, dtype={"offset": str})
        for p in sorted((tmp_path / "rows.jsonl" / "note_nlp").glob("part-*.jsonl"))
    )
    with sqlite3.connect(tmp_path / "out.db") as conn:
        sql_rows = pd.read_sql("SELECT * FROM note_nlp", conn)
    for frame in (csv_rows, jsonl_rows, sql_rows):
        assert len(frame) == len(parquet_rows)
        assert sorted(
            zip(
                frame.note_id,
                frame["offset"].astype(str),
                frame.lexical_variant,
                frame.term_exists,
                frame.term_modifiers,
                strict=True,
            )
        ) == sorted(
            (r["note_id"], r["offset"], r["lexical_variant"], r["term_exists"], r["term_modifiers"])
            for r in read_table(omop_out[0], "note_nlp").to_dict("records")
        )


def test_cli_annotate_and_summary(pipeline, notes_jsonl, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli"
    args = [
        "annotate",
        pipeline,
        "--input",
        str(notes_jsonl),
        "--output",
        str(out),
        "--id-column",
        "id",
        "--text-column",
        "body",
        "--summary",
        str(tmp_path / "s.json"),
        "--no-progress",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "4 notes read: 4 annotated, 0 failed, 0 skipped (already done)" in result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["rows"]["note_nlp"] == len(EXPECTED) and summary["words_per_s"] > 0
    again = runner.invoke(app, args)
    assert "4 notes read: 0 annotated, 0 failed, 4 skipped (already done)" in again.output
    wrong = runner.invoke(
        app,
        ["annotate", pipeline, "-i", str(notes_jsonl), "-o", str(tmp_path / "w"), "--no-progress"],
    )
    assert wrong.exit_code == 1 and "notes.jsonl:1: no 'text' field" in " ".join(
        wrong.output.split()
    )
    not_ours = tmp_path / "not_ours"
    not_ours.mkdir()
    (not_ours / "x.txt").write_text("x")
    refused = runner.invoke(app, args[:5] + [str(not_ours)] + args[6:])
    assert refused.exit_code == 1 and "no annotate run wrote" in " ".join(refused.output.split())


def test_n_process_gives_the_same_rows(pipeline, notes_jsonl, omop_out, tmp_path):
    many = tmp_path / "many.jsonl"
    base = json.loads(notes_jsonl.read_text().splitlines()[0])
    records = [dict(json.loads(line)) for line in notes_jsonl.read_text().splitlines()]
    records += [dict(base, id=f"extra-{i}") for i in range(40)]
    write_jsonl(many, records)
    kw = dict(
        note_id="id", text="body", nlp_datetime=WHEN, progress=False, batch_size=8, commit_every=16
    )
    one = annotate(pipeline, str(many), str(tmp_path / "one"), **kw)
    two = annotate(pipeline, str(many), str(tmp_path / "two"), n_process=2, **kw)
    assert one.annotated == two.annotated == 44
    for table in ("note_nlp", "note_nlp_note"):
        assert comparable(read_table(tmp_path / "two", table)) == comparable(
            read_table(tmp_path / "one", table)
        )


def test_int8_encoder_runs_and_is_named_in_nlp_system(tiny_bert, notes_jsonl, tmp_path):
    from rules_pipelines import add_clinical_rules

    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    nlp.initialize()
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(
        [{"label": "PROBLEM", "pattern": p} for p in ("chest pain", "fever", "pneumonia")]
    )
    add_clinical_rules(nlp)
    nlp.to_disk(tmp_path / "trf")
    kw = dict(note_id="id", text="body", nlp_datetime=WHEN, progress=False)
    annotate(str(tmp_path / "trf"), str(notes_jsonl), str(tmp_path / "fp32"), **kw)
    annotate(str(tmp_path / "trf"), str(notes_jsonl), str(tmp_path / "int8"), int8=True, **kw)
    fp32, int8 = (
        read_table(tmp_path / "fp32", "note_nlp"),
        read_table(tmp_path / "int8", "note_nlp"),
    )
    base = f"en_pipeline 0.0.0 (base model {tiny_bert}"
    assert set(int8.nlp_system) == {f"{base}; encoder int8)"}
    assert set(fp32.nlp_system) == {f"{base})"}
    # the name the Spark driver and the --n-process parent give from config.cfg and meta.json
    from spacy_clinicalbert.annotate.omop import pipeline_context, row_context

    loaded = row_context(spacy.load(tmp_path / "trf"), nlp_datetime=WHEN)
    assert pipeline_context(str(tmp_path / "trf"), nlp_datetime=WHEN) == loaded
    assert loaded.has_context and loaded.has_sections and loaded.nlp_system == f"{base})"
    assert pipeline_context(str(tmp_path / "trf"), int8=True).nlp_system == f"{base}; encoder int8)"
    assert comparable(int8.drop(columns="nlp_system")) == comparable(
        fp32.drop(columns="nlp_system")
    )
    from rules_pipelines import rule_pipeline

    from spacy_clinicalbert.transformer.quantization import QuantizationError

    rule_pipeline().to_disk(tmp_path / "rules_only")
    with pytest.raises(QuantizationError, match="needs a pipeline with a transformer"):
        annotate(
            str(tmp_path / "rules_only"), str(notes_jsonl), str(tmp_path / "x"), int8=True, **kw
        )


@spacy.Language.component("annotate_test_explode")
def _explode(doc):
    if "BOOM" in doc.text:
        raise ValueError("this note breaks the pipeline")
    return doc


def test_a_note_the_pipeline_fails_on_fails_alone(tmp_path):
    from rules_pipelines import rule_pipeline

    nlp = rule_pipeline()
    nlp.add_pipe("annotate_test_explode")
    nlp.to_disk(tmp_path / "explodes")
    notes = write_jsonl(
        tmp_path / "n.jsonl",
        [
            {"note_id": 1, "text": "fever"},
            {"note_id": 2, "text": "BOOM rash"},
            {"note_id": 3, "text": "rash"},
        ],
    )
    summary = annotate(
        str(tmp_path / "explodes"), str(notes), str(tmp_path / "out"), progress=False
    )
    assert (summary.annotated, summary.failed, dict(summary.reasons)) == (
        2,
        1,
        {"pipeline_error": 1},
    )
    (error,) = read_table(tmp_path / "out", "note_nlp_error").to_dict("records")
    assert (
        error["note_source_id"] == "2"
        and "ValueError: this note breaks the pipeline" in error["detail"]
    )
    assert error["location"].endswith("n.jsonl:2")
    assert set(read_table(tmp_path / "out", "note_nlp").lexical_variant) == {"fever", "rash"}
