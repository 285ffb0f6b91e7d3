"""One evaluation: load the pipeline and the gold DocBin, predict once (timed),
score each part the pipeline and the data both have, draw the plots, write
metrics.json and report.md. Parts that one side lacks are named, with the reason,
under `not_evaluated`.

Each part is scored on the gold docs that annotate its layer
(`spacy_clinicalbert.layers`); `metrics["data"]["layers"]` counts those per layer,
so every figure can say how much of the test data it covers."""
import logging
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import srsly

from .errors import EvaluationError

logger = logging.getLogger("spacy_clinicalbert.evaluation")

METRICS_FILE = "metrics.json"
REPORT_FILE = "report.md"


def load_pipeline(model: str, gpu_id: int = -1):
    """spacy.load with a clear error; GPU `gpu_id` is required when it is 0 or more."""
    import spacy

    if gpu_id >= 0:
        try:
            spacy.require_gpu(gpu_id)
        except Exception as err:
            raise EvaluationError(f"Cannot use GPU {gpu_id}: {err}") from err
    path = Path(model)
    if (model.startswith((".", "/", "~")) or path.suffix or "/" in model) and not path.exists():
        raise EvaluationError(f"Model folder not found: {model}")
    try:
        return spacy.load(model)
    except OSError as err:
        raise EvaluationError(
            f"Cannot load pipeline '{model}': not an installed package or a pipeline folder ({err})"
        ) from err
    except ValueError as err:  # e.g. E002: a factory whose package is not installed
        raise EvaluationError(f"Cannot load pipeline '{model}': {err}") from err


def layer_counts(gold_docs: List) -> Dict[str, int]:
    """Docs annotating each layer: the M of "scored on N of M" is the data's size."""
    from ..layers import LAYERS, annotates

    return {layer: sum(annotates(doc, layer) for doc in gold_docs) for layer in LAYERS}


def category_threshold(nlp, components: List[str], given: Optional[float]) -> Tuple[float, str]:
    """The multi-label decision threshold: the one given, else the text classifier's own
    (tune-threshold sets it on dev), else 0.5."""
    from ..categories.threshold import TEXTCAT_MULTILABEL_FACTORIES

    if given is not None:
        return given, "--threshold"
    for name in components:
        value = getattr(nlp.get_pipe(name), "cfg", {}).get("threshold")
        if nlp.get_pipe_meta(name).factory in TEXTCAT_MULTILABEL_FACTORIES and value is not None:
            return float(value), f"component {name}"
    return 0.5, "default"


def evaluate_pipeline(
    model: str,
    data_path: Path,
    output_dir: Optional[Path] = None,
    *,
    batch_size: int = 32,
    gpu_id: int = -1,
    cats_mode: str = "auto",
    threshold: Optional[float] = None,
    plots: bool = True,
    progress: bool = True,
    nlp=None,
) -> Dict:
    """Score `model` (a package name or folder; or an already loaded `nlp`) on `data_path`.

    Writes metrics.json, report.md and the PNGs to `output_dir` when given and
    returns the metrics dict.
    """
    from .categories import category_components, has_gold_cats, score_categories
    from .context import context_flags, score_context
    from .entities import (
        entity_components,
        entity_span_key,
        has_gold_entities,
        score_entities,
        span_components,
    )
    from .examples import predict, read_gold_docs
    from .model_info import model_info
    from .relations import has_gold_relations, relation_components, score_all_relations

    data_path = Path(data_path)
    if not data_path.exists():
        raise EvaluationError(f"Data file not found: {data_path}")
    if batch_size < 1:
        raise EvaluationError(f"Batch size must be at least 1, got {batch_size}.")
    if nlp is None:
        nlp = load_pipeline(model, gpu_id)
    gold_docs = read_gold_docs(data_path, nlp.vocab)
    examples, speed = predict(nlp, gold_docs, batch_size=batch_size, progress=progress)
    metrics: Dict = {
        "model": model_info(nlp, str(model)),
        "data": {"path": str(data_path), "docs": len(gold_docs),
                 "words": sum(len(d) for d in gold_docs), "layers": layer_counts(gold_docs)},
        "speed": dict(speed.to_dict(), device=f"GPU {gpu_id}" if gpu_id >= 0 else "CPU"),
    }
    skipped: Dict[str, str] = {}

    def absent(section: str, components: list, pred_has: bool, gold_has: bool, what: str) -> bool:
        if not components and not pred_has:
            skipped[section] = f"the pipeline has no component that writes {what}"
        elif not gold_has:
            skipped[section] = (f"the gold data has no {what} annotations: "
                                f"no document of the test data annotates {section}")
        else:
            return False
        return True

    span_key = entity_span_key(nlp)
    comps = entity_components(nlp) if span_key is None else span_components(nlp)
    entity_layer = "doc.ents" if span_key is None else f"doc.spans['{span_key}']"
    if not absent("entities", comps, any(eg.predicted.ents for eg in examples),
                  has_gold_entities(examples), entity_layer):
        metrics["entities"] = dict(score_entities(examples, span_key=span_key), components=comps)

    comps = relation_components(nlp)
    from ..relations.data import has_relations

    if not absent("relations", comps, any(has_relations(eg.predicted) for eg in examples),
                  has_gold_relations(examples), "doc._.relations"):
        metrics["relations"] = score_all_relations(nlp, examples)

    comps = category_components(nlp)
    if not absent("categories", comps, any(eg.predicted.cats for eg in examples),
                  has_gold_cats(examples), "doc.cats"):
        cut, source = category_threshold(nlp, comps, threshold)
        metrics["categories"] = dict(
            score_categories(examples, mode=cats_mode, threshold=cut), components=comps,
            threshold_source=source,
        )

    flags = context_flags(nlp)
    if flags:
        metrics["context"] = score_context(examples, flags)
    else:
        # Not data loss: the pipeline simply sets no assertion flags.
        skipped["context"] = "the pipeline has no ConText component (no span._.is_negated etc.)"
    metrics["not_evaluated"] = skipped
    metrics["plots"] = {}
    if output_dir is not None:
        from .report_html import write_error_browser

        # The error browser first: report.md links it.
        metrics["error_browser"] = write_error_browser(
            examples, metrics, Path(output_dir), span_key).name
        write_outputs(metrics, Path(output_dir), plots=plots)
    return metrics


def write_outputs(metrics: Dict, output_dir: Path, *, plots: bool = True) -> None:
    """The PNGs first (the report links them), then metrics.json and report.md."""
    from .report import render_report

    output_dir.mkdir(parents=True, exist_ok=True)
    drawn = metrics["plots"]
    if plots:
        from .plots import confusion_png, f1_bars_png, multilabel_confusion_png

        if "entities" in metrics and metrics["entities"]["per_type"]:
            drawn["entities_f1"] = f1_bars_png(
                metrics["entities"]["per_type"], output_dir / "entities_f1.png",
                "Entity F1 per label").name
        if "relations" in metrics and metrics["relations"]["per_type"]:
            drawn["relations_f1"] = f1_bars_png(
                metrics["relations"]["per_type"], output_dir / "relations_f1.png",
                "Relation F1 per label").name
        cats = metrics.get("categories")
        if cats:
            if "confusion" in cats:
                drawn["categories_confusion"] = confusion_png(
                    cats["confusion"]["matrix"], cats["confusion"]["labels"],
                    output_dir / "categories_confusion.png", "Categories: gold vs predicted").name
            else:
                drawn["categories_confusion"] = multilabel_confusion_png(
                    cats["confusion_per_label"], output_dir / "categories_confusion.png",
                    "Categories: per-label confusion").name
            drawn["categories_f1"] = f1_bars_png(
                cats["per_type"], output_dir / "categories_f1.png", "Category F1 per label").name
    srsly.write_json(output_dir / METRICS_FILE, metrics)
    (output_dir / REPORT_FILE).write_text(render_report(metrics), encoding="utf8")
    logger.info(
        "Wrote %s, %s and %d plots to %s", METRICS_FILE, REPORT_FILE, len(drawn), output_dir
    )
