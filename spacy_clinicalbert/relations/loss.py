"""Targets, scores and loss of the relation head, over the columns the model outputs.

Sigmoid (multi-label): one column per label. Softmax: a no-relation column first, then
the labels. Both losses have the gradient probs - targets with respect to the logits,
so the component backpropagates it straight into the model.
"""
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy
from spacy.training import Example

from .data import get_relations
from .pair_set import PairSet

NO_RELATION = "__NO_RELATION__"
_EPS = 1e-7


def output_columns(labels: Sequence[str], multi_label: bool) -> List[str]:
    """The labels, plus a no-relation column in softmax mode."""
    return list(labels) if multi_label else [NO_RELATION] + list(labels)


def probabilities(logits: numpy.ndarray, multi_label: bool) -> numpy.ndarray:
    if logits.shape[0] == 0:
        return logits
    if multi_label:
        return 1.0 / (1.0 + numpy.exp(-logits))
    shifted = numpy.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def pair_targets(
    examples: Iterable[Example],
    pairs: PairSet,
    columns: Sequence[str],
    multi_label: bool,
    symmetric_labels: Iterable[str] = (),
) -> numpy.ndarray:
    """One row per pair: 1 in the column of each gold label of that (head, tail).

    Pairs match gold relations by character offsets and labels, so pairs over the
    predicted tokens meet the reference's relations whatever the tokenization.
    """
    index = {label: j for j, label in enumerate(columns)}
    symmetric = set(symmetric_labels)
    Y = numpy.zeros((len(pairs), len(index)), dtype="f")
    row = 0
    for eg, doc_pairs in zip(examples, pairs.spans, strict=True):
        gold: Dict[Tuple, List[str]] = {}
        for rel in get_relations(eg.reference):
            h, t = rel.head, rel.tail
            key = (h.start_char, h.end_char, h.label_, t.start_char, t.end_char, t.label_)
            gold.setdefault(key, []).append(rel.label)
            if rel.label in symmetric:
                gold.setdefault(key[3:] + key[:3], []).append(rel.label)
        for head, tail in doc_pairs:
            key = (head.start_char, head.end_char, head.label_,
                   tail.start_char, tail.end_char, tail.label_)
            labels = [index[lab] for lab in gold.get(key, []) if lab in index]
            if labels:
                if multi_label:
                    Y[row, labels] = 1.0
                else:
                    Y[row, labels[0]] = 1.0
            elif not multi_label:
                Y[row, 0] = 1.0
            row += 1
    return Y


def positive_rows(Y: numpy.ndarray, multi_label: bool) -> numpy.ndarray:
    """Which pairs hold a relation (softmax: anything but the no-relation column)."""
    return Y.sum(axis=1) > 0 if multi_label else Y[:, 1:].sum(axis=1) > 0


def loss_and_gradient(
    probs: numpy.ndarray, Y: numpy.ndarray, multi_label: bool
) -> Tuple[float, numpy.ndarray]:
    """Binary cross-entropy (sigmoid) or cross-entropy (softmax), mean over pairs, and
    its gradient with respect to the logits."""
    n = max(probs.shape[0], 1)
    if multi_label:
        loss = -(Y * numpy.log(probs + _EPS) + (1 - Y) * numpy.log(1 - probs + _EPS)).sum()
    else:
        loss = -(Y * numpy.log(probs + _EPS)).sum()
    return float(loss / n), ((probs - Y) / n).astype("f")
