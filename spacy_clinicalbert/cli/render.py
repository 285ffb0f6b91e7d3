"""`render`: run a pipeline over notes and write one self-contained HTML page.

Notes come in as `table` reads them (a folder of .txt files, .txt, JSONL, CSV: errors
name the file and line, empty notes are counted) or as a .spacy DocBin, whose docs are
run through the pipeline again unless `--as-is` shows what they already hold (gold data).
"""
import itertools
import time
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from . import app


@app.command("render")
def render_cli(
    pipeline: str = typer.Argument(
        ..., help="Pipeline to run: a package name or a saved pipeline folder."
    ),
    input_path: Path = typer.Argument(
        ...,
        help="Notes: a folder of .txt files, one .txt file, JSONL, CSV, or a .spacy DocBin.",
        exists=True,
    ),
    output_path: Path = typer.Argument(..., help="The HTML page to write (.html)."),
    text_field: str = typer.Option(
        "text", "--text-field", help="JSONL field or CSV column holding the note text."
    ),
    id_field: str = typer.Option(
        "id", "--id-field",
        help="JSONL field or CSV column holding the note id (default: the line or row number).",
    ),
    as_is: bool = typer.Option(
        False, "--as-is",
        help="DocBin input only: draw the annotations the docs already hold (e.g. gold) instead "
        "of running the pipeline; the pipeline then only supplies the vocabulary.",
    ),
    spans_key: Optional[str] = typer.Option(
        None, "--spans-key",
        help="Draw doc.spans[KEY] as the entities instead of doc.ents (a spancat's group).",
    ),
    block_tokens: int = typer.Option(
        120, "--block-tokens",
        help="Longest block in tokens: sections are cut at sentence ends into blocks this long; "
        "relation arcs stay inside a block, longer-range relations are listed as links.",
    ),
    title: str = typer.Option("", "--title", help="Page title (default: the input's name)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Notes per batch given to nlp.pipe."),
    limit: int = typer.Option(0, "--limit", help="Render only the first N notes (0: all)."),
):
    """Run PIPELINE over the notes in INPUT and write OUTPUT.html: entities coloured by label
    with assertion badges (negated, historical, hypothetical, family, uncertain), relation arcs
    with scores, sections, categories with scores and PHI spans. The page needs no network."""
    import spacy
    from spacy.tokens import Doc, DocBin
    from tqdm import tqdm

    from ..pretraining.readers import ReadStats
    from ..render import render
    from ..render.note import NoteCounts
    from .table import _records

    if output_path.suffix.lower() not in {".html", ".htm"}:
        msg.fail(f"{output_path}: the output must end in .html", exits=1)
    if block_tokens < 1:
        msg.fail(f"--block-tokens must be at least 1, got {block_tokens}", exits=1)
    if as_is and input_path.suffix != ".spacy":
        msg.fail("--as-is needs a .spacy DocBin as INPUT (text notes hold no annotations)",
                 exits=1)
    nlp = spacy.load(pipeline)
    stats = ReadStats()
    ids: List[str] = []
    docs: List[Doc] = []
    start = time.perf_counter()
    if input_path.suffix == ".spacy":
        try:
            stored = list(DocBin().from_disk(input_path).get_docs(nlp.vocab))
        except Exception as err:  # a truncated or foreign file: say which
            msg.fail(f"{input_path}: not a readable DocBin ({err})", exits=1)
        if limit:
            stored = stored[:limit]
        ids = [str(i + 1) for i in range(len(stored))]
        if as_is:
            docs = stored
        else:
            docs = list(tqdm(nlp.pipe((d.text for d in stored), batch_size=batch_size),
                             total=len(stored), desc="notes", unit="note"))
    else:
        records = _records(input_path, text_field, id_field, stats)
        if limit:
            records = itertools.islice(records, limit)

        def texts():
            for doc_id, text in records:
                ids.append(doc_id)
                yield text

        docs = list(tqdm(nlp.pipe(texts(), batch_size=batch_size), desc="notes", unit="note"))
    predicted_s = time.perf_counter() - start
    counts: List[NoteCounts] = []
    start = time.perf_counter()
    page = render(docs, title=title or input_path.name, note_ids=ids, spans_key=spans_key,
                  max_block_tokens=block_tokens, stats=counts)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(page, encoding="utf8")
    render_s = time.perf_counter() - start
    n_ents = sum(c.entities for c in counts)
    n_rels = sum(c.relations for c in counts)
    msg.good(f"Wrote {output_path}: {len(docs)} notes, {n_ents} entities, {n_rels} relations "
             f"({predicted_s:.1f} s in the pipeline, {render_s:.2f} s rendering)")
    not_inline = sum(c.entities_not_inline + c.phi_not_inline for c in counts)
    if not_inline:
        msg.info(f"{not_inline} overlapping spans are listed under their note's text, not marked "
                 "in it")
    across = sum(c.relations_across_blocks for c in counts)
    if across:
        msg.info(f"{across} relations join two blocks: listed as links, no arc")
    not_drawn = sum(c.relations_not_drawn for c in counts)
    if not_drawn:
        msg.info(f"{not_drawn} relations have an entity that is not marked inline: table only")
    if stats.empty:
        msg.warn(f"Skipped {stats.empty} empty notes")
