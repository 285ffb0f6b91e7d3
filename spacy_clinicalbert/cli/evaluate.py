"""`python -m spacy_clinicalbert evaluate MODEL DATA --output metrics/`: scores, plots, report."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from . import app


@app.command("evaluate")
def evaluate_cli(
    model: str = typer.Argument(
        ..., help="Pipeline to evaluate: an installed package name or a saved pipeline folder."
    ),
    data_path: Path = typer.Argument(
        ...,
        help="Gold data: a .spacy DocBin (e.g. corpus/test.spacy); relations and categories are "
        "read from it.",
    ),
    output_dir: Path = typer.Option(
        Path("metrics"),
        "--output",
        "-o",
        help="Folder for metrics.json, report.md and the PNG plots (created if missing).",
    ),
    gpu_id: int = typer.Option(
        -1, "--gpu-id", "-g", help="GPU to run the pipeline on; -1 runs on CPU."
    ),
    batch_size: int = typer.Option(
        32,
        "--batch-size",
        "-b",
        help="Docs per batch given to nlp.pipe (also the batch size of the speed figure).",
    ),
    cats_mode: str = typer.Option(
        "auto",
        "--cats-mode",
        help="Categories: exclusive (argmax), multilabel (threshold) or auto (exclusive when every "
        "gold doc has exactly one positive label).",
    ),
    threshold: Optional[float] = typer.Option(
        None,
        "--threshold",
        help="Multi-label categories: a label is predicted when its score is at least this. "
        "Default: the textcat_multilabel component's own threshold (tune-threshold chooses it on "
        "dev), 0.5 when it has none.",
    ),
    plots: bool = typer.Option(
        True, "--plots/--no-plots", help="Draw the PNG plots (confusion matrix, per-label F1 bars)."
    ),
):
    """Evaluate a pipeline on a gold DocBin: entity and relation P/R/F1 per label
    (relations end to end, beside the all-pairs floor), category accuracy, macro-F1
    and ROC-AUC, ConText flags when the pipeline sets them, and speed in words per
    second. Writes metrics.json, report.md and PNG plots to --output."""
    from ..evaluation import EvaluationError, evaluate_pipeline

    try:
        metrics = evaluate_pipeline(
            model, data_path, output_dir, batch_size=batch_size, gpu_id=gpu_id,
            cats_mode=cats_mode, threshold=threshold, plots=plots,
        )
    except EvaluationError as err:
        msg.fail("Evaluation failed", str(err), exits=1)
    _print_summary(metrics)
    msg.good(f"Wrote metrics.json, report.md and {len(metrics['plots'])} plots to {output_dir}")


def _print_summary(metrics: dict) -> None:
    speed = metrics["speed"]
    rows = [("Speed (words/s)", f"{speed['words_per_second']:.0f}"),
            ("Docs / words", f"{speed['docs']} / {speed['words']}")]
    if "entities" in metrics:
        rows.append(("Entities micro F1", f"{100 * metrics['entities']['micro']['f']:.1f}"))
    if "relations" in metrics:
        rel = metrics["relations"]
        rows.append(("Relations micro F1 (end to end)", f"{100 * rel['micro']['f']:.1f}"))
        if rel.get("floor"):
            rows.append(("Relations all-pairs floor F1", f"{100 * rel['floor']['micro']['f']:.1f}"))
    if "categories" in metrics:
        cats = metrics["categories"]
        rows.append((f"Categories accuracy ({cats['mode']})", f"{100 * cats['accuracy']:.1f}"))
        rows.append(("Categories macro F1", f"{100 * cats['macro_f']:.1f}"))
        if cats["roc_auc_macro"] is not None:
            rows.append(("Categories ROC-AUC (macro)", f"{100 * cats['roc_auc_macro']:.1f}"))
    msg.table(rows, title=f"{metrics['model']['name']} on {metrics['data']['path']}")
    for section, why in metrics["not_evaluated"].items():
        if section != "context":
            msg.info(f"Not evaluated: {section}: {why}")
