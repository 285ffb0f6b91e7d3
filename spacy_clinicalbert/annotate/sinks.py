"""Where rows go: a folder of Parquet, CSV or JSONL parts per table, or a database.

Every sink writes one batch at a time with its done-record (`note_nlp_note` rows)
atomically: a database in one transaction, files through `ledger.FileLedger`. On
open, a sink tells which notes are already done, so a restarted run skips them.
Database tables are created with proper types (BIGINT, VARCHAR(250), DATE, ...)
when missing; an existing table that lacks a column is refused with its name.
"""

import csv
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from .ledger import STATE, FileLedger
from .schema import DONE_TABLE, TableSchema, arrow_schema, sqlalchemy_table

DoneKeys = Set[Tuple[str, int]]
Rows = Dict[str, List[Dict[str, Any]]]
FORMATS = ("parquet", "csv", "jsonl")


class SinkError(ValueError):
    """The output cannot be written as asked."""


def _json_ready(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _encode_json_columns(table: TableSchema, rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    names = [c.name for c in table.columns if c.type == "json"]
    if not names:
        return rows
    return [
        dict(row, **{n: json.dumps(row.get(n), ensure_ascii=False) for n in names}) for row in rows
    ]


class Sink:
    def open(self, tables: Iterable[TableSchema]) -> DoneKeys:
        raise NotImplementedError

    def write_batch(self, rows: Rows) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    description = ""


class FileSink(Sink):
    """`ROOT/<table>/part-NNNNNN.<format>`, one part per committed batch and table."""

    def __init__(self, root: Path, fmt: str = "parquet", overwrite: bool = False):
        if fmt not in FORMATS:
            raise SinkError(f"Unknown output format '{fmt}': use one of {', '.join(FORMATS)}.")
        self.root, self.format, self.overwrite = root, fmt, overwrite
        self.suffix = "." + fmt
        self.ledger = FileLedger(root)
        self.description = f"{fmt} files in {root}"
        self.tables: Dict[str, TableSchema] = {}
        self.recovered: Dict[str, int] = {}

    def open(self, tables: Iterable[TableSchema]) -> DoneKeys:
        self.tables = {t.name: t for t in tables}
        if self.root.exists() and self.overwrite:
            for name in (*self.tables, STATE):
                shutil.rmtree(self.root / name, ignore_errors=True)
        if self.root.exists() and any(self.root.iterdir()) and not (self.root / STATE).exists():
            raise SinkError(
                f"{self.root} holds files that no annotate run wrote; choose an empty or "
                "new folder (or --overwrite to replace its annotate tables)."
            )
        state = self.root / STATE / "format"
        if state.exists() and state.read_text().strip() != self.format:
            raise SinkError(
                f"{self.root} holds {state.read_text().strip()} parts; resume it with "
                f"--format {state.read_text().strip()} or choose another folder."
            )
        self.root.mkdir(parents=True, exist_ok=True)
        self.recovered = self.ledger.recover()
        state.write_text(self.format)
        self._give_every_table_a_part()  # readable at any moment, even if this run is killed
        return self._done_keys()

    def _done_keys(self) -> DoneKeys:
        keys: DoneKeys = set()
        for part in self.ledger.parts(DONE_TABLE, self.suffix):
            for row in self._read(part, ("note_source_id", "occurrence")):
                keys.add((str(row["note_source_id"]), int(row["occurrence"])))
        return keys

    def _read(self, path: Path, columns: Tuple[str, ...]) -> Iterable[Dict[str, Any]]:
        if self.format == "parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            yield from pq.read_table(path, columns=list(columns)).to_pylist()
        elif self.format == "csv":
            with path.open(encoding="utf8", newline="") as handle:
                yield from csv.DictReader(handle)
        else:
            with path.open(encoding="utf8") as handle:
                for line in handle:
                    if line.strip():
                        yield json.loads(line)

    def _write(self, table: TableSchema, rows: List[Dict[str, Any]], path: Path) -> None:
        if self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            data = pa.Table.from_pylist(
                _encode_json_columns(table, rows), schema=arrow_schema(table)
            )
            pq.write_table(data, path)
        elif self.format == "csv":
            with path.open("w", encoding="utf8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(table.names), extrasaction="ignore")
                writer.writeheader()
                for row in _encode_json_columns(table, rows):
                    writer.writerow({k: _json_ready(v) for k, v in row.items()})
        else:
            with path.open("w", encoding="utf8") as handle:
                for row in rows:
                    record = {name: _json_ready(row.get(name)) for name in table.names}
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def write_batch(self, rows: Rows) -> None:
        batch = self.ledger.next_batch()
        staged = self.ledger.stage(batch)
        files = []
        for name, table_rows in rows.items():
            if not table_rows:
                continue
            staged_name = f"{name}{self.suffix}"
            self._write(self.tables[name], table_rows, staged / staged_name)
            files.append((staged_name, f"{name}/part-{batch:06d}{self.suffix}"))
        if files:
            self.ledger.commit(batch, files)

    def close(self) -> None:
        self._give_every_table_a_part()

    def _give_every_table_a_part(self) -> None:
        """Give every table at least an empty part, so readers find its columns."""
        for name, table in self.tables.items():
            folder = self.root / name
            if not any(self.ledger.parts(name, self.suffix)):
                folder.mkdir(parents=True, exist_ok=True)
                partial = folder / f".part-empty{self.suffix}.tmp"  # renamed whole, or not at all
                self._write(table, [], partial)
                partial.replace(folder / f"part-empty{self.suffix}")


class DatabaseSink(Sink):
    """Tables in a database (SQLAlchemy URL); each batch is one transaction."""

    def __init__(self, url: str, prefix: str = "", overwrite: bool = False):
        import sqlalchemy as sa

        self.url, self.prefix, self.overwrite = url, prefix, overwrite
        self.engine = sa.create_engine(url)
        self.description = f"database {self.engine.url.render_as_string(hide_password=True)}"
        self.metadata = sa.MetaData()
        self.tables: Dict[str, Any] = {}
        self.schemas: Dict[str, TableSchema] = {}

    def open(self, tables: Iterable[TableSchema]) -> DoneKeys:
        import sqlalchemy as sa

        for table in tables:
            self.schemas[table.name] = table
            self.tables[table.name] = sqlalchemy_table(table, self.metadata, self.prefix)
        try:
            if self.overwrite:
                self.metadata.drop_all(self.engine, checkfirst=True)
            self.metadata.create_all(self.engine, checkfirst=True)
            inspector = sa.inspect(self.engine)
            for name, table in self.tables.items():
                have = {c["name"] for c in inspector.get_columns(table.name)}
                missing = [c for c in self.schemas[name].names if c not in have]
                if missing:
                    raise SinkError(
                        f"{self.description}: table {table.name} exists without the columns "
                        f"{', '.join(missing)}; drop it or use --table-prefix."
                    )
            done = self.tables[DONE_TABLE]
            with self.engine.connect() as conn:
                result = conn.execute(sa.select(done.c.note_source_id, done.c.occurrence))
                return {(str(a), int(b)) for a, b in result}
        except sa.exc.SQLAlchemyError as err:
            raise SinkError(
                f"{self.description}: {err.__class__.__name__}: {str(err).splitlines()[0]}"
            ) from err

    def write_batch(self, rows: Rows) -> None:
        with self.engine.begin() as conn:  # rows and done-record commit together, or not at all
            for name, table_rows in rows.items():
                if table_rows:
                    conn.execute(
                        self.tables[name].insert(),
                        _encode_json_columns(self.schemas[name], table_rows),
                    )

    def close(self) -> None:
        self.engine.dispose()


def open_sink(
    spec: str, fmt: Optional[str] = None, *, overwrite: bool = False, prefix: str = ""
) -> Sink:
    """A database URL (`sqlite:///out.db`, `postgresql+psycopg://...`) or an output folder."""
    from .sources import is_database_url

    if is_database_url(spec):
        return DatabaseSink(spec, prefix=prefix, overwrite=overwrite)
    path = Path(spec).expanduser()
    if fmt is None:
        fmt = (
            path.suffix.lstrip(".").lower()
            if path.suffix.lstrip(".").lower() in FORMATS
            else "parquet"
        )
    return FileSink(path, fmt, overwrite=overwrite)
