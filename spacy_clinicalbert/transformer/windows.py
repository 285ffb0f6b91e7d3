"""Token windows that always fit the encoder's wordpiece limit.

spacy-transformers' `strided_spans` counts spaCy tokens. Clinical text full of
numbers, codes and drug names can turn 128 tokens into more than 512 wordpieces,
and the overflow is then cut off silently. These windows are strided the same way
but checked against the tokenizer and split until every window fits.

Registered as the span getter `spacy-clinicalbert.wordpiece_windows.v1`, so a config can
swap it for spacy-transformers' `strided_spans.v1` (or back) under
`ClinicalBertTransformer.v2`'s `get_spans`.
"""
from typing import Callable, Dict, List, Optional

from spacy.attrs import ORTH
from spacy.tokens import Doc, Span
from spacy_transformers import registry

WORDPIECE_WINDOWS = "spacy-clinicalbert.wordpiece_windows.v1"


# spacy-transformers adds `span_getters` to spaCy's registry class at import time.
@registry.span_getters(WORDPIECE_WINDOWS)  # type: ignore[attr-defined]
def wordpiece_windows_v1(
    window: int = 96, stride: int = 72, max_wordpieces: int = 512
) -> "WordpieceWindows":
    """Windows of `window` spaCy tokens every `stride` tokens, split until each fits
    `max_wordpieces` (special tokens included; also capped by the tokenizer's
    `model_max_length` once the encoder that uses them has a tokenizer)."""
    return WordpieceWindows(window, stride, max_wordpieces)


class WordpieceWindows:
    """Strided token windows, each split further until it fits `max_wordpieces`.

    The tokenizer is looked up lazily through `get_tokenizer`, because it only
    exists once the transformer is initialized or loaded; the architecture that
    takes these windows sets it (`bind_tokenizer`). Without a tokenizer the
    character count bounds the wordpiece count (a wordpiece spans at least one
    character), which is safe but makes windows shorter.
    """

    def __init__(
        self,
        window: int,
        stride: int,
        max_wordpieces: int,
        get_tokenizer: Optional[Callable[[], object]] = None,
        cache_size: int = 200_000,
    ):
        if window < 1 or stride < 1 or stride > window:
            raise ValueError(
                f"Windows need 1 <= stride <= window, got window={window}, stride={stride}."
            )
        if max_wordpieces < 1:
            raise ValueError(f"max_wordpieces must be positive, got {max_wordpieces}.")
        self.window = window
        self.stride = stride
        self.max_wordpieces = max_wordpieces
        self.get_tokenizer = get_tokenizer
        self.cache_size = cache_size
        self._counts: Dict[int, int] = {}  # wordpieces per token text, keyed by its orth id
        self.oversize_tokens = 0  # single tokens longer than the limit on their own

    def bind_tokenizer(self, get_tokenizer: Callable[[], object]) -> None:
        """Count wordpieces with the tokenizer `get_tokenizer()` returns (None: not yet)."""
        self.get_tokenizer = get_tokenizer

    def __call__(self, docs: List[Doc]) -> List[List[Span]]:
        tokenizer = self.get_tokenizer() if self.get_tokenizer is not None else None
        budget = self._budget(tokenizer)
        self._count_new_tokens(docs, tokenizer)
        return [self._doc_windows(doc, tokenizer, budget) for doc in docs]

    def _budget(self, tokenizer) -> int:
        special = tokenizer.num_special_tokens_to_add(pair=False) if tokenizer is not None else 2
        limit = self.max_wordpieces
        if tokenizer is not None and getattr(tokenizer, "model_max_length", None):
            limit = min(limit, int(tokenizer.model_max_length))
        return max(1, limit - special)

    def _count_new_tokens(self, docs: List[Doc], tokenizer) -> None:
        if len(self._counts) > self.cache_size:
            self._counts.clear()
        new = {orth for doc in docs for orth in doc.to_array(ORTH).tolist()} - self._counts.keys()
        if not new:
            return
        orths = sorted(new)
        strings = docs[0].vocab.strings
        texts = [strings[orth] for orth in orths]
        if tokenizer is None:
            self._counts.update(
                (orth, len(text.strip())) for orth, text in zip(orths, texts, strict=True)
            )
            return
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
        self._counts.update((orth, len(ids)) for orth, ids in zip(orths, encoded, strict=True))

    def _doc_windows(self, doc: Doc, tokenizer, budget: int) -> List[Span]:
        if len(doc) == 0:
            return []  # as strided_spans: an empty doc has no window
        counts = [self._counts[orth] for orth in doc.to_array(ORTH).tolist()]
        spans: List[Span] = []
        start = 0
        while True:
            end = min(start + self.window, len(doc))
            spans.extend(self._fit(doc, start, end, counts, tokenizer, budget))
            if end >= len(doc):
                break
            start += self.stride
        return spans

    def _fit(self, doc, start, end, counts, tokenizer, budget) -> List[Span]:
        """Split doc[start:end] into consecutive spans that fit the budget."""
        estimate = sum(counts[start:end])
        if end - start <= 1:
            if estimate > budget:
                self.oversize_tokens += 1
            return [doc[start:end]]
        if estimate <= budget and (tokenizer is None or estimate <= 0.9 * budget):
            return [doc[start:end]]
        if estimate <= budget and self._exact(doc[start:end], tokenizer) <= budget:
            return [doc[start:end]]
        # Too long (or too close to call): split where the estimate halves.
        half, running = start + 1, 0
        for i in range(start, end - 1):
            running += counts[i]
            if running * 2 >= estimate:
                half = i + 1
                break
        else:
            half = (start + end) // 2
        return self._fit(doc, start, half, counts, tokenizer, budget) + self._fit(
            doc, half, end, counts, tokenizer, budget
        )

    @staticmethod
    def _exact(span: Span, tokenizer) -> int:
        return len(tokenizer(span.text, add_special_tokens=False)["input_ids"])
