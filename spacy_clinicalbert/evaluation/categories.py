"""Category scores (doc.cats) with scikit-learn: accuracy, macro-F1, per-label
P/R/F1 and ROC-AUC, and the confusion matrices the plots draw.

Exclusive categories are decided by argmax (gold: the one positive label);
multi-label ones by a threshold on each score. Which applies is read from the
gold data (exclusive when every doc has exactly one positive label) unless set.

Only docs that annotate categories (`spacy_clinicalbert.layers`) are scored. In
multi-label mode each label is, in addition, scored only on the docs whose
`doc.cats` has its key: a corpus may annotate some labels only, and a missing key
means "not annotated" (spaCy's textcat masks it out of the loss), not 0.0. In
exclusive mode a doc's one positive label settles every other one, so all labels
are scored on every doc.
"""
from typing import Any, Dict, List, Optional, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from ..layers import CATEGORIES, annotates
from .errors import EvaluationError

MODES = ("auto", "exclusive", "multilabel")
GOLD_POSITIVE = 0.5  # gold cats are 0/1; anything at or above this is a positive label


def category_components(nlp: Language) -> List[str]:
    """Pipes that declare they write `doc.cats` (textcat, textcat_multilabel, ...)."""
    return [name for name in nlp.pipe_names if "doc.cats" in nlp.get_pipe_meta(name).assigns]


def annotates_categories(doc: Doc) -> bool:
    """Does gold doc `doc` annotate categories, with at least one label key to score?"""
    return annotates(doc, CATEGORIES) and bool(doc.cats)


def has_gold_cats(examples: List[Example]) -> bool:
    return any(annotates_categories(eg.reference) for eg in examples)


def detect_mode(examples: List[Example]) -> Tuple[str, str]:
    """('exclusive' | 'multilabel', why) from the gold docs that have categories."""
    n_pos = [sum(v >= GOLD_POSITIVE for v in eg.reference.cats.values())
             for eg in examples if eg.reference.cats]
    if n_pos and all(n == 1 for n in n_pos):
        return "exclusive", "every gold doc has exactly one positive category"
    other = sum(n != 1 for n in n_pos)
    return "multilabel", (
        f"{other} of {len(n_pos)} gold docs have zero or several positive categories"
    )


def _matrices(
    examples: List[Example], labels: List[str]
) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Gold positives, predicted scores and `present` (the gold doc has the label's key)."""
    shape = (len(examples), len(labels))
    gold = numpy.array(
        [[eg.reference.cats.get(lab, 0.0) >= GOLD_POSITIVE for lab in labels] for eg in examples],
        dtype=bool,
    ).reshape(shape)
    scores = numpy.array(
        [[float(eg.predicted.cats.get(lab, 0.0)) for lab in labels] for eg in examples], dtype=float
    ).reshape(shape)
    present = numpy.array(
        [[lab in eg.reference.cats for lab in labels] for eg in examples], dtype=bool
    ).reshape(shape)
    return gold, scores, present


def _roc_auc(
    gold: numpy.ndarray, scores: numpy.ndarray, present: numpy.ndarray, labels: List[str]
) -> Dict[str, Optional[float]]:
    """One-vs-rest ROC-AUC per label over the docs annotating it; None where those
    docs have a single gold class."""
    from sklearn.metrics import roc_auc_score

    out: Dict[str, Optional[float]] = {}
    for j, label in enumerate(labels):
        rows = present[:, j]
        column = gold[rows, j]
        defined = 0 < column.sum() < len(column)
        out[label] = float(roc_auc_score(column, scores[rows, j])) if defined else None
    return out


def score_categories(
    examples: List[Example], *, mode: str = "auto", threshold: float = 0.5
) -> Dict:
    """Scores over the docs that annotate categories; see the module docstring for the rules.

    `docs` counts the docs scored, `docs_not_annotating` (older name
    `docs_without_gold_cats`) those whose category layer is missing.
    """
    if mode not in MODES:
        raise EvaluationError(f"Category mode must be one of {MODES}, got {mode!r}.")
    if not 0.0 <= threshold <= 1.0:
        raise EvaluationError(f"Category threshold must lie in [0, 1], got {threshold}.")
    with_cats = [eg for eg in examples if annotates_categories(eg.reference)]
    not_annotating = len(examples) - len(with_cats)
    result: Dict = {
        "docs_annotating": len(with_cats),
        "docs_not_annotating": not_annotating,
        "docs_without_gold_cats": not_annotating,
    }
    if mode == "auto":
        mode, why = detect_mode(with_cats)
        result["mode_source"] = f"detected: {why}"
    else:
        result["mode_source"] = "set by option"
    result["mode"] = mode
    gold_labels = {lab for eg in with_cats for lab in eg.reference.cats}
    pred_labels = {lab for eg in with_cats for lab in eg.predicted.cats}
    result["labels_missing_from_predictions"] = sorted(gold_labels - pred_labels)
    if mode == "exclusive":
        # Argmax may pick a label no gold doc names: a wrong answer all the same.
        labels = sorted(gold_labels | pred_labels)
        n_pos = [
            sum(eg.reference.cats.get(lab, 0.0) >= GOLD_POSITIVE for lab in labels)
            for eg in with_cats
        ]
        kept = [eg for eg, n in zip(with_cats, n_pos, strict=True) if n == 1]
        result["docs_ambiguous"] = len(with_cats) - len(kept)
        with_cats = kept
    else:
        # A label no scored doc annotates has no gold to be compared with.
        labels = sorted(gold_labels)
        result["labels_not_annotated"] = sorted(pred_labels - gold_labels)
    result["docs"] = len(with_cats)
    if not with_cats:
        raise EvaluationError("No gold doc has a usable category annotation to score.")
    gold, scores, present = _matrices(with_cats, labels)
    if mode == "exclusive":
        present[:] = True  # the one positive label settles the others
        pred, per_label = _exclusive(gold, scores, labels, result)
    else:
        pred, per_label = _multilabel(gold, scores, present, labels, threshold, result)
    _summarize(gold, scores, pred, present, labels, per_label, result)
    return result


PerLabel = Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray]


def _exclusive(
    gold: numpy.ndarray, scores: numpy.ndarray, labels: List[str], result: Dict
) -> Tuple[numpy.ndarray, PerLabel]:
    """Argmax decisions: accuracy and the confusion matrix into `result`; the predicted
    indicator matrix and per-label P, R, F, support back."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    idx = numpy.arange(len(labels))
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
    return pred, (p, r, f, support)


def _multilabel(
    gold: numpy.ndarray, scores: numpy.ndarray, present: numpy.ndarray, labels: List[str],
    threshold: float, result: Dict,
) -> Tuple[numpy.ndarray, PerLabel]:
    """Threshold decisions, each label over the docs that have its key: accuracies,
    micro P/R/F and per-label confusion into `result`; predictions and per-label scores back."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    pred = scores >= threshold
    right = gold == pred
    result["threshold"] = threshold
    # Exact match of the label set, over the labels each doc annotates.
    result["accuracy"] = float((right | ~present).all(axis=1).mean())
    result["hamming_accuracy"] = float(right[present].mean())
    # Label by label as binary problems: scikit-learn reads a one-column indicator
    # matrix (a single label such as ADE) as a binary target and would report
    # the negative class first.
    p, r, f, support = (numpy.zeros(len(labels)) for _ in range(4))
    counts = numpy.zeros((len(labels), 2, 2), dtype=int)
    for j in range(len(labels)):
        rows = present[:, j]
        g, h = gold[rows, j], pred[rows, j]
        p[j], r[j], f[j] = precision_recall_fscore_support(
            g, h, average="binary", pos_label=True, zero_division=0
        )[:3]
        support[j] = int(g.sum())
        counts[j] = confusion_matrix(g, h, labels=[False, True])
    tp, fp, fn = counts[:, 1, 1].sum(), counts[:, 0, 1].sum(), counts[:, 1, 0].sum()
    mp = tp / (tp + fp) if tp + fp else 0.0
    mr = tp / (tp + fn) if tp + fn else 0.0
    mf = 2 * mp * mr / (mp + mr) if mp + mr else 0.0
    result["micro"] = {"p": float(mp), "r": float(mr), "f": float(mf)}
    result["confusion_per_label"] = {lab: counts[j].tolist() for j, lab in enumerate(labels)}
    return pred, (p, r, f, support)


def _summarize(
    gold: numpy.ndarray, scores: numpy.ndarray, pred: numpy.ndarray, present: numpy.ndarray,
    labels: List[str], per_label: PerLabel, result: Dict,
) -> None:
    """Per-label rows (with the docs each covers), macro averages and ROC-AUC into `result`."""
    p, r, f, support = per_label
    auc = _roc_auc(gold, scores, present, labels)
    n_pred = (pred & present).sum(axis=0)
    n_docs = present.sum(axis=0)
    per_type: Dict[str, Dict[str, Any]] = {}
    for j, lab in enumerate(labels):
        per_type[lab] = {
            "p": float(p[j]), "r": float(r[j]), "f": float(f[j]),
            "support": int(support[j]), "predicted": int(n_pred[j]), "roc_auc": auc[lab],
            "docs": int(n_docs[j]),
        }
    # Macro averages over labels that occur in the gold data or in the predictions:
    # a label the pipeline knows but never uses and the data never has says nothing.
    active = [lab for lab, s in per_type.items() if s["support"] or s["predicted"]]
    for k in ("p", "r", "f"):
        result[f"macro_{k}"] = (
            float(numpy.mean([per_type[lab][k] for lab in active])) if active else 0.0
        )
    defined = [v for v in auc.values() if v is not None]
    result["roc_auc_macro"] = float(numpy.mean(defined)) if defined else None
    result["roc_auc_undefined"] = [lab for lab, v in auc.items() if v is None]
    result["labels"] = labels
    result["per_type"] = per_type
