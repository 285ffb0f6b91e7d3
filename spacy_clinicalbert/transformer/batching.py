"""Group docs for the encoder by their total length, not their padded length.

spacy-transformers sorts a `nlp.pipe` batch by doc length and splits it so that
docs x longest doc <= `max_batch_items`: padding whole docs to the longest one
was what the encoder paid for. Our encoder sees windows, not docs, so a call
costs the sum of its docs' tokens whatever their spread; and every split sorts
its windows apart, which leaves more padded chunk ends. On 24 MTSamples notes
(14,961 tokens) the stock rule made two calls where one fits in 16,384 tokens.
"""
from typing import Iterator, List, Sequence

from spacy.tokens import Doc


def batch_by_total_tokens(docs: Sequence[Doc], max_tokens: int) -> Iterator[List[int]]:
    """Indices of consecutive docs whose token counts sum to at most `max_tokens`.

    A doc longer than `max_tokens` gets a call of its own; order is kept.
    """
    if max_tokens <= 0:
        raise ValueError(f"max_batch_items must be > 0, got {max_tokens}.")
    current: List[int] = []
    total = 0
    for i, doc in enumerate(docs):
        if current and total + len(doc) > max_tokens:
            yield current
            current, total = [], 0
        current.append(i)
        total += len(doc)
    if current:
        yield current
