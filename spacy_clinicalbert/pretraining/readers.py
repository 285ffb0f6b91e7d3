"""Stream raw clinical notes from .txt, JSONL and CSV files, or folders of them.

Pretraining corpora (MIMIC-III NOTEEVENTS is about 4 GB) do not fit in memory, so
every reader is a generator that holds one note at a time. Each note carries where
it came from (file and line or row) so that later errors can name it. Records that
hold no text are never dropped silently: they are counted in `ReadStats`. Bad input
raises the package's one `CorpusError` (from `spacy_clinicalbert.corpus.records`),
and a file that is not UTF-8 is named with its line (`corpus.files`).
"""
import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Union

from ..corpus.files import iter_lines, read_text
from ..corpus.records import CorpusError

TXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
SUPPORTED_SUFFIXES = TXT_SUFFIXES + JSONL_SUFFIXES + CSV_SUFFIXES
TXT_MODES = ("file", "blank-line")


@dataclass
class RawNote:
    """One note as read: its text and where it came from (`path:line` or `path:row`)."""

    text: str
    source: str
    # For callers that key rows by note (the `table` command): the record's own id
    # (`id_field`, when asked for and non-empty) and its line (JSONL) or data row (CSV).
    id: Optional[str] = None
    number: int = 0


@dataclass
class ReadStats:
    """What the readers saw, so nothing is dropped without a count."""

    files: List[str] = field(default_factory=list)
    notes: int = 0
    empty: int = 0
    empty_examples: List[str] = field(default_factory=list)

    def count_empty(self, source: str) -> None:
        self.empty += 1
        if len(self.empty_examples) < 5:
            self.empty_examples.append(source)

    def to_dict(self) -> Dict[str, object]:
        return {
            "files": list(self.files),
            "notes_read": self.notes,
            "empty_records_skipped": self.empty,
            "empty_record_examples": list(self.empty_examples),
        }


def expand_inputs(paths: Sequence[Union[str, Path]]) -> List[Path]:
    """Files to read, in a stable order: files as given, folders searched recursively.

    Raises CorpusError for a missing path, an unsupported file given explicitly, or a
    folder that holds no supported file.
    """
    if not paths:
        raise CorpusError(
            None, "No input given: pass one or more .txt, .jsonl or .csv files or folders."
        )
    files: List[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
            if not found:
                raise CorpusError(
                    str(path),
                    f"the folder holds no {', '.join(SUPPORTED_SUFFIXES)} files to pretrain on.",
                )
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise CorpusError(
                    str(path),
                    f"unsupported file type '{path.suffix}'. Use one of "
                    f"{', '.join(SUPPORTED_SUFFIXES)}.",
                )
            files.append(path)
        else:
            raise CorpusError(str(path), "the input does not exist.")
    return files


def _emit(
    text: Optional[str],
    source: str,
    stats: ReadStats,
    note_id: Optional[str] = None,
    number: int = 0,
) -> Iterator[RawNote]:
    if text is None or not str(text).strip():
        stats.count_empty(source)
        return
    stats.notes += 1
    yield RawNote(str(text), source, note_id, number)


def read_txt(path: Path, stats: ReadStats, mode: str = "file") -> Iterator[RawNote]:
    """A .txt file is one note (`file`) or many notes separated by blank lines (`blank-line`)."""
    if mode not in TXT_MODES:
        raise CorpusError(None, f"Unknown txt mode '{mode}': use one of {', '.join(TXT_MODES)}.")
    if mode == "file":
        yield from _emit(read_text(path), f"{path}", stats)
        return
    block: List[str] = []
    start = 1
    for line_no, line in enumerate(iter_lines(path), start=1):
        if line.strip():
            if not block:
                start = line_no
            block.append(line)
        elif block:
            yield from _emit("".join(block), f"{path}:{start}", stats)
            block = []
    if block:
        yield from _emit("".join(block), f"{path}:{start}", stats)


def read_jsonl(
    path: Path, stats: ReadStats, text_field: str = "text", id_field: Optional[str] = None
) -> Iterator[RawNote]:
    """One JSON object per line; the note is `record[text_field]`, its id `record[id_field]`."""
    for line_no, line in enumerate(iter_lines(path), start=1):
        if not line.strip():
            continue
        source = f"{path}:{line_no}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise CorpusError(source, f"invalid JSON ({err.msg}).") from err
        if not isinstance(record, dict):
            raise CorpusError(source, f"expected a JSON object, got {type(record).__name__}.")
        if text_field not in record:
            keys = ", ".join(sorted(record)[:10])
            raise CorpusError(
                source,
                f"no field '{text_field}' (fields: {keys}). Set the text field with --text-field.",
            )
        value = record[text_field]
        if value is not None and not isinstance(value, str):
            raise CorpusError(
                source, f"field '{text_field}' is {type(value).__name__}, expected a string."
            )
        note_id = record.get(id_field) if id_field else None
        yield from _emit(
            value, source, stats, None if note_id in (None, "") else str(note_id), line_no
        )


def _csv_column(header: List[str], wanted: str, path: Path) -> int:
    if wanted in header:
        return header.index(wanted)
    folded = [i for i, name in enumerate(header) if name.strip().lower() == wanted.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    raise CorpusError(
        str(path), f"no column '{wanted}' in the header (columns: {', '.join(header)}). "
        "Set the column with --text-field."
    )


def read_csv(
    path: Path, stats: ReadStats, text_field: str = "text", id_field: Optional[str] = None
) -> Iterator[RawNote]:
    """A CSV with a header row; the note is the column `text_field`.

    The column is matched exactly, else case-insensitively (MIMIC's NOTEEVENTS calls it
    `TEXT`). Quoted fields may span lines, as in NOTEEVENTS; the source names the row.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(iter_lines(path, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CorpusError(str(path), "the CSV file is empty (no header row).") from None
    column = _csv_column(header, text_field, path)
    id_column = header.index(id_field) if id_field in header else None  # optional: exact name only
    try:
        for row_no, row in enumerate(reader, start=1):
            source = f"{path}:row {row_no}"
            if not row:
                continue
            if len(row) <= column:
                raise CorpusError(
                    f"{source} (line {reader.line_num})",
                    f"{len(row)} fields, but column '{header[column]}' is field {column + 1}.",
                )
            note_id = (
                (row[id_column] or None) if id_column is not None and id_column < len(row) else None
            )
            yield from _emit(row[column], source, stats, note_id, row_no)
    except csv.Error as err:
        raise CorpusError(f"{path}:{reader.line_num}", f"malformed CSV ({err}).") from err


def read_file(
    path: Path, stats: ReadStats, *, text_field: str = "text", txt_mode: str = "file"
) -> Iterator[RawNote]:
    suffix = path.suffix.lower()
    if suffix in TXT_SUFFIXES:
        return read_txt(path, stats, txt_mode)
    if suffix in JSONL_SUFFIXES:
        return read_jsonl(path, stats, text_field)
    if suffix in CSV_SUFFIXES:
        return read_csv(path, stats, text_field)
    raise CorpusError(str(path), f"unsupported file type '{path.suffix}'.")


def iter_notes(
    paths: Sequence[Union[str, Path]],
    *,
    text_field: str = "text",
    txt_mode: str = "file",
    stats: Optional[ReadStats] = None,
) -> Iterator[RawNote]:
    """Stream notes from all inputs, one at a time.

    Raises CorpusError, naming the inputs, when they hold no note at all.
    """
    stats = stats if stats is not None else ReadStats()
    files = expand_inputs(paths)
    before = stats.notes
    for path in files:
        stats.files.append(str(path))
        yield from read_file(path, stats, text_field=text_field, txt_mode=txt_mode)
    if stats.notes == before:
        names = ", ".join(str(p) for p in files)
        extra = f" ({stats.empty} empty records skipped)" if stats.empty else ""
        raise CorpusError(None, f"No note with text found in {names}{extra}: the corpus is empty.")
