"""Pretraining input: .txt / JSONL / CSV / folders, streamed, with errors that name the file."""
import csv
import json

import pytest

from spacy_clinicalbert.pretraining import CorpusError, ReadStats, expand_inputs, iter_notes


def _texts(paths, **kwargs):
    return [note.text for note in iter_notes(paths, **kwargs)]


def test_txt_one_note_per_file_and_blank_line_blocks(tmp_path):
    one = tmp_path / "one.txt"
    one.write_text("HPI: chest pain.\n\nPlan: aspirin.\n", encoding="utf8")
    assert _texts([one]) == ["HPI: chest pain.\n\nPlan: aspirin.\n"]
    stats = ReadStats()
    notes = list(iter_notes([one], txt_mode="blank-line", stats=stats))
    assert [n.text.strip() for n in notes] == ["HPI: chest pain.", "Plan: aspirin."]
    assert notes[1].source == f"{one}:3"
    assert stats.notes == 2


def test_jsonl_csv_and_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    jsonl = tmp_path / "sub" / "notes.jsonl"
    jsonl.write_text(
        json.dumps({"text": "fever and cough"}) + "\n\n" + json.dumps({"text": ""}) + "\n"
        + json.dumps({"text": "no acute distress"}) + "\n",
        encoding="utf8",
    )
    table = tmp_path / "notes.csv"
    with table.open("w", newline="", encoding="utf8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ROW_ID", "TEXT"])
        writer.writerow([1, "line one\nline two, quoted"])
        writer.writerow([2, ""])
    (tmp_path / "ignored.bin").write_bytes(b"\x00")
    stats = ReadStats()
    # "text" matches the CSV column TEXT case-insensitively (MIMIC NOTEEVENTS).
    notes = list(iter_notes([tmp_path], stats=stats))
    assert [n.text for n in notes] == ["line one\nline two, quoted", "fever and cough", "no acute distress"]
    assert notes[0].source == f"{table}:row 1"
    assert stats.empty == 2  # counted, not dropped silently
    assert stats.files == [str(table), str(jsonl)]


def test_reading_is_streamed(tmp_path):
    """The first note arrives before the reader meets a broken record further down."""
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf8") as handle:
        for i in range(2000):
            handle.write(json.dumps({"text": f"note {i} patient denies fever"}) + "\n")
        handle.write("{not json\n")
    notes = iter_notes([path])
    assert next(notes).text == "note 0 patient denies fever"
    with pytest.raises(CorpusError, match=rf"{path}:2001: invalid JSON"):
        for _ in notes:
            pass


def test_missing_csv_column_names_file_and_columns(tmp_path):
    path = tmp_path / "mt.csv"
    path.write_text("note_id,description\n1,hello\n", encoding="utf8")
    with pytest.raises(CorpusError) as err:
        list(iter_notes([path], text_field="transcription"))
    message = str(err.value)
    assert str(path) in message and "'transcription'" in message and "note_id, description" in message


def test_empty_corpus_is_an_error(tmp_path):
    header_only = tmp_path / "empty.csv"
    header_only.write_text("text\n", encoding="utf8")
    blank = tmp_path / "blank.txt"
    blank.write_text("   \n\n", encoding="utf8")
    with pytest.raises(CorpusError, match="corpus is empty") as err:
        list(iter_notes([header_only, blank]))
    assert str(header_only) in str(err.value) and str(blank) in str(err.value)
    assert "1 empty records skipped" in str(err.value)


def test_bad_paths(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        expand_inputs([tmp_path / "nope.csv"])
    other = tmp_path / "notes.docx"
    other.write_text("x", encoding="utf8")
    with pytest.raises(CorpusError, match="unsupported file type"):
        expand_inputs([other])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(CorpusError, match="holds no"):
        expand_inputs([tmp_path / "empty_dir"])
    missing_field = tmp_path / "m.jsonl"
    missing_field.write_text(json.dumps({"body": "x"}) + "\n", encoding="utf8")
    with pytest.raises(CorpusError, match=rf"{missing_field}:1: no field 'text'"):
        list(iter_notes([missing_field]))


def test_mtsamples_csv_column_streams_with_missing_texts_counted(shared_data):
    path = shared_data / "mtsamples" / "mtsamples.csv"
    stats = ReadStats()
    count = sum(1 for _ in iter_notes([path], text_field="transcription", stats=stats))
    # PROVENANCE.md: 4,999 rows, 33 without a transcription.
    assert count == stats.notes == 4966
    assert stats.empty == 33 and stats.empty_examples[0].startswith(f"{path}:row ")
