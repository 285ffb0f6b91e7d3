"""`python -m spacy_clinicalbert check-data CORPUS_DIR [--config CFG] [--strict]`:
fit to train on?"""

from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from . import app


@app.command("check-data")
def check_data_cli(
    corpus_dir: Path = typer.Argument(
        ...,
        metavar="CORPUS_DIR",
        help="Folder written by `convert-corpus`: train.spacy, dev.spacy, test.spacy (any other "
        ".spacy file there is checked as one more split).",
    ),
    config: Optional[Path] = typer.Option(
        None,
        "--config",
        "-c",
        help="Training config to check against: which components it trains (so which layers train "
        "must annotate), the encoder window, spancat's suggester sizes and the clinical_relations "
        "candidate settings. Without it: window 96 and the candidate factory defaults.",
    ),
    max_steps: Optional[int] = typer.Option(
        None,
        "--max-steps",
        help="The training.max_steps `spacy train` will be given (default: the config's); checked "
        "against eval_frequency, since spaCy does not evaluate at the last step.",
    ),
    eval_frequency: Optional[int] = typer.Option(
        None,
        "--eval-frequency",
        help="The training.eval_frequency `spacy train` will be given (default: the config's).",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 on warnings too, not only on errors (for CI)."
    ),
):
    """Check a converted corpus before training, like `spacy debug data` but over
    the annotation layers: docs and labels per layer and split, labels missing from
    train or rare there, entities longer than the encoder window or than spancat's
    suggestions, overlapping entities ner cannot learn, gold relations the candidate
    generator never proposes (and why), category balance and exclusivity, docs with
    no tokens, texts shared across splits, and steps that are never evaluated. Exits 1
    on errors (a trained component with nothing to learn), and with --strict on
    warnings too."""
    from ..corpus.checks import check_corpus

    if not corpus_dir.is_dir():
        msg.fail(f"No such folder: {corpus_dir}", exits=1)
    if config is not None and not config.is_file():
        msg.fail(f"No such config: {config}", exits=1)
    try:
        result = check_corpus(
            corpus_dir, config, max_steps=max_steps, eval_frequency=eval_frequency
        )
    except (ValueError, OSError) as err:  # unreadable DocBin or config, unknown registered function
        msg.fail("Could not check the corpus", str(err), exits=1)
    for table in result.tables:
        msg.divider(table.title)
        aligns = _aligns(table.rows, len(table.header))
        msg.table(table.rows, header=table.header, divider=True, aligns=aligns)
    for note in result.notes:
        msg.info(note)
    for warning in result.warnings:
        msg.warn(warning)
    for error in result.errors:
        msg.fail(error)
    summary = (
        f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {result.seconds:.1f}s"
    )
    if result.failed(strict):
        why = " (--strict: warnings count)" if strict and not result.errors else ""
        msg.fail(f"Check failed: {summary}{why}", exits=1)
    msg.good(f"Check passed: {summary}")


def _aligns(rows: List[list], width: int) -> List[str]:
    """Right-align the columns that hold only numbers (counts, shares), left the rest."""

    def numeric(cell) -> bool:
        text = str(cell).split(" ")[0].rstrip("%")
        return text.replace(".", "", 1).isdigit() or text == "-"

    return ["r" if rows and all(numeric(row[i]) for row in rows) else "l" for i in range(width)]
