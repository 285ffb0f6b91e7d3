"""The differentiable score of a target, component by component: values for a batch of
docs (one target each) and a callback that sends d(score) back into the component's model,
down to its transformer listener.

- category (textcat, textcat_multilabel): the model's output for the label.
- relation (clinical_relations): the probability of the relation's label for the pair,
  sigmoid or softmax as the component computes it.
- entity (ner): spaCy's ner is a transition-based parser with no score for a span. We
  explain the probability that its local classifier gives the span's own actions (B, I...,
  L or U of the label), each a softmax over the actions valid in that state, along the path
  of the doc's predicted entities (so the history the parser conditions on is what it saw).
  It is the product of those probabilities: 1 means ner is sure of this span and label.
- entity (spancat, clinical_spancat): the model's score of the span for the label.

Every model runs in training mode (thinc records the backprop) with every dropout rate at 0
(`no_dropout`), and spaCy's parser step model, which keeps its own dropout, is set to 0 too.
"""
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import numpy
from spacy.pipeline import EntityRecognizer, SpanCategorizer, TextCategorizer
from spacy.tokens import Doc, Span
from thinc.api import Model, Ragged

from .target import Target

Backprop = Callable[[numpy.ndarray], None]


@contextmanager
def no_dropout(model: Model) -> Iterator[None]:
    """Every `dropout_rate` of `model`'s layers at 0, restored on exit."""
    saved = []
    for node in model.walk():
        if "dropout_rate" in node.attrs:
            saved.append((node, node.attrs["dropout_rate"]))
            node.attrs["dropout_rate"] = 0.0
    try:
        yield
    finally:
        for node, rate in saved:
            node.attrs["dropout_rate"] = rate


def clear_gradients(model: Model) -> None:
    """Zero what the attribution's backward passes accumulated in the component's params."""
    for node in model.walk():
        for name in node.param_names:
            if node.has_grad(name):
                node.set_grad(name, node.ops.alloc(node.get_grad(name).shape))


def head_kind(pipe) -> str:
    from ..relations.relation_component import RelationExtractor

    if isinstance(pipe, TextCategorizer):
        return "category"
    if isinstance(pipe, RelationExtractor):
        return "relation"
    if isinstance(pipe, EntityRecognizer):
        return "ner"
    if isinstance(pipe, SpanCategorizer):
        return "spancat"
    raise ValueError(f"cannot explain component {type(pipe).__name__}: explain supports "
                     "textcat, textcat_multilabel, ner, spancat and clinical_relations")


def score_targets(pipe, docs: Sequence[Doc], targets: Sequence[Target]
                  ) -> Tuple[numpy.ndarray, Backprop]:
    kind = head_kind(pipe)
    if kind == "category":
        return _category(pipe, docs, targets)
    if kind == "relation":
        return _relation(pipe, docs, targets)
    if kind == "spancat":
        return _spancat(pipe, docs, targets)
    return _ner(pipe, docs, targets)


def _column(labels: Sequence[str], label: str, pipe) -> int:
    if label not in labels:
        raise ValueError(f"'{pipe.name}' has no label '{label}'; it has {list(labels)}")
    return list(labels).index(label)


def _category(pipe, docs, targets):
    col = _column(pipe.labels, targets[0].label, pipe)
    scores, bp = pipe.model.begin_update(list(docs))
    probs = pipe.model.ops.to_numpy(scores).astype("float64")
    values = probs[:, col]
    # thinc 8.2.5's `Softmax` layer (TextCatReduce, TextCatEnsemble, TextCatCNN when
    # exclusive) backprops its input gradient as if given d(loss)/d(logits), skipping the
    # softmax's Jacobian; hand it d(p_col)/d(logits) = p_col (delta - p) instead.
    softmax_layer = any(node.name == "softmax" for node in pipe.model.walk())

    def backprop(d_values):
        if softmax_layer:
            d = -probs * values[:, None]
            d[:, col] += values
            d *= d_values[:, None]
        else:
            d = numpy.zeros(probs.shape)
            d[:, col] = d_values
        bp(pipe.model.ops.asarray2f(d.astype("float32")))

    return values, backprop


def _relation(pipe, docs, targets):
    from ..relations.loss import output_columns, probabilities
    from ..relations.pair_set import PairSet

    multi = bool(pipe.cfg["multi_label"])
    col = _column(output_columns(pipe.labels, multi), targets[0].label, pipe)
    ent_ids = {label: i + 1 for i, label in enumerate(pipe.cfg["entity_labels"])}
    spans = [[(Span(doc, t.start, t.end, label=t.head_label),
               Span(doc, t.tail_start, t.tail_end, label=t.tail_label))]
             for doc, t in zip(docs, targets, strict=True)]
    pairs = PairSet.from_spans(spans, ent_ids)
    logits, bp = pipe.model.begin_update((list(docs), pairs.batch))
    probs = probabilities(pipe.model.ops.to_numpy(logits).astype("float64"), multi)
    values = probs[:, col]

    def backprop(d_values):
        if multi:
            d = numpy.zeros(probs.shape)
            d[:, col] = d_values * values * (1 - values)
        else:  # d p_col / d logit_j = p_col (delta_j,col - p_j)
            d = -probs * values[:, None]
            d[:, col] += values
            d *= d_values[:, None]
        bp(pipe.model.ops.asarray2f(d.astype("float32")))

    return values, backprop


def _spancat(pipe, docs, targets):
    col = _column(pipe.labels, targets[0].label, pipe)
    starts_ends = numpy.asarray([[t.start, t.end] for t in targets], dtype="int32")
    indices = Ragged(pipe.model.ops.asarray2i(starts_ends),
                     pipe.model.ops.asarray1i(numpy.ones(len(targets), dtype="int32")))
    scores, bp = pipe.model.begin_update((list(docs), indices))
    values = pipe.model.ops.to_numpy(scores)[:, col].astype("float64")

    def backprop(d_values):
        d = numpy.zeros(scores.shape, dtype="float32")
        d[:, col] = d_values
        bp(pipe.model.ops.asarray2f(d))

    return values, backprop


def _ner_path(doc: Doc, target: Target, names: Dict[str, int]) -> List[str]:
    """The action for each token: the doc's predicted entities as BILUO, the target's own
    tokens as its label; entities of labels ner does not know (rules) become O."""
    tags = ["O"] * len(doc)
    for ent in doc.ents:
        if ent.start < target.end and target.start < ent.end:
            continue  # the target replaces whatever overlaps it
        _set_biluo(tags, ent.start, ent.end, ent.label_)
    _set_biluo(tags, target.start, target.end, target.label)
    return [tag if tag in names else "O" for tag in tags]


def _set_biluo(tags: List[str], start: int, end: int, label: str) -> None:
    if end - start == 1:
        tags[start] = f"U-{label}"
        return
    tags[start] = f"B-{label}"
    for i in range(start + 1, end - 1):
        tags[i] = f"I-{label}"
    tags[end - 1] = f"L-{label}"


def _ner(pipe, docs, targets):
    moves = pipe.moves
    names = {moves.get_class_name(i): i for i in range(moves.n_moves)}
    label = targets[0].label
    if f"U-{label}" not in names:
        raise ValueError(f"'{pipe.name}' has no entity label '{label}'")
    paths = [_ner_path(doc, t, names) for doc, t in zip(docs, targets, strict=True)]
    for doc in docs:  # ner keeps preset entities: without this only their actions are valid
        doc.set_ents([], default="missing")
    step_model, finish = pipe.model.begin_update(list(docs))
    step_model.attrs["dropout_rate"] = 0.0  # ParserStepModel keeps its own (0.1 by default)
    states = moves.init_batch(list(docs))
    n = len(docs)
    log_p = numpy.zeros(n)
    steps = []  # (backprop, rows: list of (row, doc k, class, softmax over valid))
    while True:
        active = [k for k in range(n) if not states[k].is_final()]
        if not active or all(states[k].B(0) >= targets[k].end for k in active):
            break
        scores, bp = step_model.begin_update([states[k] for k in active])
        scores = numpy.asarray(scores, dtype="float64")
        rows = []
        for row, k in enumerate(active):
            state = states[k]
            tok = state.B(0)
            action = paths[k][tok]
            if not moves.is_valid(state, action):
                raise ValueError(f"ner cannot take action {action} at token {tok} "
                                 f"('{docs[k][tok].text}') of the doc's entity path")
            if targets[k].start <= tok < targets[k].end:
                valid = numpy.array([moves.is_valid(state, moves.get_class_name(i))
                                     for i in range(moves.n_moves)])
                z = numpy.where(valid, scores[row], -numpy.inf)
                z = numpy.exp(z - z.max())
                soft = z / z.sum()
                cls = names[action]
                log_p[k] += numpy.log(max(soft[cls], 1e-30))
                rows.append((row, k, cls, soft))
            moves.apply_transition(state, action)
        if rows:
            steps.append((bp, len(active), scores.shape[1], rows))
    values = numpy.exp(log_p)

    def backprop(d_values):
        for bp, n_rows, n_cls, rows in steps:
            d = numpy.zeros((n_rows, n_cls), dtype="float32")
            for row, k, cls, soft in rows:
                g = -soft
                g[cls] += 1.0
                d[row] = d_values[k] * values[k] * g
            bp(d)
        finish(None)

    return values, backprop
