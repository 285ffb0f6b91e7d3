"""Turn tokenized sentences of one note into pretraining sequences.

Masked-LM: whole sentences are packed into sequences of at most `max_length`
wordpieces ([CLS] ... [SEP]); a sentence longer than that is cut. Sequences never
cross a note boundary.

Next-sentence prediction (the BERT recipe): a run of sentences is cut in two; half of
the time segment B is the real continuation (label 0), otherwise it is taken from
another note (label 1) and the unused sentences are put back. Random segments come
from a bounded reservoir of earlier notes, so memory stays flat on any corpus size,
and each note is paired one note late so that a partner note always exists.
"""
import random
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

Ids = List[int]


@dataclass
class PretrainingSequence:
    """One pretraining sequence with special tokens; `len_a` covers [CLS] A [SEP]."""

    input_ids: Ids
    len_a: int
    next_sentence_label: int = -1


def pack_mlm(
    sentences: Sequence[Ids], max_length: int, cls_id: int, sep_id: int
) -> Iterator[PretrainingSequence]:
    """Pack consecutive sentences into [CLS] ... [SEP] sequences of <= max_length."""
    body = max_length - 2
    if body < 1:
        raise ValueError(f"max_length must be at least 3, got {max_length}")
    current: Ids = []

    def emit(ids: Ids) -> PretrainingSequence:
        full = [cls_id] + ids + [sep_id]
        return PretrainingSequence(full, len(full))

    for sentence in sentences:
        if len(current) + len(sentence) > body and current:
            yield emit(current)
            current = []
        while len(sentence) > body:
            yield emit(list(sentence[:body]))
            sentence = sentence[body:]
        current.extend(sentence)
    if current:
        yield emit(current)


class NspPairBuilder:
    """Builds sentence-pair sequences for next-sentence prediction, one note at a time."""

    def __init__(
        self,
        max_length: int,
        cls_id: int,
        sep_id: int,
        *,
        random_next_probability: float = 0.5,
        seed: int = 0,
        pool_size: int = 1000,
    ):
        self.target = max_length - 3
        if self.target < 2:
            raise ValueError(f"max_length must be at least 5 for sentence pairs, got {max_length}")
        self.unit_max = max(1, self.target // 2)
        self.cls_id = cls_id
        self.sep_id = sep_id
        self.random_next_probability = random_next_probability
        self.rng = random.Random(seed)
        self.pool_size = pool_size
        self.pool: List[Tuple[int, List[Ids]]] = []
        self.notes_seen = 0
        self.pending: Optional[Tuple[int, List[Ids]]] = None
        self.pairs_real = 0
        self.pairs_random = 0
        self.units_without_partner = 0

    def _units(self, sentences: Sequence[Ids]) -> List[Ids]:
        """Sentences cut to at most half a sequence, so a full run always has >= 2 units."""
        units: List[Ids] = []
        for sentence in sentences:
            for start in range(0, len(sentence), self.unit_max):
                piece = list(sentence[start : start + self.unit_max])
                if piece:
                    units.append(piece)
        return units

    def _remember(self, note: Tuple[int, List[Ids]]) -> None:
        # Reservoir sampling: every note seen so far is equally likely to be in the pool.
        self.notes_seen += 1
        if len(self.pool) < self.pool_size:
            self.pool.append(note)
        else:
            slot = self.rng.randrange(self.notes_seen)
            if slot < self.pool_size:
                self.pool[slot] = note

    def _partner(self, note_id: int) -> Optional[List[Ids]]:
        others = [units for nid, units in self.pool if nid != note_id]
        if not others:
            return None
        return others[self.rng.randrange(len(others))]

    def add_note(self, sentences: Sequence[Ids]) -> Iterator[PretrainingSequence]:
        units = self._units(sentences)
        if not units:
            return
        note = (self.notes_seen, units)
        self._remember(note)
        if self.pending is not None:
            yield from self._pairs(*self.pending)
        self.pending = note

    def finish(self) -> Iterator[PretrainingSequence]:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            yield from self._pairs(*pending)

    def _truncate(self, a: Ids, b: Ids) -> None:
        while len(a) + len(b) > self.target:
            longer = a if len(a) > len(b) else b
            # Trim from either end, as BERT does, so the model sees no fixed cut position.
            if self.rng.random() < 0.5:
                del longer[0]
            else:
                longer.pop()

    def _pairs(self, note_id: int, units: List[Ids]) -> Iterator[PretrainingSequence]:
        chunk: List[Ids] = []
        length = 0
        i = 0
        while i < len(units):
            chunk.append(units[i])
            length += len(units[i])
            if i == len(units) - 1 or length >= self.target:
                a_end = 1 if len(chunk) == 1 else self.rng.randint(1, len(chunk) - 1)
                a = [t for unit in chunk[:a_end] for t in unit]
                use_random = len(chunk) == 1 or self.rng.random() < self.random_next_probability
                partner = self._partner(note_id) if use_random else None
                if use_random and partner is None:
                    if len(chunk) == 1:
                        self.units_without_partner += 1
                        chunk, length = [], 0
                        i += 1
                        continue
                    use_random = False
                if use_random:
                    assert partner is not None  # use_random only stays on with a partner
                    want = max(1, self.target - len(a))
                    b: Ids = []
                    start = self.rng.randrange(len(partner))
                    for unit in partner[start:]:
                        b.extend(unit)
                        if len(b) >= want:
                            break
                    i -= len(chunk) - a_end  # the unused sentences start the next pair
                    label = 1
                    self.pairs_random += 1
                else:
                    b = [t for unit in chunk[a_end:] for t in unit]
                    label = 0
                    self.pairs_real += 1
                self._truncate(a, b)
                ids = [self.cls_id] + a + [self.sep_id] + b + [self.sep_id]
                yield PretrainingSequence(ids, len(a) + 2, label)
                chunk, length = [], 0
            i += 1

    def stats(self) -> dict:
        return {
            "pairs_real_next": self.pairs_real,
            "pairs_random_next": self.pairs_random,
            "single_segments_without_partner_skipped": self.units_without_partner,
        }
