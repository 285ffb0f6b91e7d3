"""Where notes come from: CSV/TSV, JSONL, Parquet, a folder of .txt files, or a SQL query.

Each source streams `SourceNote`s (one at a time, or a batch of rows for Parquet
and SQL) with the place each came from, so errors name the file and line or row.
Files are read with `errors="surrogateescape"`: a record with bytes that are not
UTF-8 reaches the checks (and the errors output) instead of stopping the run.
A misconfigured column stops the run at once with the columns that do exist.
"""

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from .records import SourceNote


class SourceError(ValueError):
    """The input cannot be read as asked (missing file, column, bad query)."""


@dataclass
class Columns:
    """Names of the input's columns (or JSON fields); person_id and note_date are optional."""

    note_id: str = "note_id"
    text: str = "text"
    person_id: Optional[str] = None
    note_date: Optional[str] = None
    # The `table` command's old behaviour: with no id column, the line or row number is the id.
    number_when_no_id: bool = False


def is_database_url(spec: str) -> bool:
    return "://" in spec and not spec.startswith("file://")


class Source:
    """Iterate to get notes; `total` is the number of records when cheap to know."""

    total: Optional[int] = None
    description: str = ""

    def __iter__(self) -> Iterator[SourceNote]:
        raise NotImplementedError


def _pick(
    header: List[str],
    wanted: Optional[str],
    what: str,
    where: str,
    option: str,
    required: bool = True,
) -> Optional[str]:
    if wanted is None:
        return None
    if wanted in header:
        return wanted
    folded = [name for name in header if name.strip().lower() == wanted.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    if not required:
        return None
    raise SourceError(
        f"{where}: no {what} column '{wanted}' (columns: {', '.join(map(str, header))}). "
        f"Name it with {option}."
    )


class _Picked:
    def __init__(self, header: List[str], columns: Columns, where: str):
        self.text = _pick(header, columns.text, "text", where, "--text-column")
        self.note_id = _pick(
            header,
            columns.note_id,
            "note id",
            where,
            "--id-column",
            required=not columns.number_when_no_id,
        )
        self.person_id = _pick(header, columns.person_id, "person id", where, "--person-column")
        self.note_date = _pick(header, columns.note_date, "note date", where, "--date-column")
        self.number_when_no_id = columns.number_when_no_id

    def note(self, get, location: str, number: int) -> SourceNote:
        note_id = get(self.note_id) if self.note_id else None
        if self.number_when_no_id and (note_id is None or note_id == ""):
            note_id = str(number)
        return SourceNote(
            note_id,
            get(self.text),
            location,
            get(self.person_id) if self.person_id else None,
            get(self.note_date) if self.note_date else None,
        )


class CsvSource(Source):
    """A CSV or TSV file with a header row; quoted fields may span lines (MIMIC NOTEEVENTS)."""

    def __init__(self, path: Path, columns: Columns, delimiter: str = ","):
        self.path, self.columns, self.delimiter = path, columns, delimiter
        self.description = f"{'TSV' if delimiter == chr(9) else 'CSV'} {path}"

    def _reader(self, handle):
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        return csv.reader(handle, delimiter=self.delimiter)

    def count(self) -> int:
        with self.path.open(encoding="utf8", errors="surrogateescape", newline="") as handle:
            return max(0, sum(1 for row in self._reader(handle) if row) - 1)

    def __iter__(self) -> Iterator[SourceNote]:
        with self.path.open(encoding="utf8", errors="surrogateescape", newline="") as handle:
            reader = self._reader(handle)
            header = next(reader, None)
            if header is None:
                raise SourceError(f"{self.path}: the file is empty (no header row).")
            picked = _Picked(header, self.columns, str(self.path))
            index = {name: i for i, name in enumerate(header)}
            for number, row in enumerate(reader, start=1):
                if not row:
                    continue
                location = f"{self.path}:row {number} (line {reader.line_num})"
                if len(row) != len(header):
                    yield SourceNote(
                        None,
                        None,
                        location,
                        problem=("bad_record", f"{len(row)} fields, the header has {len(header)}"),
                    )
                    continue
                # with no id column, the id is the row's line in the file (the header is line 1)
                yield picked.note(lambda name, row=row: row[index[name]], location, number + 1)


class JsonlSource(Source):
    """One JSON object per line."""

    def __init__(self, path: Path, columns: Columns):
        self.path, self.columns = path, columns
        self.description = f"JSONL {path}"

    def count(self) -> int:
        with self.path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())

    def __iter__(self) -> Iterator[SourceNote]:
        cols = self.columns
        seen_text = False
        with self.path.open(encoding="utf8", errors="surrogateescape") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                location = f"{self.path}:{line_no}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    yield SourceNote(
                        None, None, location, problem=("bad_record", f"invalid JSON: {err.msg}")
                    )
                    continue
                if not isinstance(record, dict):
                    yield SourceNote(
                        None,
                        None,
                        location,
                        problem=("bad_record", f"a JSON {type(record).__name__}, not an object"),
                    )
                    continue
                if cols.text not in record:
                    if not seen_text:  # the first records: a wrong --text-column, not bad data
                        raise SourceError(
                            f"{location}: no '{cols.text}' field (fields: "
                            f"{', '.join(sorted(record)[:10])}). Name it with --text-column."
                        )
                    yield SourceNote(
                        record.get(cols.note_id),
                        None,
                        location,
                        problem=("bad_record", f"no '{cols.text}' field"),
                    )
                    continue
                seen_text = True
                note_id = record.get(cols.note_id)
                if cols.number_when_no_id and note_id in (None, ""):
                    note_id = str(line_no)
                yield SourceNote(
                    note_id,
                    record[cols.text],
                    location,
                    record.get(cols.person_id) if cols.person_id else None,
                    record.get(cols.note_date) if cols.note_date else None,
                )


class TextFolderSource(Source):
    """Every .txt file under a folder (or one .txt file) is a note; its id is its path."""

    def __init__(self, path: Path):
        self.path = path
        if path.is_dir():
            self.files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in {".txt", ".text"}
            )
            if not self.files:
                raise SourceError(f"{path}: the folder holds no .txt files.")
        else:
            self.files = [path]
        self.total = len(self.files)
        self.description = f"{self.total} text files in {path}"

    def __iter__(self) -> Iterator[SourceNote]:
        for file in self.files:
            note_id = str(file.relative_to(self.path)) if self.path.is_dir() else file.name
            yield SourceNote(note_id, file.read_bytes(), str(file))


class ParquetSource(Source):
    """A Parquet file or a folder of them (a dataset), read in record batches."""

    def __init__(self, path: Path, columns: Columns, batch_rows: int = 1024):
        import pyarrow.dataset as ds  # type: ignore[import-untyped]

        self.path, self.columns, self.batch_rows = path, columns, batch_rows
        self.dataset = ds.dataset(str(path), format="parquet")
        self.picked = _Picked(self.dataset.schema.names, columns, str(path))
        self.total = self.dataset.count_rows()
        self.description = f"Parquet {path}"

    def __iter__(self) -> Iterator[SourceNote]:
        picked = self.picked
        wanted = [c for c in (picked.note_id, picked.text, picked.person_id, picked.note_date) if c]
        number = 0
        for batch in self.dataset.to_batches(
            columns=list(dict.fromkeys(wanted)), batch_size=self.batch_rows
        ):
            data: Dict[str, List[Any]] = batch.to_pydict()
            for i in range(batch.num_rows):
                number += 1
                where = f"{self.path}: row {number}"
                yield picked.note(lambda name, data=data, i=i: data[name][i], where, number)


class SqlSource(Source):
    """The rows of a SQL query on a database URL (SQLAlchemy), streamed with a server cursor."""

    def __init__(self, url: str, query: str, columns: Columns, batch_rows: int = 1000):
        import sqlalchemy as sa

        self.url, self.query, self.columns, self.batch_rows = url, query, columns, batch_rows
        self.engine = sa.create_engine(url)
        self.description = f"query on {self.engine.url.render_as_string(hide_password=True)}"
        try:
            with self.engine.connect() as conn:
                self.total = conn.execute(
                    sa.text(f"SELECT COUNT(*) FROM ({query}) AS notes")
                ).scalar()
        except sa.exc.SQLAlchemyError as err:
            raise SourceError(
                f"{self.description}: the query failed: {err.__class__.__name__}: "
                f"{str(err).splitlines()[0]}"
            ) from err

    def __iter__(self) -> Iterator[SourceNote]:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=self.batch_rows).execute(
                sa.text(self.query)
            )
            picked = _Picked(list(result.keys()), self.columns, self.description)
            for number, row in enumerate(result, start=1):
                values = row._mapping
                where = f"query row {number}"
                yield picked.note(lambda name, values=values: values[name], where, number)
        self.engine.dispose()


def open_source(spec: str, columns: Columns, query: Optional[str] = None) -> Source:
    """The source named by `spec`: a database URL (with `query`), or a file or folder."""
    if is_database_url(spec):
        if not query:
            raise SourceError(
                f"{spec}: a database input needs --query (e.g. "
                '"SELECT note_id, note_text AS text FROM note").'
            )
        return SqlSource(spec, query, columns)
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder.")
    suffix = path.suffix.lower()
    if path.is_dir():
        if any(path.rglob("*.parquet")):
            return ParquetSource(path, columns)
        return TextFolderSource(path)
    if suffix in {".txt", ".text"}:
        return TextFolderSource(path)
    if suffix in {".jsonl", ".ndjson"}:
        return JsonlSource(path, columns)
    if suffix == ".csv":
        return CsvSource(path, columns)
    if suffix == ".tsv":
        return CsvSource(path, columns, delimiter="\t")
    if suffix in {".parquet", ".pq"}:
        return ParquetSource(path, columns)
    raise SourceError(
        f"{path}: unsupported input; use .csv, .tsv, .jsonl, .parquet, a folder of "
        ".txt or .parquet files, or a database URL with --query."
    )
