"""`explain(nlp, doc, target)`: which tokens moved the target's score, by integrated
gradients (at most 64 forward/backward passes) and, as the model-agnostic check, occlusion."""
import time
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span

from ..relations.data import Relation
from .gradients import gauss_legendre, riemann_trapezoid, run
from .heads import head_kind
from .occlusion import occlusion as occlude
from .target import Target, category_target, entity_target, relation_target

MAX_PASSES = 64


@dataclass
class Attribution:
    """Per-token attributions of one target of one doc."""

    doc: Doc
    target: Target
    scores: numpy.ndarray  # integrated gradients, one per token; they sum to about
    score: float  # ... the target's score on the doc
    baseline_score: float  # ... minus its score with every word embedding at the baseline
    unaligned: float  # attribution that fell on wordpieces no token aligns to
    occlusion: Optional[numpy.ndarray]  # score drop when each token is removed (NaN: not run)
    passes: int  # passes of integrated gradients (gausslegendre: 2 of them forward only)
    occlusion_passes: int
    seconds: float
    occlusion_seconds: float
    method: str

    @property
    def completeness_gap(self) -> float:
        """|sum of attributions - (score - baseline)| relative to |score - baseline|."""
        return _gap(self.scores, self.score, self.baseline_score)

    def top(self, n: int = 10, by: str = "ig"):
        """[(token text, index, value)] of the `n` tokens with the largest |value|."""
        values = self.scores if by == "ig" else self.occlusion
        if values is None:
            return []
        order = [i for i in numpy.argsort(-numpy.nan_to_num(numpy.abs(values), nan=-1.0))
                 if not self.doc[int(i)].is_space and values[i] == values[i]]
        return [(self.doc[int(i)].text, int(i), float(values[i])) for i in order[:n]]


def _default_component(nlp: Language, kind: str) -> str:
    wanted = {"category": ("category",), "entity": ("ner", "spancat"), "relation": ("relation",)}
    for name, pipe in nlp.pipeline:
        try:
            if head_kind(pipe) in wanted[kind]:
                return name
        except ValueError:
            continue
    raise ValueError(f"the pipeline has no component that scores a {kind}")


def as_target(nlp: Language, doc: Doc, target: Union[Target, Span, Relation, str],
              component: Optional[str] = None) -> Target:
    if isinstance(target, Target):
        return target
    if isinstance(target, Span):
        if target.doc is not doc:
            raise ValueError("the entity span belongs to another doc")
        return entity_target(target, component or _default_component(nlp, "entity"))
    if isinstance(target, Relation):
        return relation_target(target, component or _default_component(nlp, "relation"))
    if isinstance(target, str):
        return category_target(target, component or _default_component(nlp, "category"))
    raise TypeError(f"target must be a Span, a Relation or a category label, got "
                    f"{type(target).__name__}")


def explain(nlp: Language, doc: Doc, target: Union[Target, Span, Relation, str], *,
            component: Optional[str] = None, steps: int = 32, method: str = "riemann_trapezoid",
            occlusion: bool = True, occlusion_window: Optional[int] = 64,
            batch_size: int = 16, refine_above: Optional[float] = 0.05) -> Attribution:
    """Attribute the score of `target` in `doc` (already processed by `nlp`) to its tokens.

    target: an entity Span of `doc` (scored by ner or spancat), a Relation of
    `doc._.relations` (clinical_relations' probability of its label) or a category label
    (textcat). `steps` integration points, one forward/backward pass each; `method`
    "riemann_trapezoid" (default: robust to the kinks that ReLU, maxout and max pooling put in
    the heads; its nodes include both ends) or "gausslegendre" (fewer steps on smooth heads,
    plus one forward for the ends). With the trapezoid, an attribution whose completeness gap
    exceeds `refine_above` (None: never) gets the `steps - 1` midpoints as well, when that
    stays within 64 passes (the default 32 steps refine to 63). `passes` reports the count.
    Occlusion removes each token within `occlusion_window` tokens of the target (every token
    for a category) and scores again. Dropout is off everywhere, so the same input gives the
    same attributions.
    """
    if method not in ("gausslegendre", "riemann_trapezoid"):
        raise ValueError(f"method must be one of ['gausslegendre', 'riemann_trapezoid'], "
                         f"got '{method}'")
    # The trapezoid's nodes include both ends, so it needs no extra forward for them.
    most = MAX_PASSES if method == "riemann_trapezoid" else MAX_PASSES - 2
    if not 2 <= steps <= most:
        raise ValueError(f"steps must lie in [2, {most}] for {method}, got {steps}")
    if not len(doc):
        raise ValueError("cannot explain an empty doc")
    tgt = as_target(nlp, doc, target, component)
    start = time.perf_counter()
    if method == "riemann_trapezoid":
        ig = _trapezoid(nlp, doc, tgt, steps, batch_size, refine_above)
    else:
        ig = _gauss_legendre(nlp, doc, tgt, steps, batch_size)
    total, unaligned, score, baseline, passes = ig
    seconds = time.perf_counter() - start
    occ, occ_passes, occ_seconds = None, 0, 0.0
    if occlusion:
        start = time.perf_counter()
        window = None if tgt.kind == "category" else occlusion_window
        occ, occ_passes = occlude(nlp, doc, tgt, score, window, batch_size)
        occ_seconds = time.perf_counter() - start
    return Attribution(doc, tgt, total, score, baseline, unaligned, occ, passes, occ_passes,
                       seconds, occ_seconds, method)


_Integral = Tuple[numpy.ndarray, float, float, float, int]


def _integrate(nlp: Language, doc: Doc, tgt: Target, alphas: numpy.ndarray,
               weights: numpy.ndarray, batch_size: int):
    """Weighted sum of the attributions at `alphas`, and the target's score at each."""
    total = numpy.zeros(len(doc))
    unaligned = 0.0
    values: list = []
    for lo in range(0, len(alphas), batch_size):
        a, w = alphas[lo:lo + batch_size], weights[lo:lo + batch_size]
        out = run(nlp, tgt.component, [doc.copy() for _ in a], [tgt] * len(a),
                  alphas=a.tolist(), weights=w.tolist())
        assert out.token_attr is not None and out.unaligned is not None
        total += numpy.sum(out.token_attr, axis=0)
        unaligned += float(out.unaligned.sum())
        values.extend(float(v) for v in out.values)
    return total, unaligned, values


def _gap(total: numpy.ndarray, score: float, baseline: float) -> float:
    delta = score - baseline
    return abs(float(total.sum()) - delta) / max(abs(delta), 1e-12)


def _trapezoid(nlp: Language, doc: Doc, tgt: Target, steps: int, batch_size: int,
               refine_above: Optional[float]) -> _Integral:
    """Trapezoid rule on `steps` nodes; where the completeness gap exceeds `refine_above`
    and the budget allows, the midpoints are added (the rule on 2 * steps - 1 nodes, reusing
    every pass already made), since the kinks of ReLU heads are what the coarse grid misses."""
    alphas, weights = riemann_trapezoid(steps)
    total, unaligned, values = _integrate(nlp, doc, tgt, alphas, weights, batch_size)
    baseline, score = values[0], values[-1]
    passes = steps
    if (refine_above is not None and _gap(total, score, baseline) > refine_above
            and passes + steps - 1 <= MAX_PASSES):
        h = 1.0 / (steps - 1)
        mids = alphas[:-1] + h / 2
        extra, extra_unaligned, _ = _integrate(nlp, doc, tgt, mids,
                                               numpy.full(steps - 1, h / 2), batch_size)
        total = total / 2 + extra
        unaligned = unaligned / 2 + extra_unaligned
        passes += steps - 1
    return total, unaligned, score, baseline, passes


def _gauss_legendre(nlp: Language, doc: Doc, tgt: Target, steps: int,
                    batch_size: int) -> _Integral:
    """Gauss-Legendre nodes exclude the ends: one extra forward of two docs scores them."""
    ends = run(nlp, tgt.component, [doc.copy(), doc.copy()], [tgt, tgt], alphas=[1.0, 0.0],
               backward=False)
    alphas, weights = gauss_legendre(steps)
    total, unaligned, _ = _integrate(nlp, doc, tgt, alphas, weights, batch_size)
    return total, unaligned, float(ends.values[0]), float(ends.values[1]), steps + 2
