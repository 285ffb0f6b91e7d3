"""Choose a span categorizer's decision threshold on dev data.

`clinical_spancat` starts every label at a 1 % prior (see partial_spancat.py), so after a
short training budget few suggested spans reach the 0.5 default: on Chia at 100 steps it
found entities at precision 70.5 and recall 6.4. Where the best cut lies depends on the
corpus and the budget, so the workflow measures it on the dev docs that annotate entities,
as for relations (`relations/threshold.py`): the encoder runs once, the span scores of
every suggestion are kept, and each threshold of the grid re-filters them (with the
component's `max_positive`). Spans are compared as (start char, end char, label), the
exact match spaCy's span scorer counts.

A threshold that keeps more than `MAX_SPANS_PER_GOLD` spans per gold span is not chosen,
whatever its F1: there the model does not yet tell entities from n-grams, and what reads
the spans cannot run on them. Measured on Chia after 4 training steps: 0.05 had the best
F1 (0.0003) by keeping half of the 3,000 suggestions a document, and tuning the relation
component over those spans grew to 14 GB before it was stopped.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Set, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc

from ..layers import ENTITIES, annotates
from ..prf import prf
from ..thresholds import ThresholdChoice, check_grid

SPANCAT_FACTORIES = ("clinical_spancat", "spancat")
MAX_SPANS_PER_GOLD = 3.0  # thresholds keeping more spans than this per gold span are not chosen
SpanKey = Tuple[int, int, str]


class NoEntityDocs(ValueError):
    """No dev doc annotates entities."""


@dataclass
class SpanThresholdChoice(ThresholdChoice):
    too_many: List[float] = field(default_factory=list)  # over MAX_SPANS_PER_GOLD: not chosen

    def to_dict(self) -> Dict:
        return {**super().to_dict(), "not_chosen_too_many_spans": self.too_many}


@dataclass
class _Candidates:
    """One doc's suggestions, each with its top `max_positive` labels and their scores."""

    keys: List[SpanKey]  # one per (suggestion, kept label)
    scores: numpy.ndarray


def _candidates(doc: Doc, indices: numpy.ndarray, scores: numpy.ndarray,
                labels: Sequence[str], max_positive: Any) -> _Candidates:
    if len(indices) == 0:
        return _Candidates([], numpy.zeros((0,), dtype="f"))
    k = scores.shape[1] if not max_positive else min(int(max_positive), scores.shape[1])
    top = numpy.argsort(-scores, axis=1)[:, :k]
    keys: List[SpanKey] = []
    kept: List[float] = []
    for row, (start, end) in enumerate(indices.tolist()):
        span = doc[start:end]
        for col in top[row]:
            keys.append((span.start_char, span.end_char, labels[int(col)]))
            kept.append(float(scores[row, col]))
    return _Candidates(keys, numpy.asarray(kept, dtype="f"))


def _gold(doc: Doc, spans_key: str) -> Set[SpanKey]:
    return {(s.start_char, s.end_char, s.label_) for s in doc.spans.get(spans_key, [])}


def choose_span_threshold(
    nlp: Language,
    gold_docs: Sequence[Doc],
    component: str,
    grid: Sequence[float],
    batch_size: int = 32,
    max_spans_per_gold: float = MAX_SPANS_PER_GOLD,
) -> SpanThresholdChoice:
    """The grid's threshold with the best micro F1 on the docs of `gold_docs` that annotate
    entities (ties: the one nearest the current threshold), among those that keep at most
    `max_spans_per_gold` spans per gold span (none: the current threshold stays)."""
    check_grid(grid)
    pipe: Any = nlp.get_pipe(component)
    previous = float(pipe.cfg["threshold"])
    golds = [doc for doc in gold_docs if annotates(doc, ENTITIES)]
    if not golds:
        raise NoEntityDocs(f"none of the {len(gold_docs)} docs annotates entities")
    upstream = nlp.pipe_names[: nlp.pipe_names.index(component)]
    labels = list(pipe.labels)
    cands: List[_Candidates] = []
    with nlp.select_pipes(enable=upstream):  # the encoder's output stays on the docs
        for start in range(0, len(golds), batch_size):
            texts = [g.text for g in golds[start:start + batch_size]]
            docs = list(nlp.pipe(texts, batch_size=batch_size))
            indices, scores = pipe.predict(docs)
            lengths = pipe.model.ops.to_numpy(indices.lengths).astype("int64")
            all_idx = pipe.model.ops.to_numpy(indices.dataXd).astype("int64")
            all_scores = pipe.model.ops.to_numpy(scores)
            offset = 0
            for doc, n in zip(docs, lengths.tolist(), strict=True):
                cands.append(_candidates(doc, all_idx[offset:offset + n],
                                         all_scores[offset:offset + n], labels,
                                         pipe.cfg.get("max_positive")))
                offset += n
    gold_sets = [_gold(g, pipe.key) for g in golds]
    n_gold = sum(len(g) for g in gold_sets)
    choice = SpanThresholdChoice(component, previous, previous, docs=len(golds))
    for t in sorted(set(grid)):
        tp = n_pred = 0
        for cand, gold in zip(cands, gold_sets, strict=True):
            predicted = {key for key, s in zip(cand.keys, cand.scores, strict=True) if s >= t}
            n_pred += len(predicted)
            tp += len(predicted & gold)
        choice.scores[t] = {**prf(tp, n_pred - tp, n_gold - tp), "spans": n_pred}
        if n_pred > max_spans_per_gold * max(1, n_gold):
            choice.too_many.append(t)
    choice.choose(t for t in choice.scores if t not in choice.too_many)
    return choice


def spancat_components(nlp: Language) -> List[str]:
    """The pipeline's span categorizers, in order."""
    return [name for name in nlp.pipe_names
            if nlp.get_pipe_meta(name).factory in SPANCAT_FACTORIES]
