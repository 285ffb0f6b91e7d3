"""Candidate entity pairs for relation extraction.

A candidate is an ordered (head, tail) pair of entity spans of one doc. The
generator is the single place that decides which pairs the relation model sees
and which pairs the all-pairs floor predicts, so the model and the floor are
always compared over the same pairs. It is computed once per batch by the
component and shared by predict, update and set_annotations.
"""
from bisect import bisect_left, bisect_right
from collections import Counter
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc, Span
from spacy.util import registry

TypePair = Tuple[str, str]
Pair = Tuple[Span, Span]


def token_gap(head: Span, tail: Span) -> int:
    """Tokens between two spans (negative where they overlap): what max_distance bounds."""
    return max(head.start, tail.start) - min(head.end, tail.end)


class CandidateGenerator:
    """Ordered entity pairs of a doc, limited by entity-type pairs, distance and sentences.

    source: "ents" for `doc.ents`, or the key of a span group (e.g. "entities" or a
        spancat's "sc"), which may hold nested or overlapping spans.
    max_distance: largest number of tokens between the two spans (0 = adjacent or
        overlapping); a negative value means no limit.
    sentence_window: 0 keeps pairs inside one sentence, n allows spans up to n
        sentences apart, a negative value ignores sentences.
    allowed_pairs: (head label, tail label) pairs per relation label. None means
        "learned from the training data" (the component fills it in at initialize).
    """

    def __init__(
        self,
        source: str = "ents",
        max_distance: int = 100,
        sentence_window: int = 0,
        allowed_pairs: Optional[Mapping[str, Sequence[Sequence[str]]]] = None,
    ):
        if not source:
            raise ValueError("relation_candidates: 'source' must be 'ents' or a span group key.")
        self.source = source
        self.max_distance = int(max_distance)
        self.sentence_window = int(sentence_window)
        self.allowed_pairs: Optional[Dict[str, List[TypePair]]] = None
        if allowed_pairs is not None:
            self.allowed_pairs = {}
            for label, pairs in allowed_pairs.items():
                checked: List[TypePair] = []
                for pair in pairs:
                    if len(pair) != 2 or not all(isinstance(p, str) for p in pair):
                        raise ValueError(
                            f"relation_candidates: allowed_pairs['{label}'] must list "
                            f"[head_label, tail_label] pairs, got {pair!r}."
                        )
                    checked.append((pair[0], pair[1]))
                self.allowed_pairs[label] = checked

    def entities(self, doc: Doc) -> List[Span]:
        """The entity spans candidates are drawn from, sorted and deduplicated."""
        if self.source == "ents":
            spans = list(doc.ents)
        else:
            spans = list(doc.spans[self.source]) if self.source in doc.spans else []
        seen: Dict[Tuple[int, int, str], Span] = {}
        for span in spans:
            seen.setdefault((span.start, span.end, span.label_), span)
        return [seen[k] for k in sorted(seen)]

    def type_pairs(self, learned: Optional[Iterable[TypePair]] = None) -> Optional[Set[TypePair]]:
        """The allowed (head label, tail label) pairs: the override, else `learned`."""
        if self.allowed_pairs is not None:
            return {pair for pairs in self.allowed_pairs.values() for pair in pairs}
        return None if learned is None else set(learned)

    def __call__(self, doc: Doc, type_pairs: Optional[Set[TypePair]] = None) -> List[Pair]:
        """Ordered pairs of `doc`; `type_pairs` None means every type pair."""
        return self.pairs(doc, self.entities(doc), type_pairs)

    def pairs(
        self, doc: Doc, ents: Sequence[Span], type_pairs: Optional[Set[TypePair]] = None
    ) -> List[Pair]:
        """Ordered pairs among `ents` (spans of `doc`) under the constraints."""
        if len(ents) < 2:
            return []
        tails_of: Optional[Dict[str, Set[str]]] = None
        if type_pairs is not None:
            # Index allowed tail labels by head label, and drop entities no allowed pair
            # uses: a noisy recognizer early in training can propose hundreds of spans.
            tails_of = {}
            for head_label, tail_label in type_pairs:
                tails_of.setdefault(head_label, set()).add(tail_label)
            used = set(tails_of) | {t for tails in tails_of.values() for t in tails}
            ents = [span for span in ents if span.label_ in used]
            if len(ents) < 2:
                return []
        sent_ids = self._sentence_ids(doc) if self.sentence_window >= 0 else None
        nearby = self._nearby(ents)
        pairs = []
        for i, head in enumerate(ents):
            allowed_tails = tails_of.get(head.label_) if tails_of is not None else None
            if tails_of is not None and not allowed_tails:
                continue
            for j in nearby(head):
                tail = ents[j]
                if i == j:
                    continue
                if allowed_tails is not None and tail.label_ not in allowed_tails:
                    continue
                if (head.start, head.end) == (tail.start, tail.end):
                    continue
                if self.max_distance >= 0 and token_gap(head, tail) > self.max_distance:
                    continue
                if sent_ids is not None:
                    if abs(sent_ids[head.start] - sent_ids[tail.start]) > self.sentence_window:
                        continue
                pairs.append((head, tail))
        return pairs

    def _nearby(self, ents: Sequence[Span]):
        """Indices of the entities that may lie within max_distance of a head, in input order.

        Entities sorted by start are cut to a window with bisect, so long notes with
        many entities cost about n * k checks instead of n * n.
        """
        if self.max_distance < 0:
            everything = list(range(len(ents)))
            return lambda head: everything
        order = sorted(range(len(ents)), key=lambda k: ents[k].start)
        starts = [ents[k].start for k in order]
        widest = max(span.end - span.start for span in ents)

        def within(head: Span) -> List[int]:
            lo = bisect_left(starts, head.start - self.max_distance - widest)
            hi = bisect_right(starts, head.end + self.max_distance)
            return sorted(order[lo:hi])

        return within

    @staticmethod
    def _sentence_ids(doc: Doc) -> List[int]:
        """Sentence index of each token; one sentence when the doc has no boundaries."""
        if not doc.has_annotation("SENT_START"):
            return [0] * len(doc)
        ids, current = [], -1
        for token in doc:
            if token.is_sent_start or current < 0:
                current += 1
            ids.append(current)
        return ids

    def to_cfg(self) -> Dict:
        return {
            "source": self.source,
            "max_distance": self.max_distance,
            "sentence_window": self.sentence_window,
            "allowed_pairs": None
            if self.allowed_pairs is None
            else {k: [list(p) for p in v] for k, v in self.allowed_pairs.items()},
        }


def learn_type_pairs(triples: Iterable[Tuple[str, str, str]]) -> List[List]:
    """Count (head label, tail label, relation label) triples seen in gold data.

    Returned as JSON-safe rows [head_label, tail_label, relation_label, count],
    most frequent first, so they can live in the component's cfg.
    """
    counts = Counter(triples)
    return [[h, t, r, n] for (h, t, r), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def most_frequent_labels(rows: Sequence[Sequence]) -> Dict[TypePair, str]:
    """For each entity-type pair the most frequent relation label (the floor's guess)."""
    best: Dict[TypePair, Tuple[int, str]] = {}
    for h, t, r, n in rows:
        current = best.get((h, t))
        if current is None or n > current[0] or (n == current[0] and r < current[1]):
            best[(h, t)] = (int(n), r)
    return {k: v[1] for k, v in best.items()}


@registry.misc("spacy-clinicalbert.relation_candidates.v1")
def relation_candidates_v1(
    source: str = "ents",
    max_distance: int = 100,
    sentence_window: int = 0,
    allowed_pairs: Optional[Dict[str, List[List[str]]]] = None,
) -> CandidateGenerator:
    """Entity-pair candidates for `clinical_relations` and its scorer's floor."""
    return CandidateGenerator(
        source=source,
        max_distance=max_distance,
        sentence_window=sentence_window,
        allowed_pairs=allowed_pairs,
    )
