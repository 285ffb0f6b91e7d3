"""Gold spans on the predicted tokens: the one mapping the relation code uses.

Training candidates and the gold-entity augmenter both need the reference's entities
on the predicted doc. Both use spaCy's own `Example` alignment (the rule `ner` uses for
its gold entities), so a span is mapped, or skipped, the same way everywhere.
"""
from typing import Iterable, List

from spacy.tokens import Span
from spacy.training import Example


def align_gold_spans(example: Example, spans: Iterable[Span]) -> List[Span]:
    """`spans` of the reference doc as spans of the predicted doc, in input order.

    A span whose aligned tokens do not spell the same text (the tokenizations cut it
    differently) is left out; callers count the difference. Overlapping and nested
    spans are kept: span groups hold them.
    """
    spans = list(spans)
    if not spans:
        return []
    if example.predicted is example.reference:
        return spans
    return list(example.get_aligned_spans_y2x(spans, allow_overlap=True))
