"""The relation data model: `doc._.relations`, the one owner of its `user_data` key.

Relations are stored JSON-safe in `doc.user_data` as token offsets and labels of
both entities plus the relation label and score, so they survive `DocBin(
store_user_data=True)`, `doc.to_bytes()` and `nlp.pipe(n_process=2)`, and nested
or overlapping entities keep their identity (full offsets, not start tokens).
Everything else uses the functions here; nothing touches the key directly.
"""
from typing import Dict, Iterable, List, NamedTuple, Tuple

from spacy.tokens import Doc, Span

USER_DATA_KEY = "spacy_clinicalbert.relations"

# (head_start, head_end, head_label, tail_start, tail_end, tail_label, label, score)
StoredRelation = Tuple[int, int, str, int, int, str, str, float]
# What identifies a relation for scoring: both entities and the label, no score.
RelationKey = Tuple[int, int, str, int, int, str, str]


class Relation(NamedTuple):
    """A directed, labelled relation between two entity spans of one doc."""

    head: Span
    tail: Span
    label: str
    score: float = 1.0

    @property
    def key(self) -> RelationKey:
        return relation_key(self)


def relation_key(rel: Relation) -> RelationKey:
    h, t = rel.head, rel.tail
    return (h.start, h.end, h.label_, t.start, t.end, t.label_, rel.label)


def _validate(doc: Doc, rel: Relation) -> StoredRelation:
    head, tail, label, score = rel
    for role, span in (("head", head), ("tail", tail)):
        if not isinstance(span, Span):
            raise TypeError(f"Relation {role} must be a Span, got {type(span).__name__}.")
        if span.doc is not doc:
            raise ValueError(
                f"Relation {role} '{span.text}' belongs to another Doc; make the span on this "
                f"doc first, e.g. doc[{span.start}:{span.end}]."
            )
        if span.start >= span.end:
            raise ValueError(f"Relation {role} is an empty span ({span.start}:{span.end}).")
    if not isinstance(label, str) or not label:
        raise ValueError(f"Relation label must be a non-empty string, got {label!r}.")
    score = float(score)
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"Relation score must lie in [0, 1], got {score}.")
    return (head.start, head.end, head.label_, tail.start, tail.end, tail.label_, label, score)


def get_relations(doc: Doc) -> List[Relation]:
    """The relations of `doc` as Relation objects with fresh spans."""
    stored = doc.user_data.get(USER_DATA_KEY) or []
    return [
        Relation(Span(doc, hs, he, label=hl), Span(doc, ts, te, label=tl), label, score)
        for hs, he, hl, ts, te, tl, label, score in stored
    ]


def set_relations(doc: Doc, relations: Iterable[Relation]) -> None:
    """Replace the relations of `doc`. Duplicates (same key) keep the highest score."""
    best: Dict[Tuple, StoredRelation] = {}
    for rel in relations:
        rel = Relation(*rel)
        stored = _validate(doc, rel)
        key = stored[:7]
        if key not in best or best[key][7] < stored[7]:
            best[key] = stored
    doc.user_data[USER_DATA_KEY] = [list(item) for item in best.values()]


def add_relation(doc: Doc, head: Span, tail: Span, label: str, score: float = 1.0) -> None:
    """Add one relation to `doc` (kept once per head, tail and label)."""
    set_relations(doc, get_relations(doc) + [Relation(head, tail, label, score)])


def clear_relations(doc: Doc) -> None:
    doc.user_data.pop(USER_DATA_KEY, None)


def has_relations(doc: Doc) -> bool:
    return bool(doc.user_data.get(USER_DATA_KEY))


def install_extensions() -> None:
    """Register `Doc._.relations` once (getter and setter over user_data)."""
    if not Doc.has_extension("relations"):
        Doc.set_extension("relations", getter=get_relations, setter=set_relations)
