"""Input that is not UTF-8 stops every reader with the file, line and column, not with
Python's bare "'utf-8' codec can't decode byte 0xff in position 12".

The bad byte sits far past the first 8 KB read buffer and after a two-byte character
on its line, so a line or column taken from the decoder's buffer position is caught."""
import json
import pickle
import re
from pathlib import Path
from typing import List

import pytest

from spacy_clinicalbert.corpus import CorpusError, convert, read_split_lists
from spacy_clinicalbert.pretraining import CorpusError as PretrainingCorpusError
from spacy_clinicalbert.pretraining import iter_notes
from spacy_clinicalbert.text import blank_clinical

BAD_LINE = 2000
PREFIX = "é"  # the bad byte follows this character: column 2 in characters, byte 3


@pytest.fixture(scope="module")
def nlp():
    return blank_clinical()


def write_poisoned(path: Path, lines: List[str], bad_line: int = BAD_LINE) -> Path:
    """`lines` as UTF-8, with a 0xff byte after PREFIX at the start of line `bad_line`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = [line.encode("utf8") for line in lines]
    encoded[bad_line - 1] = PREFIX.encode("utf8") + b"\xff" + encoded[bad_line - 1]
    data = b"\n".join(encoded) + b"\n"
    assert data.index(b"\xff") > 8192
    path.write_bytes(data)
    return path


def names_the_place(path: Path, line: int = BAD_LINE) -> str:
    return rf"^{re.escape(str(path))}:{line}: not valid UTF-8 \(byte 0xff at column 2"


def filler(template: str, count: int = BAD_LINE + 100) -> List[str]:
    """`count` lines: `template` with `{i}` replaced by the line's index."""
    return [template.replace("{i}", str(i)) for i in range(count)]


# ---------------------------------------------------------------- converters


def test_ade(tmp_path, nlp):
    folder = tmp_path / "ade"
    folder.mkdir()
    (folder / "DRUG-AE.rel").write_text("1|Aspirin caused rash.|rash|15|19|Aspirin|0|7\n", encoding="utf8")
    (folder / "DRUG-DOSE.rel").write_text("", encoding="utf8")
    neg = write_poisoned(folder / "ADE-NEG.txt", filler("{i} NEG Patient number {i} had no reaction at all."))
    with pytest.raises(CorpusError, match=names_the_place(neg)):
        convert("ade", folder, nlp=nlp)
    neg.write_text("2 NEG Nothing happened.\n", encoding="utf8")
    rel = write_poisoned(folder / "DRUG-AE.rel", filler("{i}|Aspirin caused rash.|rash|15|19|Aspirin|0|7"))
    with pytest.raises(CorpusError, match=names_the_place(rel)):
        convert("ade", folder, nlp=nlp)


@pytest.mark.parametrize("bad", ["txt", "ann"])
def test_brat(tmp_path, nlp, bad):
    txt, ann = tmp_path / "n1.txt", tmp_path / "n1.ann"
    txt.write_text("Aspirin caused rash.\n", encoding="utf8")
    ann.write_text("T1\tDrug 0 7\tAspirin\n", encoding="utf8")
    target = txt if bad == "txt" else ann
    write_poisoned(target, filler("T{i}\tDrug 0 7\tAspirin" if bad == "ann" else "Line {i} of the note."))
    with pytest.raises(CorpusError, match=names_the_place(target)):
        convert("brat", tmp_path, nlp=nlp)


def test_conll(tmp_path, nlp):
    path = write_poisoned(tmp_path / "train.conll", filler("aspirin{i} B-DRUG"))
    with pytest.raises(CorpusError, match=names_the_place(path)):
        convert("conll", path, nlp=nlp)


def test_csv(tmp_path, nlp):
    path = write_poisoned(tmp_path / "notes.csv", ["text,label"] + filler("Note {i} about chest pain.,cardiology"))
    with pytest.raises(CorpusError, match=names_the_place(path)):
        convert("csv", path, nlp=nlp)


@pytest.mark.parametrize("bad", ["txt", "con"])
def test_i2b2(tmp_path, nlp, bad):
    txt, con = tmp_path / "r1.txt", tmp_path / "r1.con"
    txt.write_text("lasix given\n", encoding="utf8")
    con.write_text('c="lasix" 1:0 1:0||t="treatment"\n', encoding="utf8")
    target = txt if bad == "txt" else con
    write_poisoned(target, filler('c="lasix" 1:0 1:0||t="treatment"' if bad == "con" else "lasix given {i}"))
    with pytest.raises(CorpusError, match=names_the_place(target)):
        convert("i2b2", tmp_path, nlp=nlp)


@pytest.mark.parametrize("on_invalid", ["error", "skip"])
def test_jsonl(tmp_path, nlp, on_invalid):
    """Not a malformed record that --on-invalid skip could pass over: the file is unreadable."""
    path = write_poisoned(tmp_path / "tasks.jsonl", filler(json.dumps({"text": "note {i}", "cats": {"A": 1.0}})))
    with pytest.raises(CorpusError, match=names_the_place(path)):
        convert("jsonl", path, nlp=nlp, on_invalid=on_invalid)


def test_split_lists(tmp_path):
    path = write_poisoned(tmp_path / "lists" / "train.txt", filler("NCT{i}"))
    with pytest.raises(CorpusError, match=names_the_place(path)):
        read_split_lists(tmp_path / "lists")


# ---------------------------------------------------------------- pretraining input


@pytest.mark.parametrize(
    "name,lines,kwargs",
    [
        ("notes.txt", filler("Line {i} of one long note."), {}),
        ("notes.txt", filler("Note {i}.\n"), {"txt_mode": "blank-line"}),
        ("notes.jsonl", filler(json.dumps({"text": "note {i}"})), {}),
        ("notes.csv", ["text"] + filler("note {i}"), {}),
    ],
)
def test_pretraining_readers(tmp_path, name, lines, kwargs):
    lines = "\n".join(lines).split("\n")  # blank-line notes: their blank lines count too
    path = write_poisoned(tmp_path / name, lines)
    with pytest.raises(CorpusError, match=names_the_place(path)):
        list(iter_notes([path], **kwargs))


def test_convert_corpus_command_names_the_file(tmp_path):
    from typer.testing import CliRunner

    from spacy_clinicalbert.cli import app

    path = write_poisoned(tmp_path / "tasks.jsonl", filler(json.dumps({"text": "note {i}", "cats": {"A": 1.0}})))
    result = CliRunner().invoke(app, ["convert-corpus", "jsonl", str(path), str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())  # wasabi wraps long messages
    assert f"{path}:{BAD_LINE}: not valid UTF-8 (byte 0xff at column 2" in output
    assert "codec can't decode" not in output


def test_one_corpus_error_that_pickles():
    assert PretrainingCorpusError is CorpusError
    err = pickle.loads(pickle.dumps(CorpusError("notes.jsonl:3", "invalid JSON")))
    assert (err.where, err.problem, str(err)) == ("notes.jsonl:3", "invalid JSON", "notes.jsonl:3: invalid JSON")
    assert str(CorpusError(None, "No input given.")) == "No input given."
