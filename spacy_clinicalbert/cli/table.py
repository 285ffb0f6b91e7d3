"""`table`: run a pipeline over notes and write one row per entity (JSONL or CSV).

Notes are read by the pretraining readers (`spacy_clinicalbert.pretraining.readers`):
errors name the file and line, and empty notes are counted, not dropped silently.
"""
import csv
import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Tuple

import typer
from wasabi import msg

from . import app

if TYPE_CHECKING:
    from ..pretraining.readers import ReadStats

TEXT_SUFFIXES = {".txt", ".text"}


def _records(
    path: Path, text_field: str, id_field: str, stats: "ReadStats"
) -> Iterator[Tuple[str, str]]:
    """(id, text) pairs from a folder of .txt files, a .txt file, JSONL or CSV.

    Ids: the file's path (in the folder) or name; else the `id_field` of a record,
    or its line in the file (CSV: its row, the header being row 1).
    """
    from ..pretraining.readers import CorpusError, read_csv, read_jsonl, read_txt

    try:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in TEXT_SUFFIXES)
            if not files:
                msg.fail(f"No .txt files in {path}", exits=1)
            for file in files:
                for note in read_txt(file, stats):
                    yield str(file.relative_to(path)), note.text
        elif path.suffix in TEXT_SUFFIXES:
            for note in read_txt(path, stats):
                yield path.name, note.text
        elif path.suffix == ".jsonl":
            for note in read_jsonl(path, stats, text_field, id_field):
                yield note.id or str(note.number), note.text
        elif path.suffix == ".csv":
            for note in read_csv(path, stats, text_field, id_field):
                yield note.id or str(note.number + 1), note.text
        else:
            msg.fail(
                f"{path}: unsupported input; use a folder of .txt files, .txt, .jsonl or .csv",
                exits=1,
            )
    except CorpusError as err:
        # said in this command's words, as before
        if err.problem.startswith(f"no field '{text_field}'"):
            msg.fail(f"{err.where}: no '{text_field}' field (set --text-field)", exits=1)
        msg.fail(str(err), exits=1)


@app.command("table")
def table_cli(
    pipeline: str = typer.Argument(
        ..., help="Pipeline to run: a package name or a saved pipeline folder."
    ),
    input_path: Path = typer.Argument(
        ...,
        help="Notes: a folder of .txt files, one .txt file, JSONL (one object per line) or CSV.",
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
    the entity's relations."""
    import spacy
    from tqdm import tqdm

    from ..rules.table import COLUMNS, entity_rows

    if output_path.suffix not in {".jsonl", ".csv"}:
        msg.fail(f"{output_path}: the output must end in .jsonl or .csv", exits=1)
    nlp = spacy.load(pipeline)
    from ..pretraining.readers import ReadStats

    stats = ReadStats()
    counts = {"docs": 0, "rows": 0}
    records = _records(input_path, text_field, id_field, stats)
    if limit:
        records = itertools.islice(records, limit)
    ids = []

    def texts():
        for doc_id, text in records:
            ids.append(doc_id)
            yield text

    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("w", encoding="utf8", newline="") as handle:
        writer = None
        if output_path.suffix == ".csv":
            writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
            writer.writeheader()
        for i, doc in enumerate(
            tqdm(nlp.pipe(texts(), batch_size=batch_size), desc="notes", unit="note")
        ):
            for row in entity_rows(doc, ids[i], spans_key=spans_key):
                if writer is None:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                else:
                    row = dict(row, assertion_cues=json.dumps(row["assertion_cues"]),
                               relations=json.dumps(row["relations"], ensure_ascii=False))
                    writer.writerow(row)
                counts["rows"] += 1
            counts["docs"] += 1
    msg.good(f"Wrote {counts['rows']} entity rows from {counts['docs']} notes to {output_path}")
    if stats.empty:
        msg.warn(f"Skipped {stats.empty} empty notes")
