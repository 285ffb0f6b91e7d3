"""`table`: the entity rows of `annotate --schema entities`, written to one JSONL or CSV file.

A thin alias kept for scripts written before `annotate`: the notes are read, checked
and annotated by `annotate` (into a temporary folder), whose parts are joined into
OUTPUT. Notes that could not be annotated are counted and, when there are any,
written beside OUTPUT as OUTPUT.errors.jsonl.
"""

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Tuple

import typer
from wasabi import msg

from . import app

if TYPE_CHECKING:
    from ..pretraining.readers import ReadStats


def _records(
    path: Path, text_field: str, id_field: str, stats: "ReadStats"
) -> Iterator[Tuple[str, str]]:
    """(id, text) pairs read the way `annotate` reads them, for commands that want docs, not rows
    (`render`). Empty notes are counted in `stats`; any other bad note stops with its place."""
    from ..annotate.records import DEFAULT_MAX_CHARS, check_note
    from ..annotate.sources import Columns, SourceError, open_source

    try:
        source = open_source(str(path), Columns(id_field, text_field, number_when_no_id=True))
        for record in source:
            note, problem = check_note(record, DEFAULT_MAX_CHARS)
            if problem is not None:
                if problem[0] in {"empty_text", "null_text"}:
                    stats.count_empty(record.location)
                    continue
                msg.fail(f"{record.location}: {problem[1]} ({problem[0]})", exits=1)
            assert note is not None
            stats.notes += 1
            yield note.source_id, note.text
    except SourceError as err:
        msg.fail(str(err), exits=1)


def join_parts(folder: Path, output: Path, fmt: str) -> int:
    """Concatenate a table's part files (in commit order) into one file; returns the rows."""
    parts = sorted(p for p in folder.glob(f"part-*.{fmt}") if "empty" not in p.name)
    rows = 0
    with output.open("w", encoding="utf8", newline="") as out:
        for i, part in enumerate(parts):
            lines = part.read_text(encoding="utf8").splitlines(keepends=True)
            if fmt == "csv" and i > 0:
                lines = lines[1:]
            out.writelines(lines)
        if fmt == "csv" and not parts:
            empty = next(folder.glob("part-empty.csv"), None)
            if empty:
                out.write(empty.read_text(encoding="utf8"))
    if fmt == "jsonl":
        rows = sum(1 for line in output.read_text(encoding="utf8").splitlines() if line.strip())
    else:
        import csv

        with output.open(encoding="utf8", newline="") as handle:
            rows = sum(1 for _ in csv.DictReader(handle))
    return rows


@app.command("table")
def table_cli(
    pipeline: str = typer.Argument(
        ..., help="Pipeline to run: a package name or a saved pipeline folder."
    ),
    input_path: Path = typer.Argument(
        ...,
        help="Notes: a folder of .txt files, one .txt file, JSONL, CSV, TSV or Parquet.",
        exists=True,
    ),
    output_path: Path = typer.Argument(
        ...,
        help="Where to write the rows: .jsonl (nested relations) or .csv (relations as JSON text).",
    ),
    text_field: str = typer.Option(
        "text", "--text-field", help="JSONL field or CSV column holding the note text."
    ),
    id_field: str = typer.Option(
        "id",
        "--id-field",
        help="JSONL field or CSV column holding the note id (default: the line or row number).",
    ),
    spans_key: Optional[str] = typer.Option(
        None,
        "--spans-key",
        help="Tabulate doc.spans[KEY] instead of doc.ents (e.g. a rule span group).",
    ),
    batch_size: int = typer.Option(8, "--batch-size", help="Notes per batch given to nlp.pipe."),
    limit: int = typer.Option(0, "--limit", help="Stop after this many notes (0: all)."),
):
    """Run PIPELINE over notes and write one row per entity: label, text, character
    offsets, source (model or rule), section, the ConText flags with their cues, and
    the entity's relations. Same as `annotate --schema entities`, into one file."""
    from ..annotate import annotate
    from ..annotate.sources import Columns, SourceError, open_source

    fmt = output_path.suffix.lstrip(".")
    if fmt not in {"jsonl", "csv"}:
        msg.fail(f"{output_path}: the output must end in .jsonl or .csv", exits=1)
    try:
        source = open_source(str(input_path), Columns(id_field, text_field, number_when_no_id=True))
    except SourceError as err:
        msg.fail(str(err), exits=1)
    work = Path(tempfile.mkdtemp(prefix="table-"))
    try:
        try:
            summary = annotate(
                pipeline,
                source,
                str(work / "out"),
                output_format=fmt,
                schema="entities",
                spans_key=spans_key,
                batch_size=batch_size,
                limit=limit,
                progress=True,
            )
        except SourceError as err:
            msg.fail(str(err), exits=1)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        rows = join_parts(work / "out" / "entities", output_path, fmt)
        errors = output_path.with_name(f"{output_path.name}.errors.{fmt}")
        if summary.failed:
            join_parts(work / "out" / "note_nlp_error", errors, fmt)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    msg.good(f"Wrote {rows} entity rows from {summary.annotated} notes to {output_path}")
    empty = summary.reasons.get("empty_text", 0) + summary.reasons.get("null_text", 0)
    if empty:
        msg.warn(f"Skipped {empty} empty notes")
    other = summary.failed - empty
    if summary.failed:
        msg.warn(
            f"{summary.failed} notes not annotated ({other} for other reasons than empty text): "
            f"see {errors}"
        )
