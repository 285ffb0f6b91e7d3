"""Integrated gradients through the encoder's word embeddings and the component's head.

For a batch of docs (copies of one doc, or occluded variants), the transformer runs with
thinc recording the backprop and the encoder in eval mode; a forward hook on the word
embedding table can replace each wordpiece's embedding by `baseline + alpha * (x - baseline)`
(alpha per doc, special tokens untouched, the baseline being the [PAD] embedding), and keep
the interpolated tensor's gradient. The component listens through its transformer listener,
which is handed the batch's output as in training; the head's d(score) flows back through
the listener into torch. Attributions per wordpiece are (x - baseline) . grad, summed over
the quadrature's alphas with their weights, then summed per spaCy token by the transformer's
own alignment.

Why not captum: its IntegratedGradients needs one torch function from input to score, and
our scores come out of thinc layers (NumPy) after spacy-transformers' listener; the graph is
cut at the listener. thinc's backprop callbacks already give the chain rule across that cut,
so the interpolation and quadrature here are the small part that captum would add.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc

from ..transformer import upstream
from .heads import clear_gradients, no_dropout, score_targets
from .target import Target


@dataclass
class Forward:
    values: numpy.ndarray  # the target's score per doc
    token_attr: Optional[List[numpy.ndarray]]  # per doc, per token (None without gradients)
    unaligned: Optional[numpy.ndarray]  # attribution on wordpieces no token aligns to


def transformer_of(nlp: Language, component: str):
    """The transformer component `component` listens to, and the listener inside it."""
    from spacy_transformers import Transformer
    from spacy_transformers.layers import TransformerListener

    pipe: Any = nlp.get_pipe(component)
    listeners = [n for n in pipe.model.walk() if isinstance(n, TransformerListener)]
    for _name, trf in nlp.pipeline:
        if isinstance(trf, Transformer) and component in trf.listening_components:
            if len(listeners) != 1:
                raise ValueError(f"'{component}' has {len(listeners)} transformer listeners; "
                                 "explain needs exactly one")
            return trf, listeners[0]
    raise ValueError(f"'{component}' does not listen to a transformer component: integrated "
                     "gradients need the encoder (occlusion works for any component)")


@contextmanager
def _interpolation(module, alphas: Optional[Sequence[float]], special_ids: Sequence[int],
                   baseline_id: int) -> Iterator[dict]:
    """Hook the word embeddings: per doc k, embeddings move to baseline + alpha_k (x - b)."""
    import torch

    record: dict = {}
    if alphas is None:
        yield record
        return
    emb = module.get_input_embeddings()
    special = torch.tensor(sorted(set(special_ids)), dtype=torch.long)

    def hook(_module, args, output):
        input_ids = args[0]
        rows = output.shape[0]
        if rows % len(alphas):
            raise ValueError(f"{rows} windows for {len(alphas)} docs: copies differ")
        per_doc = rows // len(alphas)
        alpha = torch.tensor(numpy.repeat(numpy.asarray(alphas, dtype="float32"), per_doc))
        alpha = alpha.view(-1, 1, 1).to(output.dtype)
        base = emb.weight[baseline_id].detach().view(1, 1, -1)
        keep = torch.isin(input_ids, special).unsqueeze(-1)  # special tokens stay as they are
        diff = (output.detach() - base) * (~keep)
        interp = torch.where(keep, output, base + alpha * (output - base))
        interp.retain_grad()
        record.update(interp=interp, diff=diff, per_doc=per_doc)
        return interp

    handle = emb.register_forward_hook(hook)
    try:
        yield record
    finally:
        handle.remove()


def run(nlp: Language, component: str, docs: Sequence[Doc], targets: Sequence[Target],
        alphas: Optional[Sequence[float]] = None,
        weights: Optional[Sequence[float]] = None, backward: bool = True) -> Forward:
    """One forward (and, with `alphas`, one backward) pass over `docs`, one target each.

    With `alphas`, doc k's word embeddings are interpolated at alphas[k] and its token
    attributions are weights[k] * (x - baseline) . d(score_k)/d(embedding)."""
    from spacy_transformers.layers import TransformerListener

    docs = list(docs)
    trf, listener = transformer_of(nlp, component)
    pipe: Any = nlp.get_pipe(component)
    module = upstream.running_module(trf.model)
    tokenizer = trf.model.tokenizer
    baseline_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with upstream.gradients_in_eval_mode(trf.model), no_dropout(pipe.model), \
            no_dropout(trf.model), _interpolation(module, alphas, tokenizer.all_special_ids,
                                                  baseline_id) as record:
        trf_full, bp_trf = trf.model.begin_update(docs)
        captured: List = []
        listener.receive(TransformerListener.get_batch_id(docs), trf_full.doc_data,
                         lambda d_trf_datas: captured.extend(d_trf_datas))
        try:
            values, bp_head = score_targets(pipe, docs, targets)
            if alphas is None or not backward:
                return Forward(values, None, None)
            bp_head(numpy.asarray(weights, dtype="float64") if weights is not None
                    else numpy.ones(len(docs)))
            if len(captured) != len(docs):
                raise ValueError(f"the listener sent {len(captured)} gradients for "
                                 f"{len(docs)} docs")
            bp_trf(trf_full.unsplit_by_doc([list(d.tensors) for d in captured]))
            grad = record["interp"].grad
            wp_attr = (grad * record["diff"]).sum(-1).detach().cpu().numpy().astype("float64")
        finally:
            listener.receive(None, None, None)
            clear_gradients(pipe.model)
            module.zero_grad(set_to_none=True)
    per_doc = record["per_doc"]
    token_attr, unaligned = [], []
    for k, trf_data in enumerate(trf_full.doc_data):
        flat = wp_attr[k * per_doc:(k + 1) * per_doc].ravel()
        align = trf_data.align
        lengths = numpy.asarray(align.lengths, dtype="int64")
        idx = numpy.asarray(align.dataXd, dtype="int64").ravel()
        owner = numpy.repeat(numpy.arange(len(lengths)), lengths)
        per_token = numpy.zeros(len(lengths))
        numpy.add.at(per_token, owner, flat[idx])
        token_attr.append(per_token)
        covered = numpy.zeros(flat.shape[0], dtype=bool)
        covered[idx] = True
        unaligned.append(float(flat[~covered].sum()))
    return Forward(values, token_attr, numpy.asarray(unaligned))


def gauss_legendre(steps: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Nodes and weights of the `steps`-point Gauss-Legendre rule on [0, 1]."""
    x, w = numpy.polynomial.legendre.leggauss(steps)
    return (x + 1) / 2, w / 2


def riemann_trapezoid(steps: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Trapezoid rule on [0, 1] with `steps` nodes (both ends included)."""
    alphas = numpy.linspace(0.0, 1.0, steps)
    w = numpy.full(steps, 1.0 / (steps - 1))
    w[0] = w[-1] = 0.5 / (steps - 1)
    return alphas, w
