"""`annotate`: a pipeline over notes into OMOP NOTE_NLP rows, resumably, on one machine or Spark."""

import datetime as dt
import json
from pathlib import Path
from typing import Any, Dict, Optional

import typer
from wasabi import msg

from . import app

ENGINES = ("local", "spark")


@app.command("annotate")
def annotate_cli(
    pipeline: str = typer.Argument(
        ..., help="Pipeline to run: a package name or a saved pipeline folder."
    ),
    input: str = typer.Option(
        ...,
        "--input",
        "-i",
        help="Notes: .csv, .tsv, .jsonl, .parquet, a folder of .txt (or .parquet) files, or a "
        "database "
        "URL (sqlite:///notes.db, postgresql+psycopg://user@host/db; with --engine spark, "
        "PostgreSQL or a jdbc: URL) with --query.",
    ),
    output: str = typer.Option(
        ...,
        "--output",
        "-o",
        help="Where rows go: a folder (one sub-folder of part files per table) or a database URL "
        "(tables created when missing; with --engine spark, PostgreSQL over JDBC). Run again on "
        "the same output to resume.",
    ),
    query: Optional[str] = typer.Option(
        None, "--query", help="SQL query giving the notes when --input is a database URL."
    ),
    output_format: Optional[str] = typer.Option(
        None, "--format", help="Files for a folder output: parquet (default), csv or jsonl."
    ),
    id_column: str = typer.Option(
        "note_id", "--id-column", help="Column (or JSON field) of the note id."
    ),
    text_column: str = typer.Option(
        "text", "--text-column", help="Column (or JSON field) of the note text."
    ),
    person_column: Optional[str] = typer.Option(
        None, "--person-column", help="Column of the patient id (optional; kept in note_nlp_note)."
    ),
    date_column: Optional[str] = typer.Option(
        None,
        "--date-column",
        help="Column of the note date, ISO (optional; kept in note_nlp_note).",
    ),
    schema: str = typer.Option(
        "omop",
        "--schema",
        help="omop: NOTE_NLP + relation, category, error and note tables; entities: the `table` "
        "command's rows (one per entity, relations nested).",
    ),
    spans_key: Optional[str] = typer.Option(
        None,
        "--spans-key",
        help="Tabulate doc.spans[KEY] instead of doc.ents (e.g. a rule span group).",
    ),
    engine: str = typer.Option(
        "local", "--engine", help="local (this machine, --n-process) or spark."
    ),
    master: str = typer.Option(
        "local[2]",
        "--master",
        help="Spark master URL for --engine spark (local[2], spark://host:7077, yarn).",
    ),
    jars: Optional[str] = typer.Option(
        None,
        "--jars",
        help="Comma-separated jars for Spark's classpath (a JDBC driver for a database input "
        "or output; default: Debian's /usr/share/java/postgresql.jar when present).",
    ),
    n_process: int = typer.Option(
        1,
        "--n-process",
        help="Worker processes on this machine, one torch thread each (local engine).",
    ),
    int8: bool = typer.Option(
        False,
        "--int8",
        help="Run the encoder as int8 through ONNX Runtime (needs the cpu-int8 extra).",
    ),
    threads: int = typer.Option(
        0, "--threads", help="Torch threads of the single local process (0: torch's default)."
    ),
    batch_size: int = typer.Option(64, "--batch-size", help="Notes per batch given to nlp.pipe."),
    commit_every: int = typer.Option(
        500,
        "--commit-every",
        help="Notes per committed batch: rows and done-records are written together, atomically.",
    ),
    max_chars: int = typer.Option(
        200_000, "--max-chars", help="Longer notes go to the errors table (reason oversize)."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the output's annotate tables instead of resuming."
    ),
    table_prefix: str = typer.Option(
        "", "--table-prefix", help="Prefix of the database table names."
    ),
    nlp_datetime: Optional[str] = typer.Option(
        None,
        "--nlp-datetime",
        help="ISO time to write as nlp_date/nlp_datetime (default: now, UTC).",
    ),
    summary_path: Optional[Path] = typer.Option(
        None, "--summary", help="Also write the run summary as JSON to this file."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the progress bar."),
):
    """Annotate notes into OMOP CDM v5.4 NOTE_NLP rows (plus relation, category, error and note
    tables). Bad notes (null, empty, invalid UTF-8, oversize, duplicate id) go to note_nlp_error
    and the run continues; a run that stops at any moment can be restarted and skips finished
    notes."""
    from ..annotate.sinks import SinkError
    from ..annotate.sources import SourceError
    from ..transformer.quantization import QuantizationError

    if engine not in ENGINES:
        msg.fail(f"Unknown engine '{engine}': use local or spark.", exits=1)
    when = dt.datetime.fromisoformat(nlp_datetime) if nlp_datetime else None
    settings: Dict[str, Any] = dict(
        note_id=id_column,
        text=text_column,
        person_id=person_column,
        note_date=date_column,
        schema=schema,
        spans_key=spans_key,
        int8=int8,
        batch_size=batch_size,
        max_chars=max_chars,
        nlp_datetime=when,
    )
    try:
        if engine == "spark":
            from ..spark import annotate_files

            summary = annotate_files(
                pipeline,
                input,
                output,
                master=master,
                query=query,
                overwrite=overwrite,
                table_prefix=table_prefix,
                jars=[j for j in (jars or "").split(",") if j],
                **settings,
            )
        else:
            from ..annotate import annotate

            summary = annotate(
                pipeline,
                input,
                output,
                query=query,
                output_format=output_format,
                n_process=n_process,
                commit_every=commit_every,
                overwrite=overwrite,
                table_prefix=table_prefix,
                threads=threads or None,
                progress=progress,
                **settings,
            )
    except (SourceError, SinkError, ValueError, QuantizationError) as err:
        msg.fail(str(err), exits=1)
    for line in summary.lines():
        msg.info(line)
    if summary_path:
        summary_path.parent.mkdir(parents=True, exist_ok=True)
        summary_path.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf8")
    msg.good(f"Annotated {summary.annotated} notes into {output}")
