"""The tabular EHR view: rows, DataFrame, and the `table` command."""
import csv
import json

import pytest
from typer.testing import CliRunner

from rules_pipelines import add_clinical_rules, rule_pipeline
from spacy_clinicalbert.cli import app
from spacy_clinicalbert.relations.data import add_relation
from spacy_clinicalbert.rules.table import COLUMNS, docs_to_rows, entity_rows, to_dataframe

NOTE = "Family history: mother with breast cancer.\nMedications: aspirin.\nPatient denies chest pain. Dyspnea."


@pytest.fixture(scope="module")
def nlp():
    nlp = add_clinical_rules(rule_pipeline())
    nlp.get_pipe("clinical_target_rules").add_rules([{"literal": "dyspnea", "category": "SYMPTOM"},
                                                    {"literal": "aspirin", "category": "DRUG"}])
    return nlp


def test_rows_carry_offsets_sections_flags_and_relations(nlp):
    doc = nlp(NOTE)
    ents = {e.text: e for e in doc.ents}
    add_relation(doc, ents["aspirin"], ents["chest pain"], "TREATS", 0.8)
    rows = {row["text"]: row for row in entity_rows(doc, "note-1")}
    assert set(rows) == {"breast cancer", "aspirin", "chest pain", "Dyspnea"}
    cancer = rows["breast cancer"]
    assert (cancer["doc_id"], cancer["label"], cancer["source"], cancer["section"]) == \
        ("note-1", "PROBLEM", "model", "family_history")
    assert NOTE[cancer["start_char"]:cancer["end_char"]] == "breast cancer"
    assert cancer["is_family"] and not cancer["is_negated"]
    assert "FAMILY:mother" in cancer["assertion_cues"]
    pain = rows["chest pain"]
    assert pain["is_negated"] and pain["assertion_cues"] == ["NEGATED_EXISTENCE:denies"]
    assert pain["relations"] == [{"label": "TREATS", "role": "tail", "other_text": "aspirin", "other_label": "DRUG",
                                  "other_start_char": ents["aspirin"].start_char,
                                  "other_end_char": ents["aspirin"].end_char, "score": 0.8}]
    assert rows["aspirin"]["relations"][0]["role"] == "head"
    assert rows["aspirin"]["section"] == "medications"
    assert (rows["Dyspnea"]["source"], rows["Dyspnea"]["rule"]) == ("rule", "dyspnea")
    json.dumps(list(rows.values()))  # JSON-safe


def test_dataframe_and_many_docs(nlp):
    docs = list(nlp.pipe([NOTE, "Rule out pneumonia.", "Nothing here."]))
    rows = docs_to_rows(docs, ids=["a", "b", "c"])
    frame = to_dataframe(rows)
    assert list(frame.columns) == list(COLUMNS)
    assert frame.groupby("doc_id").size().to_dict() == {"a": 4, "b": 1}
    assert bool(frame.loc[frame.text == "pneumonia", "is_uncertain"].item())
    assert len(to_dataframe(docs)) == len(frame)


def test_rows_from_a_spacy_free_doc_without_extensions():
    import spacy

    doc = spacy.blank("en")("plain text")
    doc.ents = [doc.char_span(0, 5, label="X")]
    (row,) = entity_rows(doc)
    assert row["section"] is None and row["relations"] == [] and row["source"] == "model"


def test_table_command_jsonl_and_csv(nlp, tmp_path):
    model = tmp_path / "pipeline"
    nlp.to_disk(model)
    notes = tmp_path / "notes.jsonl"
    notes.write_text("\n".join(json.dumps(r) for r in [{"id": "n1", "text": NOTE}, {"id": "n2", "text": " "},
                                                          {"id": "n3", "text": "Rule out pneumonia."}]) + "\n")
    out = tmp_path / "rows.jsonl"
    runner = CliRunner()
    result = runner.invoke(app, ["table", str(model), str(notes), str(out)])
    assert result.exit_code == 0, result.output
    assert "Skipped 1 empty notes" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["doc_id"], r["text"]) for r in rows][-1] == ("n3", "pneumonia")
    assert len(rows) == 5

    table = tmp_path / "notes.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["note_id", "body"])
        writer.writerow(["x", "Patient denies chest pain."])
    out_csv = tmp_path / "rows.csv"
    result = runner.invoke(app, ["table", str(model), str(table), str(out_csv), "--text-field", "body",
                                 "--id-field", "note_id"])
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(out_csv.open(newline="")))
    assert (row["doc_id"], row["text"], row["is_negated"]) == ("x", "chest pain", "True")

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "txt": "no text field"}\n')
    result = runner.invoke(app, ["table", str(model), str(bad), str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and "bad.jsonl:1: no 'text' field" in " ".join(result.output.split())


def test_table_runs_through_annotate_and_keeps_bad_notes(nlp, tmp_path):
    """`table` is `annotate --schema entities` in one file: a bad note no longer stops it, it is
    counted and written beside the output; --limit still stops early."""
    model = tmp_path / "pipeline"
    nlp.to_disk(model)
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(b'{"id": "a", "text": "Rule out pneumonia."}\n{"id": "b", "text": "bad \xff"}\n'
                      b'{"id": "c", "text": "Patient denies chest pain."}\n')
    out = tmp_path / "rows.jsonl"
    result = CliRunner().invoke(app, ["table", str(model), str(notes), str(out)])
    assert result.exit_code == 0, result.output
    assert [(r["doc_id"], r["text"]) for r in map(json.loads, out.read_text().splitlines())] == \
        [("a", "pneumonia"), ("c", "chest pain")]
    (error,) = [json.loads(line) for line in (tmp_path / "rows.jsonl.errors.jsonl").read_text().splitlines()]
    assert (error["note_source_id"], error["reason"]) == ("b", "invalid_utf8")
    assert "notes.jsonl:2" in error["location"]
    limited = tmp_path / "one.csv"
    result = CliRunner().invoke(app, ["table", str(model), str(notes), str(limited), "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert [r["doc_id"] for r in csv.DictReader(limited.open(newline=""))] == ["a"]
