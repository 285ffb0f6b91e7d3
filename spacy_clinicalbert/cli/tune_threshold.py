"""`python -m spacy_clinicalbert tune-threshold`: choose the relation component's decision
threshold on dev data and save the pipeline with it (the workflow step of the same name).

Not `spacy find-threshold`: that reloads and re-runs the whole pipeline for each trial
and saves nothing; this runs the pipeline once, re-filters the kept scores per threshold,
scores end to end beside the all-pairs floor, and writes the chosen value into the
component and config.cfg.
"""
import json
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from . import app


@app.command("tune-threshold")
def tune_threshold_cli(
    model_dir: Path = typer.Argument(
        ..., help="Trained pipeline folder (e.g. training/model-best).", exists=True,
        file_okay=False,
    ),
    dev_path: Path = typer.Argument(
        ..., help="Dev data (.spacy); only docs that annotate relations are scored.",
        exists=True, dir_okay=False,
    ),
    output_dir: Path = typer.Argument(..., help="Folder to save the pipeline with the threshold."),
    component: str = typer.Option(
        "clinical_relations", "--component", "-c", help="Name of the relation component."
    ),
    grid: str = typer.Option(
        "0.05:0.95:0.05", "--grid",
        help="Thresholds to try: START:STOP:STEP (both ends included) or a comma-separated list.",
    ),
    report: Optional[Path] = typer.Option(
        None, "--report", help="Also write every threshold's P/R/F and the floor as JSON here."
    ),
):
    """Score the relation component end to end on DEV_PATH at each threshold of the grid,
    keep the best micro F1 (ties: the value nearest the current one) and save the pipeline
    with it. A pipeline without the component, or dev data without relations, is saved
    unchanged, with a warning (so the workflow runs on every corpus shape)."""
    import spacy

    from ..relations.threshold import (
        NothingToTune,
        choose_threshold,
        gold_docs_of,
        save_with_threshold,
    )

    try:
        thresholds = _parse_grid(grid)
    except ValueError as err:
        msg.fail(f"--grid {grid!r}: {err}", exits=1)
    nlp = spacy.load(model_dir)
    if component not in nlp.pipe_names:
        nlp.to_disk(output_dir)
        msg.warn(f"No component '{component}' in {model_dir}: saved it unchanged to {output_dir}")
        return
    try:
        choice = choose_threshold(nlp, gold_docs_of(dev_path, nlp), component, thresholds)
    except NothingToTune as err:
        nlp.to_disk(output_dir)
        msg.warn(f"{dev_path}: {err}; saved {output_dir} with the threshold unchanged")
        return
    except ValueError as err:
        msg.fail(f"{dev_path}: {err}", exits=1)
    rows = [
        (f"{t:.2f}" + (" *" if t == choice.best else ""), f"{s['p']:.3f}", f"{s['r']:.3f}",
         f"{s['f']:.3f}")
        for t, s in choice.scores.items()
    ]
    if choice.floor is not None:
        f = choice.floor
        rows.append(("floor", f"{f['p']:.3f}", f"{f['r']:.3f}", f"{f['f']:.3f}"))
    msg.table(rows, header=("threshold", "P", "R", "F"), divider=True)
    save_with_threshold(nlp, choice, output_dir)
    if report is not None:
        report.write_text(json.dumps(choice.to_dict(), indent=2) + "\n", encoding="utf8")
    msg.good(
        f"Saved {output_dir} with {component} threshold {choice.best:.2f} "
        f"(was {choice.previous:.2f}), chosen on {choice.docs} dev docs"
    )


def _parse_grid(text: str):
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError("use START:STOP:STEP")
        start, stop, step = (float(p) for p in parts)
        if step <= 0 or stop < start:
            raise ValueError("STEP must be positive and STOP at least START")
        values, k = [], 0
        while start + k * step <= stop + 1e-9:
            values.append(round(start + k * step, 6))
            k += 1
        return values
    return [float(v) for v in text.split(",") if v.strip()]
