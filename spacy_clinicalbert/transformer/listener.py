"""A transformer listener whose mean pooling is one sparse product per doc.

spacy-transformers pools wordpieces into tokens by first copying every (token, wordpiece) pair
into a new array and then averaging it. Overlapping windows align each token to ~1.6 wordpiece
rows, so that copy is about as large as the hidden states, and each listener (ner, relations,
textcat) makes its own. Mean pooling is a linear map: a sparse (tokens x wordpieces)
matrix of 1/count weights gives the same vectors in one pass, and its transpose the gradients.
Other poolings (max, first, last) and non-NumPy ops (GPU) take spacy-transformers' path.
"""
from typing import List, Optional, cast

import numpy
from scipy import sparse
from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.data_classes import TransformerData
from spacy_transformers.layers import TransformerListener
from thinc.api import Model, NumpyOps, chain
from thinc.types import Floats2d, Ragged
from transformers.modeling_outputs import BaseModelOutput

from .upstream import POOLING_GRAD_FACTOR_ATTR, pooling_layer, stock_pooling_forward


@registry.architectures("spacy-clinicalbert.TransformerListener.v1")
def clinicalbert_listener_v1(
    pooling: Model[Ragged, Floats2d], grad_factor: float = 1.0, upstream: str = "*"
) -> Model[List[Doc], List[Floats2d]]:
    """spacy-transformers' TransformerListener.v1: same arguments, outputs and saved structure,
    so a pipeline trained with either loads with the other; with `reduce_mean.v1` pooling on
    CPU it pools by a sparse product (see the module docstring)."""
    listener = TransformerListener(upstream_name=upstream)
    model: Model = chain(listener, pool_wordpieces(pooling, grad_factor))
    model.set_ref("listener", listener)
    return model


def pool_wordpieces(
    pooling: Model[Ragged, Floats2d], grad_factor: float
) -> Model[List[TransformerData], List[Floats2d]]:
    """The stock `trfs2arrays` layer (same name, sublayer and attrs) with a sparse forward
    for mean pooling on NumPy ops; anything else runs the stock forward."""
    return pooling_layer(_pool_forward, pooling, grad_factor)


def mean_pooling_matrix(align: Ragged, n_wordpieces: int) -> sparse.csr_matrix:
    """(tokens x wordpieces): row i holds 1/k at each of token i's k aligned wordpieces.
    A wordpiece aligned twice to one token counts twice, as in the stock gather."""
    lengths = numpy.asarray(align.lengths, dtype="int64")
    indices = numpy.asarray(align.dataXd, dtype="int64").ravel()
    indptr = numpy.zeros(len(lengths) + 1, dtype="int64")
    numpy.cumsum(lengths, out=indptr[1:])
    weights = numpy.repeat(1.0 / numpy.maximum(lengths, 1), lengths).astype("float32")
    return sparse.csr_matrix((weights, indices, indptr), shape=(len(lengths), n_wordpieces))


def _pool_forward(model: Model, trf_datas: List[TransformerData], is_train: bool):
    if model.layers[0].name != "reduce_mean" or not isinstance(model.ops, NumpyOps):
        return stock_pooling_forward(model, trf_datas, is_train)
    grad_factor = model.attrs[POOLING_GRAD_FACTOR_ATTR]
    outputs: List[Floats2d] = []
    hiddens: List[Optional[Floats2d]] = []
    matrices: List[Optional[sparse.csr_matrix]] = []
    for trf_data in trf_datas:
        if not isinstance(trf_data, TransformerData):
            raise ValueError(
                f"Expected spacy_transformers TransformerData in doc._.trf_data, got "
                f"{type(trf_data).__name__}: the pipeline needs a `clinicalbert` (or "
                "spacy-transformers `transformer`) component before this listener."
            )
        hidden = _last_hidden_state(trf_data)
        hiddens.append(hidden)
        if hidden is None or hidden.size == 0:  # zero-length doc: no wordpieces were encoded
            outputs.append(model.ops.alloc2f(0, 0))
            matrices.append(None)
            continue
        src = hidden.reshape(-1, trf_data.width)
        matrix = mean_pooling_matrix(trf_data.align, src.shape[0])
        outputs.append(cast(Floats2d, numpy.asarray(matrix @ src, dtype=src.dtype)))
        matrices.append(matrix)

    def backprop(d_outputs: List[Floats2d]) -> List[TransformerData]:
        d_trf_datas: List[TransformerData] = []
        for trf_data, hidden, d_output, matrix in zip(
            trf_datas, hiddens, d_outputs, matrices, strict=False
        ):
            if hidden is None:  # as spacy-transformers: zero-length docs send no gradient
                continue
            if matrix is None:
                d_hidden = numpy.zeros_like(hidden)
            else:
                d_src = numpy.asarray(matrix.T @ d_output, dtype=hidden.dtype)
                d_hidden = (d_src * grad_factor).reshape(hidden.shape)
            d_trf_datas.append(TransformerData(
                # numpy, as spacy-transformers' own gradients; the field is typed for torch.
                model_output=BaseModelOutput(last_hidden_state=d_hidden),  # type: ignore[arg-type]
                wordpieces=trf_data.wordpieces,
                align=trf_data.align,
            ))
        return d_trf_datas

    return outputs, backprop


def _last_hidden_state(trf_data: TransformerData):
    output = trf_data.model_output
    # ModelOutput is a dict of its set fields; its type does not list them.
    return output["last_hidden_state"] if "last_hidden_state" in output else None


__all__ = ["clinicalbert_listener_v1", "mean_pooling_matrix", "pool_wordpieces"]
