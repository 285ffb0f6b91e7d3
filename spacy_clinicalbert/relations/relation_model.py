"""The relation classifier: pooled head, tail and context vectors plus type,
width and distance embeddings, fed to a small MLP that scores every label.

Input is the batch's docs together with the candidate pairs the component computed
once for the batch; output is one row of logits per pair. The component turns
logits into probabilities (sigmoid per label, or softmax with an explicit
no-relation column) and owns the loss, so the same model serves both modes.
Token vectors come from any `Model[List[Doc], List[Floats2d]]`: a
spacy-transformers listener fed by `clinicalbert`, or a tok2vec.
"""
from dataclasses import dataclass
from typing import List, Optional, Tuple, cast

import numpy
from scipy import sparse
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, Relu, chain
from thinc.types import Floats2d, Ints1d

# Token-width buckets of a span: 1, 2, 3, 4, 5-7, 8-15, 16-31, 32+.
WIDTH_BUCKETS = (1, 2, 3, 4, 5, 8, 16, 32)
# Signed token gap between the spans (negative: tail before head), bucketed.
DISTANCE_EDGES = (0, 1, 2, 4, 8, 16, 32)


@dataclass
class PairBatch:
    """Candidate pairs of a batch as flat integer arrays (token offsets per doc)."""

    doc_ids: numpy.ndarray
    head_start: numpy.ndarray
    head_end: numpy.ndarray
    tail_start: numpy.ndarray
    tail_end: numpy.ndarray
    head_label: numpy.ndarray
    tail_label: numpy.ndarray

    def __len__(self) -> int:
        return int(self.doc_ids.shape[0])

    @classmethod
    def from_rows(cls, rows: List[Tuple[int, int, int, int, int, int, int]]) -> "PairBatch":
        arr = numpy.asarray(rows, dtype="int64").reshape((-1, 7))
        return cls(*[arr[:, i].copy() for i in range(7)])

    def subset(self, index: numpy.ndarray) -> "PairBatch":
        return PairBatch(*[getattr(self, f)[index] for f in self.__dataclass_fields__])


def width_bucket(width: numpy.ndarray) -> numpy.ndarray:
    return numpy.searchsorted(numpy.asarray(WIDTH_BUCKETS), width, side="right") - 1


def distance_bucket(batch: PairBatch) -> numpy.ndarray:
    gap = numpy.maximum(batch.head_start, batch.tail_start) - numpy.minimum(
        batch.head_end, batch.tail_end
    )
    gap = numpy.maximum(gap, 0)
    bucket = numpy.searchsorted(numpy.asarray(DISTANCE_EDGES), gap, side="right") - 1
    n = len(DISTANCE_EDGES)
    return numpy.where(batch.head_start <= batch.tail_start, bucket, bucket + n)


@registry.architectures("spacy-clinicalbert.RelationModel.v1")
def relation_model_v1(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 256,
    label_width: int = 32,
    size_width: int = 16,
    max_entity_labels: int = 64,
    dropout: float = 0.1,
    nO: Optional[int] = None,
) -> Model[Tuple[List[Doc], PairBatch], Floats2d]:
    """Pair classifier over token vectors.

    max_entity_labels bounds the entity-label embedding table (ids are assigned by
    the component from the training data; 0 is 'unknown'). nO is the number of
    output columns and is normally inferred at initialize.
    """
    return _relation_model(tok2vec, hidden_width, label_width, size_width, max_entity_labels,
                           dropout, nO, boundary_tokens=False)


@registry.architectures("spacy-clinicalbert.RelationModel.v2")
def relation_model_v2(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 256,
    label_width: int = 32,
    size_width: int = 16,
    max_entity_labels: int = 64,
    dropout: float = 0.1,
    nO: Optional[int] = None,
) -> Model[Tuple[List[Doc], PairBatch], Floats2d]:
    """RelationModel.v1 plus boundary tokens: the first and last token of each span
    and the token just outside each end. End to end, a pair over a predicted entity
    with a wrong boundary is a false positive whatever the relation; these vectors
    let the head see where a span starts and stops, not only its mean."""
    return _relation_model(tok2vec, hidden_width, label_width, size_width, max_entity_labels,
                           dropout, nO, boundary_tokens=True)


def _relation_model(tok2vec, hidden_width, label_width, size_width, max_entity_labels, dropout,
                    nO, *, boundary_tokens: bool) -> Model:
    mlp: Model[Floats2d, Floats2d] = chain(Relu(nO=hidden_width, dropout=dropout), Linear(nO=nO))
    return Model(
        "relation_model",
        forward,
        init=init,
        layers=[tok2vec, mlp],
        params={"E_label": None, "E_width": None, "E_dist": None},
        dims={"nO": nO, "nW": None},
        attrs={
            "label_width": label_width,
            "size_width": size_width,
            "max_entity_labels": max_entity_labels,
            "boundary_tokens": boundary_tokens,
        },
    )


def _token_width(model: Model, docs: List[Doc]) -> int:
    tok2vec = model.layers[0]
    if tok2vec.has_dim("nO") is True:
        return tok2vec.get_dim("nO")
    vectors = tok2vec.predict([doc for doc in docs if len(doc)][:2] or docs[:1])
    if not vectors:
        raise ValueError("RelationModel: cannot infer the token-vector width from an empty sample.")
    return vectors[0].shape[1]


def init(model: Model, X=None, Y=None) -> Model:
    tok2vec, mlp = model.layers
    if X is not None:
        tok2vec.initialize(X=X[0])
    if not model.has_dim("nW") and X is not None:
        model.set_dim("nW", _token_width(model, X[0]))
    width = model.get_dim("nW")
    lw, sw = model.attrs["label_width"], model.attrs["size_width"]
    ops = model.ops
    for name, rows, cols in (
        ("E_label", model.attrs["max_entity_labels"], lw),
        ("E_width", len(WIDTH_BUCKETS), sw),
        ("E_dist", 2 * len(DISTANCE_EDGES), sw),
    ):
        if not model.has_param(name):
            table = cast(Floats2d, numpy.random.normal(0, 0.1, (rows, cols)))
            model.set_param(name, ops.asarray2f(table, dtype="f"))
    n_in = _n_pooled(model) * width + 2 * lw + 3 * sw
    if Y is not None and not model.has_dim("nO"):
        model.set_dim("nO", Y.shape[1])
    if model.has_dim("nO"):
        mlp.layers[-1].set_dim("nO", model.get_dim("nO"))
    mlp.initialize(X=ops.alloc2f(2, n_in), Y=Y[:2] if Y is not None else None)
    return model


def _n_pooled(model: Model) -> int:
    """Token-vector blocks per pair: head, tail, context (+ 8 boundary tokens)."""
    return 11 if model.attrs.get("boundary_tokens") else 3


def _pooled_ranges(batch: PairBatch, base: numpy.ndarray, doc_len: numpy.ndarray, boundary: bool):
    """(starts, ends) in flat token positions of every pooled block of each pair."""
    ctx_start = numpy.minimum(batch.head_end, batch.tail_end)
    ctx_end = numpy.maximum(batch.head_start, batch.tail_start)
    ranges = [(batch.head_start, batch.head_end), (batch.tail_start, batch.tail_end),
              (ctx_start, ctx_end)]
    if boundary:
        for start, end in ((batch.head_start, batch.head_end), (batch.tail_start, batch.tail_end)):
            before = numpy.maximum(start - 1, 0)
            after_end = numpy.minimum(end + 1, doc_len)
            ranges += [
                (start, start + 1),            # first token
                (end - 1, end),                # last token
                (before, start),               # token before (empty at the doc start)
                (end, after_end),              # token after (empty at the doc end)
            ]
    return [(base + a, base + b) for a, b in ranges]


def _pooling_matrix(
    starts: numpy.ndarray, ends: numpy.ndarray, n_rows: int
) -> sparse.csr_matrix:
    """A (pairs x tokens) matrix whose product with the token vectors mean-pools each
    [start, end) range; empty ranges pool to zero."""
    lengths = numpy.maximum(ends - starts, 0)
    cols = (
        numpy.concatenate([numpy.arange(s, s + n) for s, n in zip(starts, lengths, strict=True)])
        if len(starts)
        else numpy.zeros((0,), dtype="int64")
    )
    rows = numpy.repeat(numpy.arange(len(starts)), lengths)
    vals = numpy.repeat(1.0 / numpy.maximum(lengths, 1), lengths).astype("float32")
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(starts), n_rows), dtype="float32")


def forward(model: Model, inputs: Tuple[List[Doc], PairBatch], is_train: bool):
    docs, batch = inputs
    tok2vec, mlp = model.layers
    tokvecs, bp_tokvecs = tok2vec(docs, is_train)
    ops = model.ops
    n_out = model.get_dim("nO")
    if len(batch) == 0:

        def backprop_empty(d_scores: Floats2d):
            # Listeners expect a backprop call every batch (the last one updates the
            # transformer for every listener), so send zero gradients.
            return bp_tokvecs([ops.alloc2f(*t.shape) for t in tokvecs])

        return ops.alloc2f(0, n_out), backprop_empty

    lengths = numpy.asarray([t.shape[0] for t in tokvecs], dtype="int64")
    offsets = numpy.concatenate([[0], numpy.cumsum(lengths)[:-1]]).astype("int64")
    X = ops.to_numpy(ops.flatten(tokvecs)) if len(tokvecs) else numpy.zeros((0, 1), "f")
    n_tok = X.shape[0]
    base = offsets[batch.doc_ids]
    ranges = _pooled_ranges(batch, base, lengths[batch.doc_ids],
                            bool(model.attrs.get("boundary_tokens")))
    pools = [_pooling_matrix(starts, ends, n_tok) for starts, ends in ranges]
    pooled = [numpy.asarray(P @ X, dtype="f") for P in pools]
    E_label = ops.to_numpy(model.get_param("E_label"))
    E_width = ops.to_numpy(model.get_param("E_width"))
    E_dist = ops.to_numpy(model.get_param("E_dist"))
    max_labels = E_label.shape[0]
    head_lab = numpy.where(batch.head_label < max_labels, batch.head_label, 0)
    tail_lab = numpy.where(batch.tail_label < max_labels, batch.tail_label, 0)
    head_w = width_bucket(batch.head_end - batch.head_start)
    tail_w = width_bucket(batch.tail_end - batch.tail_start)
    dist = distance_bucket(batch)
    parts = pooled + [
        E_label[head_lab], E_label[tail_lab], E_width[head_w], E_width[tail_w], E_dist[dist]
    ]
    widths = [p.shape[1] for p in parts]
    feats = ops.asarray2f(cast(Floats2d, numpy.hstack(parts).astype("f")))
    scores, bp_mlp = mlp(feats, is_train)

    def backprop(d_scores: Floats2d):
        d_feats = ops.to_numpy(bp_mlp(d_scores))
        splits = numpy.cumsum(widths)[:-1]
        blocks = numpy.split(d_feats, splits, axis=1)
        d_pooled = blocks[: len(pools)]
        d_hl, d_tl, d_hw, d_tw, d_dist = blocks[len(pools):]
        for name, grads in (
            ("E_label", ((head_lab, d_hl), (tail_lab, d_tl))),
            ("E_width", ((head_w, d_hw), (tail_w, d_tw))),
            ("E_dist", ((dist, d_dist),)),
        ):
            table = numpy.zeros_like(ops.to_numpy(model.get_param(name)))
            for idx, grad in grads:
                numpy.add.at(table, idx, grad)
            model.inc_grad(name, ops.asarray2f(cast(Floats2d, table), dtype="f"))
        dX = numpy.zeros((n_tok, X.shape[1]), dtype="f")
        for P, d in zip(pools, d_pooled, strict=True):
            dX += numpy.asarray(P.T @ d, dtype="f")
        d_tokvecs = ops.unflatten(
            ops.asarray2f(cast(Floats2d, dX)), ops.asarray1i(cast(Ints1d, lengths))
        )
        return bp_tokvecs(d_tokvecs)

    return scores, backprop
