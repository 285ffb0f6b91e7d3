"""How many gold relations the candidate generator can reach at all.

A relation whose (head, tail) is never a candidate pair cannot be learnt nor found, so
the share reached bounds end-to-end recall. `clinical_relations` logs it at initialize
(over the first training examples); check-data can count the same over a split.
"""
import logging
from dataclasses import dataclass
from typing import Iterable, List, Optional, Set, Tuple

from spacy.tokens import Doc

from .candidates import CandidateGenerator, TypePair
from .data import Relation, get_relations

logger = logging.getLogger("spacy_clinicalbert.relations")
SpanKey = Tuple[int, int, str]


@dataclass
class Reachability:
    """Gold relations seen and reached as candidate pairs, over `docs` docs."""

    reachable: int = 0
    gold: int = 0
    docs: int = 0

    @property
    def share(self) -> float:
        return self.reachable / self.gold if self.gold else 0.0


def _key(span) -> SpanKey:
    return (span.start, span.end, span.label_)


def split_reachable(
    doc: Doc,
    candidates: CandidateGenerator,
    type_pairs: Optional[Set[TypePair]],
    symmetric_labels: Iterable[str] = (),
) -> Tuple[List[Relation], List[Relation]]:
    """The doc's gold relations the generator produces as a pair, and those it does not.
    A relation with a symmetric label also counts as reached by the reversed pair."""
    relations = get_relations(doc)
    if not relations:
        return [], []
    symmetric = set(symmetric_labels)
    produced = {(_key(h), _key(t)) for h, t in candidates(doc, type_pairs)}
    reached: List[Relation] = []
    missed: List[Relation] = []
    for rel in relations:
        pair = (_key(rel.head), _key(rel.tail))
        hit = pair in produced or (rel.label in symmetric and pair[::-1] in produced)
        (reached if hit else missed).append(rel)
    return reached, missed


def count_reachable(
    docs: Iterable[Doc],
    candidates: CandidateGenerator,
    type_pairs: Optional[Set[TypePair]],
    symmetric_labels: Iterable[str] = (),
) -> Reachability:
    """Reachability summed over `docs` (gold docs: their entities and relations)."""
    symmetric = tuple(symmetric_labels)
    result = Reachability()
    for doc in docs:
        reached, missed = split_reachable(doc, candidates, type_pairs, symmetric)
        result.docs += 1
        result.reachable += len(reached)
        result.gold += len(reached) + len(missed)
    return result


def log_reachability(name: str, reach: Reachability, source: str) -> None:
    """One info line (shown by `spacy train`'s initialize) when there are gold relations."""
    if reach.gold:
        logger.info(
            "%s: %d of %d gold relations (%.1f%%) are reachable as candidates from "
            "source '%s' in the first %d training examples.",
            name, reach.reachable, reach.gold, 100.0 * reach.share, source, reach.docs,
        )
