"""Annotate notes on Spark: the same rows as the local engine, built on `mapInPandas`.

    from spacy_clinicalbert.spark import annotate
    note_nlp = annotate(spark.read.parquet("notes/"), "en_clinicalbert", text="note_text")

Each Python worker loads the pipeline once (a module-level cache: Spark reuses its
Python workers), never per batch, and the pipeline is never pickled: only its name
or path travels with the task, so it must be installed (a package) or readable at
that path on every executor. Torch threads follow `spark.task.cpus`. The notes are
checked as on one machine (null, empty, invalid UTF-8, oversize, duplicate ids) and
the rows come from the same code (`annotate.pipeline.process_notes`), so the output
DataFrames have the `NOTE_NLP` schema and the local engine's values.
Needs the `spark` extra (pyspark 4, which runs on Java 17 or 21).
"""

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from .annotate.omop import RowContext, done_row, pipeline_context
from .annotate.records import DEFAULT_MAX_CHARS, Note, SourceNote, check_note, omop_note_id
from .annotate.schema import Column, TableSchema, spark_schema, tables_for
from .annotate.summary import Summary

TABLE_COLUMN = Column("_table", "string")
_PIPELINES: Dict[Tuple[str, bool], Any] = {}
# When set (a file path), each pipeline load in a Python worker appends "pid threads seconds".
LOAD_LOG = "SPACY_CLINICALBERT_SPARK_LOAD_LOG"


def _union(tables: Tuple[TableSchema, ...]) -> TableSchema:
    """All tables' columns in one schema (same-named columns share a type), for one pass."""
    columns: Dict[str, Column] = {}
    for table in tables:
        for col in table.columns:
            if col.name in columns and columns[col.name].type != col.type:
                raise ValueError(
                    f"column {col.name} has two types: {col.type}, {columns[col.name].type}"
                )
            columns.setdefault(col.name, col)
    return TableSchema("_all", tuple(columns.values()))


def worker_pipeline(pipeline: str, int8: bool):
    """The pipeline of this Python worker, loaded on first use with spark.task.cpus threads."""
    key = (pipeline, int8)
    if key not in _PIPELINES:
        from pyspark import TaskContext

        from .annotate.pipeline import load_pipeline

        context = TaskContext.get()
        threads = int(context.cpus()) if context is not None else 1
        start = time.perf_counter()
        _PIPELINES[key] = load_pipeline(pipeline, int8=int8, threads=threads)
        log = os.environ.get(LOAD_LOG)
        if log:  # one line per load: tests and benchmarks count loads per worker
            with open(log, "a", encoding="utf8") as handle:
                handle.write(f"{os.getpid()} {threads} {time.perf_counter() - start:.3f}\n")
    return _PIPELINES[key]


def _annotate_partition(
    frames: Iterator[Any],
    pipeline: str,
    int8: bool,
    ctx: RowContext,
    schema: str,
    batch_size: int,
    max_chars: int,
    columns: List[str],
) -> Iterator[Any]:
    import pandas as pd

    from .annotate.engine import _error_row
    from .annotate.pipeline import process_notes

    nlp = worker_pipeline(pipeline, int8)
    entity_table = "note_nlp" if schema == "omop" else "entities"
    for frame in frames:
        out: List[Dict[str, Any]] = []
        good: List[Tuple[Note, int]] = []
        for sid, text, person, date, occurrence, row_id in zip(
            frame["_sid"],
            frame["_text"],
            frame["_person"],
            frame["_date"],
            frame["_occ"],
            frame["_row"],
            strict=True,
        ):
            record = SourceNote(sid, text, f"spark row {row_id}", person, date)
            note, problem = check_note(record, max_chars)
            source_id = (
                note.source_id
                if note
                else (sid if sid is not None else f"<no id> spark row {row_id}")
            )
            if problem is None and occurrence > 1:
                problem = (
                    "duplicate_id",
                    f"note id {source_id!r} already read {occurrence - 1} time(s) in this input",
                )
            if problem is not None:
                out.append(
                    dict(
                        _error_row(source_id, int(occurrence), record.location, *problem, ctx),
                        _table="note_nlp_error",
                    )
                )
                stub = note or Note(source_id, omop_note_id(source_id), "")
                status = "duplicate" if problem[0] == "duplicate_id" else "failed"
                out.append(
                    dict(done_row(stub, int(occurrence), status, 0, ctx), _table="note_nlp_note")
                )
            else:
                assert note is not None
                good.append((note, int(occurrence)))
        results = process_notes(nlp, [n for n, _ in good], ctx, schema, batch_size)
        for (note, occurrence), result in zip(good, results, strict=True):
            if result.error is not None or result.rows is None:
                error = result.error or ("pipeline_error", "no rows")
                out.append(
                    dict(
                        _error_row(note.source_id, occurrence, note.location, *error, ctx),
                        _table="note_nlp_error",
                    )
                )
                out.append(
                    dict(done_row(note, occurrence, "failed", 0, ctx), _table="note_nlp_note")
                )
                continue
            for name, rows in result.rows.items():
                out.extend(dict(row, _table=name) for row in rows)
            count = len(result.rows.get(entity_table, []))
            out.append(
                dict(done_row(note, occurrence, "annotated", count, ctx), _table="note_nlp_note")
            )
        # object columns keep 63-bit ids exact (a float column would round them)
        yield pd.DataFrame(out, columns=columns, dtype=object)


def annotate_tables(
    df,
    pipeline: str,
    *,
    note_id: str = "note_id",
    text: str = "text",
    person_id: Optional[str] = None,
    note_date: Optional[str] = None,
    schema: str = "omop",
    spans_key: Optional[str] = None,
    int8: bool = False,
    batch_size: int = 64,
    max_chars: int = DEFAULT_MAX_CHARS,
    nlp_datetime: Optional[dt.datetime] = None,
    ctx: Optional[RowContext] = None,
    skip=None,
) -> Dict[str, Any]:
    """Every output table of `df`'s notes as a Spark DataFrame (computed once, cached).

    `skip`: a DataFrame of (note_source_id, occurrence) already done, left out.
    """
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    for name in (note_id, text, person_id, note_date):
        if name is not None and name not in df.columns:
            raise ValueError(
                f"no column '{name}' in the Spark DataFrame (columns: {', '.join(df.columns)})"
            )
    if ctx is None:
        ctx = pipeline_context(pipeline, int8=int8, spans_key=spans_key, nlp_datetime=nlp_datetime)
    tables = tables_for(schema)
    union = _union(tables)
    columns = [*union.names, TABLE_COLUMN.name]
    none = F.lit(None).cast("string")
    notes = df.select(
        F.col(note_id).cast("string").alias("_sid"),
        F.col(text).alias("_text"),
        (F.col(person_id).cast("string") if person_id else none).alias("_person"),
        (F.col(note_date).cast("string") if note_date else none).alias("_date"),
    ).withColumn("_row", F.monotonically_increasing_id())
    notes = notes.withColumn(
        "_occ", F.row_number().over(Window.partitionBy("_sid").orderBy("_row"))
    )
    if skip is not None:
        skip = skip.select(F.col("note_source_id").alias("_sid"), F.col("occurrence").alias("_occ"))
        notes = notes.join(skip, ["_sid", "_occ"], "left_anti")
    settings = (pipeline, int8, ctx, schema, batch_size, max_chars, columns)
    combined = notes.mapInPandas(
        lambda frames: _annotate_partition(frames, *settings),
        schema=spark_schema(union, (TABLE_COLUMN,)),
    )
    combined = combined.persist(StorageLevel.MEMORY_AND_DISK)
    return {t.name: combined.where(F.col("_table") == t.name).select(*t.names) for t in tables}


def annotate(df, pipeline: str, **settings: Any):
    """The `NOTE_NLP` rows of `df`'s notes (see `annotate_tables` for all tables)."""
    tables = annotate_tables(df, pipeline, **settings)
    return tables["note_nlp"] if "note_nlp" in tables else tables["entities"]


def spark_session(
    master: str = "local[2]",
    app_name: str = "spacy-clinicalbert annotate",
    jars: Sequence[str] = (),
):
    """A SparkSession whose Python workers run this interpreter (so they find this package);
    `jars` (JDBC drivers) go on its classpath."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    cores = master[len("local[") : -1] if master.startswith("local[") else ""
    if cores.isdigit():  # one machine: one shuffle partition per core (not 200, not coalesced to 1)
        builder = builder.config("spark.sql.shuffle.partitions", cores).config(
            "spark.sql.adaptive.coalescePartitions.enabled", "false"
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def read_notes(spark, spec: str, query: Optional[str] = None):
    """Parquet (file or folder), JSONL, CSV, or a database (SQLAlchemy or `jdbc:` URL) with
    `query`, read over JDBC (see `spark_database`)."""
    from .spark_database import is_database, read_jdbc

    if is_database(spec):
        return read_jdbc(spark, spec, query)
    path = Path(spec).expanduser()
    if not path.exists():
        raise ValueError(f"{path}: no such file or folder.")
    if path.suffix in {".jsonl", ".ndjson"}:
        return spark.read.json(str(path))
    if path.suffix in {".csv", ".tsv"}:
        return (
            spark.read.option("header", True)
            .option("multiLine", True)
            .option("escape", '"')
            .option("sep", "\t" if path.suffix == ".tsv" else ",")
            .csv(str(path))
        )
    return spark.read.parquet(str(path))


def annotate_files(
    pipeline: str,
    input: str,
    output: str,
    *,
    master: str = "local[2]",
    query: Optional[str] = None,
    overwrite: bool = False,
    table_prefix: str = "",
    jars: Sequence[str] = (),
    spark=None,
    **settings: Any,
) -> Summary:
    """`annotate --engine spark`: notes from files or a database to a Parquet output folder
    or a database.

    A folder output has the local engine's layout (`OUTPUT/<table>/part-*.parquet`) and the
    same protocol: Spark writes a run's tables into a staging folder, one ledger rename
    commits them. A database output gets the local engine's tables, through staging tables
    and one transaction (`spark_database`). Either way, notes already in `note_nlp_note`
    are left out of a new run.
    """
    from .annotate.sinks import DatabaseSink, FileSink
    from .spark_database import default_jars, is_database

    started = time.perf_counter()
    spark = spark or spark_session(master, jars=default_jars((input, output), jars))
    tables = tables_for(settings.get("schema", "omop"))
    to_database = is_database(output)
    if to_database and output.startswith("jdbc:"):
        raise ValueError(
            "give the output database as a SQLAlchemy URL (postgresql+psycopg://user@host/db): "
            "the driver commits the run in one transaction through it"
        )
    sink: Any = (
        DatabaseSink(output, prefix=table_prefix, overwrite=overwrite)
        if to_database
        else FileSink(Path(output), "parquet", overwrite=overwrite)
    )
    done = sink.open(tables)
    summary = Summary()
    summary.recovered = dict(getattr(sink, "recovered", {}))
    notes = read_notes(spark, input, query)
    ctx = pipeline_context(  # the driver names the pipeline; only the workers load it
        pipeline,
        int8=bool(settings.get("int8")),
        spans_key=settings.get("spans_key"),
        nlp_datetime=settings.pop("nlp_datetime", None),
    )
    skip = (
        spark.createDataFrame(sorted(done), "note_source_id string, occurrence int")
        if done
        else None
    )
    out = annotate_tables(notes, pipeline, ctx=ctx, skip=skip, **settings)
    if to_database:
        from .spark_database import commit_to_database

        commit_to_database(sink, out, tables, summary)
    else:
        _commit_files(sink, out, summary)
    sink.close()
    summary.read = notes.count()
    summary.skipped_done = summary.read - summary.annotated - summary.failed
    summary.started = started
    return summary.finish()


def _commit_files(sink, out: Dict[str, Any], summary: Summary) -> None:
    """Write the tables into a staging folder, commit it with one ledger rename, count it."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    root = sink.root
    batch = sink.ledger.next_batch()
    staged = sink.ledger.stage(batch)
    moves: List[Tuple[str, str]] = []
    for name, frame in out.items():
        frame.write.mode("overwrite").parquet(str(staged / name))
        for k, part in enumerate(sorted((staged / name).glob("part-*.parquet"))):
            moves.append((f"{name}/{part.name}", f"{name}/part-{batch:06d}-{k:05d}.parquet"))
    if moves:
        sink.ledger.commit(batch, moves)
    this_run = [
        pq.read_table(p) for p in Path(root, "note_nlp_note").glob(f"part-{batch:06d}-*.parquet")
    ]
    for table in this_run:
        for status, words in zip(
            table.column("status").to_pylist(), table.column("words").to_pylist(), strict=True
        ):
            if status == "annotated":
                summary.annotated += 1
                summary.words += words or 0
            else:  # failed, duplicate
                summary.failed += 1
    for part in Path(root, "note_nlp_error").glob(f"part-{batch:06d}-*.parquet"):
        for reason in pq.read_table(part).column("reason").to_pylist():
            summary.reasons[reason] += 1
    for name in out:
        summary.rows[name] = sum(
            pq.read_metadata(p).num_rows
            for p in Path(root, name).glob(f"part-{batch:06d}-*.parquet")
        )
    summary.batches = 1 if moves else 0
