"""What an attribution explains: one entity, one relation or one category of a doc.

A target is plain offsets and labels (not Span objects), so it can be moved onto a copy
of the doc with some tokens removed (occlusion, deletion curves) with `remap`.
"""
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Tuple, Union

from spacy.tokens import Doc, Span

from ..relations.data import Relation, get_relations


@dataclass(frozen=True)
class Target:
    kind: str  # "entity", "relation" or "category"
    label: str  # entity label, relation label or category
    component: str  # the pipe whose score is explained
    start: int = -1  # entity (or relation head) tokens [start, end)
    end: int = -1
    tail_start: int = -1  # relation tail tokens
    tail_end: int = -1
    head_label: str = ""  # relation: the entity labels of head and tail
    tail_label: str = ""
    text: str = ""  # what it is, for messages and pages

    def token_indices(self) -> List[int]:
        if self.kind == "entity":
            return list(range(self.start, self.end))
        if self.kind == "relation":
            return list(range(self.start, self.end)) + list(range(self.tail_start, self.tail_end))
        return []

    def describe(self) -> str:
        if self.kind == "category":
            return f"category {self.label} ({self.component})"
        if self.kind == "entity":
            return f"entity '{self.text}' as {self.label} ({self.component})"
        return f"relation {self.label}: {self.text} ({self.component})"

    def remap(self, index: Dict[int, int]) -> Optional["Target"]:
        """The target on a doc whose kept tokens moved (old -> new index); None when one of
        its spans lost all its tokens."""
        if self.kind == "category":
            return self
        spans = [_remap_range(self.start, self.end, index)]
        if self.kind == "relation":
            spans.append(_remap_range(self.tail_start, self.tail_end, index))
        if any(s is None for s in spans):
            return None
        (s, e) = spans[0]  # type: ignore[misc]
        if self.kind == "entity":
            return replace(self, start=s, end=e)
        (ts, te) = spans[1]  # type: ignore[misc]
        return replace(self, start=s, end=e, tail_start=ts, tail_end=te)


def _remap_range(start: int, end: int, index: Dict[int, int]) -> Optional[Tuple[int, int]]:
    kept = [index[i] for i in range(start, end) if i in index]
    return (kept[0], kept[-1] + 1) if kept else None


def entity_target(span: Span, component: str) -> Target:
    return Target("entity", span.label_, component, span.start, span.end, text=span.text)


def relation_target(rel: Relation, component: str) -> Target:
    return Target("relation", rel.label, component, rel.head.start, rel.head.end,
                  rel.tail.start, rel.tail.end, rel.head.label_, rel.tail.label_,
                  text=f"{rel.head.text} -> {rel.tail.text}")


def category_target(label: str, component: str) -> Target:
    return Target("category", label, component)


TargetLike = Union[Target, Span, Relation, str]


def parse_target(doc: Doc, spec: str) -> Tuple[str, str]:
    """CLI target `cat:LABEL`, `ent:TEXT` or `rel:HEAD->TAIL` to (kind, value)."""
    kind, sep, value = spec.partition(":")
    kinds = {"cat": "category", "category": "category", "ent": "entity", "entity": "entity",
             "rel": "relation", "relation": "relation"}
    if not sep or kind not in kinds or not value:
        raise ValueError(f"target '{spec}': write cat:LABEL, ent:TEXT or rel:HEAD->TAIL")
    return kinds[kind], value


def find_target(doc: Doc, spec: str) -> Union[Span, Relation, str]:
    """The doc's entity, relation or category that a CLI target names (case-insensitive)."""
    kind, value = parse_target(doc, spec)
    if kind == "category":
        labels = {k.lower(): k for k in doc.cats}
        if value.lower() not in labels:
            raise ValueError(f"no category '{value}' in the doc; it has {sorted(doc.cats)}")
        return labels[value.lower()]
    if kind == "entity":
        for ent in doc.ents:
            if ent.text.lower() == value.lower():
                return ent
        raise ValueError(f"no entity '{value}' in the doc; it has "
                         f"{[e.text for e in doc.ents]}")
    head, arrow, tail = value.partition("->")
    for rel in get_relations(doc):
        if (rel.head.text.lower() == head.strip().lower()
                and (not arrow or rel.tail.text.lower() == tail.strip().lower())):
            return rel
    raise ValueError(f"no relation '{value}' in the doc; it has "
                     f"{[f'{r.head.text}->{r.tail.text}' for r in get_relations(doc)]}")
