"""`python -m spacy_clinicalbert tune-threshold`: choose the decision thresholds of the span
categorizer, the relation component and the multi-label text classifier on dev data and save
the pipeline with them (the workflow step of the same name).

Not `spacy find-threshold`: that reloads and re-runs the whole pipeline for each trial
and saves nothing; this runs the pipeline once per component, re-filters the kept scores
per threshold, scores relations end to end beside the all-pairs floor, and writes the
chosen values into the components and config.cfg.
"""
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer
from wasabi import msg

from . import app

RELATIONS = "clinical_relations"


@app.command("tune-threshold")
def tune_threshold_cli(
    model_dir: Path = typer.Argument(
        ..., help="Trained pipeline folder (e.g. training/model-best).", exists=True,
        file_okay=False,
    ),
    dev_path: Path = typer.Argument(
        ..., help="Dev data (.spacy); each component is scored on the docs that annotate its "
        "layer (entities for a span categorizer, relations for the relation component).",
        exists=True, dir_okay=False,
    ),
    output_dir: Path = typer.Argument(..., help="Folder to save the pipeline with the thresholds."),
    components: Optional[List[str]] = typer.Option(
        None, "--component", "-c",
        help="Component to tune (repeat the option for several). Default: every span "
        "categorizer (clinical_spancat, spancat), then clinical_relations, then every "
        "textcat_multilabel, those the pipeline has; a relation component is tuned after the "
        "entities it reads. Exclusive textcat takes the argmax: nothing to tune.",
    ),
    grid: str = typer.Option(
        "0.05:0.95:0.05", "--grid",
        help="Thresholds to try: START:STOP:STEP (both ends included) or a comma-separated list.",
    ),
    report: Optional[Path] = typer.Option(
        None, "--report", help="Also write every threshold's P/R/F (and the relation floor) as "
        "JSON here: the relation component's record, or one record per component when several "
        "are tuned.",
    ),
):
    """Score each component on DEV_PATH at each threshold of the grid, keep the best F1 (micro
    for spans and relations, macro for categories; ties: the value nearest the current one)
    and save the pipeline with the chosen values.
    A pipeline without such components, or dev data without the layer, is saved with that
    threshold unchanged and a warning (so the workflow runs on every corpus shape)."""
    import spacy

    from ..categories.threshold import TEXTCAT_MULTILABEL_FACTORIES, multilabel_textcats
    from ..entities.threshold import SPANCAT_FACTORIES, spancat_components

    try:
        thresholds = _parse_grid(grid)
    except ValueError as err:
        msg.fail(f"--grid {grid!r}: {err}", exits=1)
    nlp = spacy.load(model_dir)
    if components:
        missing = [c for c in components if c not in nlp.pipe_names]
        if missing:
            msg.fail(f"No component {', '.join(missing)} in {model_dir} "
                     f"(it has {', '.join(nlp.pipe_names)})", exits=1)
        names = [n for n in nlp.pipe_names if n in components]
        tunable = {*SPANCAT_FACTORIES, RELATIONS, *TEXTCAT_MULTILABEL_FACTORIES}
        other = [n for n in names if nlp.get_pipe_meta(n).factory not in tunable]
        if other:
            msg.fail(f"No threshold to tune in {', '.join(other)}: tune-threshold knows span "
                     f"categorizers, clinical_relations and textcat_multilabel", exits=1)
    else:
        names = (spancat_components(nlp) + [RELATIONS] * (RELATIONS in nlp.pipe_names)
                 + multilabel_textcats(nlp))
    if not names:
        nlp.to_disk(output_dir)
        msg.warn(f"No span categorizer, '{RELATIONS}' or textcat_multilabel in {model_dir}: "
                 f"saved it unchanged to {output_dir}")
        return
    from ..relations.threshold import gold_docs_of
    from ..thresholds import save_with_thresholds

    golds = gold_docs_of(dev_path, nlp)
    chosen: Dict[str, float] = {}
    records: Dict[str, Any] = {}
    for name in names:
        record = _tune(nlp, name, golds, thresholds, dev_path)
        if record is not None:
            chosen[name] = record["best"]
            records[name] = record
            pipe: Any = nlp.get_pipe(name)
            pipe.cfg["threshold"] = record["best"]  # what later components see
    save_with_thresholds(nlp, chosen, output_dir)
    if report is not None:
        body = records.get(RELATIONS) if list(records) == [RELATIONS] else records
        report.write_text(json.dumps(body, indent=2) + "\n", encoding="utf8")
    if not chosen:
        msg.warn(f"Saved {output_dir} with every threshold unchanged")
        return
    said = ", ".join(f"{n} threshold {records[n]['best']:.2f} (was {records[n]['previous']:.2f})"
                     for n in chosen)
    msg.good(f"Saved {output_dir} with {said}, chosen on dev")


def _tune(nlp, name: str, golds, thresholds, dev_path: Path) -> Optional[Dict[str, Any]]:
    """Choose one component's threshold, print its table, record it in nlp.meta."""
    from ..categories.threshold import (
        TEXTCAT_MULTILABEL_FACTORIES,
        NoCategoryDocs,
        choose_category_threshold,
    )
    from ..entities.threshold import (
        MAX_SPANS_PER_GOLD,
        SPANCAT_FACTORIES,
        NoEntityDocs,
        choose_span_threshold,
    )
    from ..relations.threshold import NothingToTune, choose_threshold

    factory = nlp.get_pipe_meta(name).factory
    try:
        if factory in SPANCAT_FACTORIES:
            choice: Any = choose_span_threshold(nlp, golds, name, thresholds)
            meta_key, floor = "span_threshold", None
        elif factory in TEXTCAT_MULTILABEL_FACTORIES:
            choice = choose_category_threshold(nlp, golds, name, thresholds)
            meta_key, floor = "category_threshold", None
        else:
            choice = choose_threshold(nlp, golds, name, thresholds)
            meta_key, floor = "relation_threshold", choice.floor
    except (NothingToTune, NoEntityDocs, NoCategoryDocs) as err:
        msg.warn(f"{dev_path}: {err}; '{name}' keeps its threshold")
        return None
    except ValueError as err:
        msg.fail(f"{dev_path}: {err}", exits=1)
    msg.divider(f"{name} on {choice.docs} dev docs")
    too_many = set(getattr(choice, "too_many", []))
    rows = [
        (f"{t:.2f}" + (" *" if t == choice.best else " (too many spans)" if t in too_many else ""),
         f"{s['p']:.3f}", f"{s['r']:.3f}", f"{s['f']:.3f}")
        for t, s in choice.scores.items()
    ]
    if floor is not None:
        rows.append(("floor", f"{floor['p']:.3f}", f"{floor['r']:.3f}", f"{floor['f']:.3f}"))
    msg.table(rows, header=("threshold", "P", "R", "F"), divider=True)
    if too_many:
        msg.warn(f"'{name}': {len(too_many)} threshold(s) keep more than "
                 f"{MAX_SPANS_PER_GOLD:g} spans per gold span and were not chosen")
    record = choice.to_dict()
    nlp.meta.setdefault("clinicalbert", {})[meta_key] = record
    return record


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
