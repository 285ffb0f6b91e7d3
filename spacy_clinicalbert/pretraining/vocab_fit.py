"""How well the base tokenizer's vocabulary fits the corpus.

A general-domain vocabulary cuts clinical words (drug names, abbreviations) into
many wordpieces or maps them to [UNK]; both weaken the model. The figures here tell
a user whether continued pretraining with the base vocabulary is sensible.
"""
from collections import Counter
from typing import Dict, Iterable, Optional

MAX_TRACKED_UNKNOWN = 100_000


class VocabularyFit:
    """Accumulates counts over tokenizers' `Encoding` objects (fast tokenizers)."""

    def __init__(self, unk_token_id: Optional[int]):
        self.unk_token_id = unk_token_id
        self.words = 0
        self.wordpieces = 0
        self.unk_wordpieces = 0
        self.split_words = 0
        self.unknown: Counter = Counter()

    def add(self, encoding, text: str) -> None:
        ids = encoding.ids
        word_ids = encoding.word_ids
        self.wordpieces += len(ids)
        per_word: Counter = Counter(w for w in word_ids if w is not None)
        self.words += len(per_word)
        self.split_words += sum(1 for n in per_word.values() if n > 1)
        if self.unk_token_id is None:
            return
        for position, token_id in enumerate(ids):
            if token_id == self.unk_token_id:
                self.unk_wordpieces += 1
                start, end = encoding.offsets[position]
                word = text[start:end]
                if word in self.unknown or len(self.unknown) < MAX_TRACKED_UNKNOWN:
                    self.unknown[word] += 1

    def add_many(self, encodings: Iterable, texts: Iterable[str]) -> None:
        for encoding, text in zip(encodings, texts, strict=False):
            self.add(encoding, text)

    def to_dict(self, top: int = 20) -> Dict[str, object]:
        words = max(self.words, 1)
        pieces = max(self.wordpieces, 1)
        return {
            "words": self.words,
            "wordpieces": self.wordpieces,
            "wordpieces_per_word": round(self.wordpieces / words, 4),
            "unk_wordpieces": self.unk_wordpieces,
            "unk_share": round(self.unk_wordpieces / pieces, 6),
            "words_split_share": round(self.split_words / words, 4),
            "top_unknown_words": [[w, n] for w, n in self.unknown.most_common(top)],
            "definition": (
                "words are the base tokenizer's pre-tokenized words (punctuation marks count "
                "as words); unk_share is the share of wordpieces that are the unknown token"
            ),
        }
