"""Category scores (doc.cats) with scikit-learn: accuracy, macro-F1, per-label
P/R/F1 and ROC-AUC, and the confusion matrices the plots draw.

Exclusive categories are decided by argmax (gold: the one positive label);
multi-label ones by a threshold on each score. Which applies is read from the
gold data (exclusive when every doc has exactly one positive label) unless set.
"""
from typing import Dict, List, Optional, Tuple

import numpy
from spacy.language import Language
from spacy.training import Example

from .errors import EvaluationError

MODES = ("auto", "exclusive", "multilabel")
GOLD_POSITIVE = 0.5  # gold cats are 0/1; anything at or above this is a positive label


def category_components(nlp: Language) -> List[str]:
    """Pipes that declare they write `doc.cats` (textcat, textcat_multilabel, ...)."""
    return [name for name in nlp.pipe_names if "doc.cats" in nlp.get_pipe_meta(name).assigns]


def has_gold_cats(examples: List[Example]) -> bool:
    return any(eg.reference.cats for eg in examples)


def detect_mode(examples: List[Example]) -> Tuple[str, str]:
    """('exclusive' | 'multilabel', why) from the gold docs that have categories."""
    n_pos = [sum(v >= GOLD_POSITIVE for v in eg.reference.cats.values())
             for eg in examples if eg.reference.cats]
    if n_pos and all(n == 1 for n in n_pos):
        return "exclusive", "every gold doc has exactly one positive category"
    other = sum(n != 1 for n in n_pos)
    return "multilabel", f"{other} of {len(n_pos)} gold docs have zero or several positive categories"


def _matrices(examples: List[Example], labels: List[str]) -> Tuple[numpy.ndarray, numpy.ndarray]:
    gold = numpy.array(
        [[eg.reference.cats.get(lab, 0.0) >= GOLD_POSITIVE for lab in labels] for eg in examples],
        dtype=bool,
    ).reshape(len(examples), len(labels))
    scores = numpy.array(
        [[float(eg.predicted.cats.get(lab, 0.0)) for lab in labels] for eg in examples], dtype=float
    ).reshape(len(examples), len(labels))
    return gold, scores


def _roc_auc(gold: numpy.ndarray, scores: numpy.ndarray, labels: List[str]) -> Dict[str, Optional[float]]:
    """One-vs-rest ROC-AUC per label; None where the gold column has a single class."""
    from sklearn.metrics import roc_auc_score

    out: Dict[str, Optional[float]] = {}
    for j, label in enumerate(labels):
        column = gold[:, j]
        out[label] = float(roc_auc_score(column, scores[:, j])) if 0 < column.sum() < len(column) else None
    return out


def score_categories(
    examples: List[Example], *, mode: str = "auto", threshold: float = 0.5
) -> Dict:
    """Scores over the docs with gold categories; see the module docstring for the rules."""
    from sklearn.metrics import (
        accuracy_score, confusion_matrix,
        precision_recall_fscore_support,
    )

    if mode not in MODES:
        raise EvaluationError(f"Category mode must be one of {MODES}, got {mode!r}.")
    if not 0.0 <= threshold <= 1.0:
        raise EvaluationError(f"Category threshold must lie in [0, 1], got {threshold}.")
    with_cats = [eg for eg in examples if eg.reference.cats]
    result: Dict = {"docs_without_gold_cats": len(examples) - len(with_cats)}
    if mode == "auto":
        mode, why = detect_mode(with_cats)
        result["mode_source"] = f"detected: {why}"
    else:
        result["mode_source"] = "set by option"
    result["mode"] = mode
    gold_labels = {lab for eg in with_cats for lab in eg.reference.cats}
    pred_labels = {lab for eg in with_cats for lab in eg.predicted.cats}
    labels = sorted(gold_labels | pred_labels)
    result["labels_missing_from_predictions"] = sorted(gold_labels - pred_labels)
    if mode == "exclusive":
        n_pos = [sum(eg.reference.cats.get(lab, 0.0) >= GOLD_POSITIVE for lab in labels) for eg in with_cats]
        kept = [eg for eg, n in zip(with_cats, n_pos) if n == 1]
        result["docs_ambiguous"] = len(with_cats) - len(kept)
        with_cats = kept
    result["docs"] = len(with_cats)
    if not with_cats:
        raise EvaluationError("No gold doc has a usable category annotation to score.")
    gold, scores = _matrices(with_cats, labels)
    idx = numpy.arange(len(labels))
    if mode == "exclusive":
        y_true, y_pred = gold.argmax(axis=1), scores.argmax(axis=1)
        pred = numpy.zeros_like(gold)
        pred[numpy.arange(len(y_pred)), y_pred] = True
        result["accuracy"] = float(accuracy_score(y_true, y_pred))
        p, r, f, support = precision_recall_fscore_support(
            y_true, y_pred, labels=idx, average=None, zero_division=0
        )
        matrix = confusion_matrix(y_true, y_pred, labels=idx)
        result["confusion"] = {"labels": labels, "matrix": matrix.tolist(),
                               "rows": "gold", "columns": "predicted"}
    else:
        pred = scores >= threshold
        result["threshold"] = threshold
        result["accuracy"] = float(accuracy_score(gold, pred))  # exact match of the label set
        result["hamming_accuracy"] = float((gold == pred).mean())
        # Label by label as binary problems: scikit-learn reads a one-column indicator
        # matrix (a single label such as ADE) as a binary target and would report
        # the negative class first.
        p, r, f, support = (numpy.zeros(len(labels)) for _ in range(4))
        counts = numpy.zeros((len(labels), 2, 2), dtype=int)
        for j in idx:
            scores_j = precision_recall_fscore_support(
                gold[:, j], pred[:, j], average="binary", pos_label=True, zero_division=0
            )
            p[j], r[j], f[j] = scores_j[:3]
            support[j] = int(gold[:, j].sum())
            counts[j] = confusion_matrix(gold[:, j], pred[:, j], labels=[False, True])
        tp, fp, fn = counts[:, 1, 1].sum(), counts[:, 0, 1].sum(), counts[:, 1, 0].sum()
        mp = tp / (tp + fp) if tp + fp else 0.0
        mr = tp / (tp + fn) if tp + fn else 0.0
        mf = 2 * mp * mr / (mp + mr) if mp + mr else 0.0
        result["micro"] = {"p": float(mp), "r": float(mr), "f": float(mf)}
        result["confusion_per_label"] = {lab: counts[j].tolist() for j, lab in enumerate(labels)}
    auc = _roc_auc(gold, scores, labels)
    n_pred = pred.sum(axis=0)
    per_type = {}
    for j, lab in enumerate(labels):
        per_type[lab] = {
            "p": float(p[j]), "r": float(r[j]), "f": float(f[j]),
            "support": int(support[j]), "predicted": int(n_pred[j]), "roc_auc": auc[lab],
        }
    # Macro averages over labels that occur in the gold data or in the predictions:
    # a label the pipeline knows but never uses and the data never has says nothing.
    active = [lab for lab, s in per_type.items() if s["support"] or s["predicted"]]
    for k in ("p", "r", "f"):
        result[f"macro_{k}"] = float(numpy.mean([per_type[lab][k] for lab in active])) if active else 0.0
    defined = [v for v in auc.values() if v is not None]
    result["roc_auc_macro"] = float(numpy.mean(defined)) if defined else None
    result["roc_auc_undefined"] = [lab for lab, v in auc.items() if v is None]
    result["labels"] = labels
    result["per_type"] = per_type
    return result
