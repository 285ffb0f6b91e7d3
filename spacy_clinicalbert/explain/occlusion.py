"""Occlusion, the model-agnostic check: remove words from the note and score again.

`without(doc, positions)` rebuilds the doc without some tokens (its predicted entities
moved along, those that lose every token dropped), so the same score function can run on
it; `occlusion` removes one token at a time near the target, `rescore` any sets of tokens
(deletion curves). Tokens of the target itself are never removed: its score would be
undefined without them.
"""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span

from .target import Target


def without(doc: Doc, positions: Iterable[int]) -> Tuple[Doc, Dict[int, int]]:
    """A new doc without the tokens at `positions`, and old -> new token indices."""
    drop = set(positions)
    keep = [t for t in doc if t.i not in drop]
    index = {t.i: j for j, t in enumerate(keep)}
    sent_starts: Optional[List[Union[bool, int, None]]] = None
    if doc.has_annotation("SENT_START"):
        sent_starts = [bool(t.is_sent_start) or j == 0 for j, t in enumerate(keep)]
    new = Doc(doc.vocab, words=[t.text for t in keep],
              spaces=[bool(t.whitespace_) for t in keep], sent_starts=sent_starts)
    ents = []
    for ent in doc.ents:
        kept = [index[i] for i in range(ent.start, ent.end) if i in index]
        if kept:
            ents.append(Span(new, kept[0], kept[-1] + 1, label=ent.label_))
    new.ents = ents
    return new, index


def _chunks(items: List, size: int) -> Iterable[List]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def rescore(nlp: Language, doc: Doc, target: Target, removals: Sequence[Sequence[int]],
            batch_size: int = 16) -> numpy.ndarray:
    """The target's score on `doc` with each set of tokens in `removals` removed."""
    from .gradients import run

    protected = set(target.token_indices())
    variants = []
    for positions in removals:
        if protected & set(positions):
            raise ValueError("rescore: a removal includes the target's own tokens")
        if len(set(positions)) >= len(doc):
            raise ValueError("rescore: a removal would leave an empty doc")
        new, index = without(doc, positions)
        moved = target.remap(index)
        if moved is None:  # cannot happen: the target's tokens are protected
            raise ValueError("the target lost its tokens")
        variants.append((new, moved))
    values: List[float] = []
    for chunk in _chunks(variants, batch_size):
        out = run(nlp, target.component, [d for d, _ in chunk], [t for _, t in chunk])
        values += out.values.tolist()
    return numpy.asarray(values)


def occlusion(nlp: Language, doc: Doc, target: Target, score: float,
              window: Optional[int] = 64, batch_size: int = 16) -> Tuple[numpy.ndarray, int]:
    """score - score without token i, for every token within `window` tokens of the target
    (all tokens for a category, or with window None); NaN elsewhere and on the target and
    whitespace tokens. Returns the values and the number of forward passes."""
    values = numpy.full(len(doc), numpy.nan)
    protected = set(target.token_indices())
    if window is None or not protected:
        lo, hi = 0, len(doc)
    else:
        lo, hi = max(0, min(protected) - window), min(len(doc), max(protected) + 1 + window)
    positions = [i for i in range(lo, hi) if i not in protected and not doc[i].is_space]
    if len(doc) == 1:  # a category of a one-token doc: never score an empty doc
        positions = []
    if positions:
        scores = rescore(nlp, doc, target, [[i] for i in positions], batch_size)
        values[positions] = score - scores
    return values, len(positions)
