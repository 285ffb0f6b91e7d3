"""The candidate pairs of one batch, computed once and shared by every step that needs them."""
from typing import Dict, List, Sequence, Union

import numpy

from .candidates import Pair
from .relation_model import PairBatch


class PairSet:
    """Candidate pairs of a batch: the spans (per doc) and the model's flat arrays, row
    for row in the same order (doc by doc, pair by pair)."""

    def __init__(self, spans: List[List[Pair]], batch: PairBatch):
        self.spans = spans
        self.batch = batch

    def __len__(self) -> int:
        return len(self.batch)

    @classmethod
    def from_spans(cls, spans: List[List[Pair]], entity_ids: Dict[str, int]) -> "PairSet":
        """Pairs per doc to a batch; an entity label the model never saw gets id 0."""
        rows = [
            (i, head.start, head.end, tail.start, tail.end,
             entity_ids.get(head.label_, 0), entity_ids.get(tail.label_, 0))
            for i, doc_pairs in enumerate(spans)
            for head, tail in doc_pairs
        ]
        return cls(spans, PairBatch.from_rows(rows))

    def subset(self, keep: Union[Sequence[int], numpy.ndarray]) -> "PairSet":
        """The pairs at the flat (batch-wide) row indices `keep`, order kept."""
        index = numpy.sort(numpy.asarray(keep, dtype="int64"))
        keep_set = set(index.tolist())
        spans, flat = [], 0
        for doc_pairs in self.spans:
            kept = []
            for pair in doc_pairs:
                if flat in keep_set:
                    kept.append(pair)
                flat += 1
            spans.append(kept)
        return PairSet(spans, self.batch.subset(index))
