"""Offset maps between an original text and a prepared (edited) copy of it.

Preparation replaces a few stretches of the original (a de-identification tag, a
CRLF, a run of spaces). Annotations made on either side must land on the same
characters on the other side, so every edit is remembered as a segment and
offsets are mapped through them with a binary search (no per-character arrays:
notes of megabytes stay cheap).
"""
from bisect import bisect_right
from typing import List, NamedTuple, Optional, Sequence, Tuple


class Edit(NamedTuple):
    """Replace original[start:end] by `replacement`."""

    start: int
    end: int
    replacement: str


class OffsetMap:
    """Maps character offsets between `original` and the text built from `edits`.

    Offsets inside a replaced stretch snap outwards: a start maps to the start of
    the stretch and an end to its end, so a span never loses characters it covered.
    """

    def __init__(self, original_length: int, edits: Sequence[Edit]):
        # Parallel lists of segment starts on both sides; each segment is either an
        # unchanged copy (same length on both sides) or one replacement.
        self._orig_starts: List[int] = []
        self._prep_starts: List[int] = []
        self._orig_ends: List[int] = []
        self._prep_ends: List[int] = []
        self._copied: List[bool] = []
        orig = prep = 0
        last_end = 0
        for edit in sorted(edits):
            if edit.start < last_end or edit.end < edit.start:
                raise ValueError(
                    f"Overlapping or inverted edit {edit} (previous edit ended at {last_end})."
                )
            if edit.end > original_length:
                raise ValueError(f"Edit {edit} goes past the end of the text ({original_length}).")
            if edit.start > orig:
                self._add(orig, edit.start, prep, prep + edit.start - orig, True)
                prep += edit.start - orig
            self._add(edit.start, edit.end, prep, prep + len(edit.replacement), False)
            prep += len(edit.replacement)
            orig = last_end = edit.end
        if orig < original_length or not self._copied:
            self._add(orig, original_length, prep, prep + original_length - orig, True)
            prep += original_length - orig
        self.original_length = original_length
        self.prepared_length = prep
        self.n_edits = len(edits)

    def _add(self, o_start: int, o_end: int, p_start: int, p_end: int, copied: bool) -> None:
        self._orig_starts.append(o_start)
        self._orig_ends.append(o_end)
        self._prep_starts.append(p_start)
        self._prep_ends.append(p_end)
        self._copied.append(copied)

    @property
    def is_identity(self) -> bool:
        return self.n_edits == 0

    @staticmethod
    def _map(
        offset: int, side: str, src_starts, src_ends, dst_starts, dst_ends, copied, length
    ) -> int:
        if not 0 <= offset <= length:
            raise IndexError(f"Offset {offset} outside the text (length {length}).")
        if side not in ("start", "end"):
            raise ValueError(f"side must be 'start' or 'end', got {side!r}")
        # For an end offset on a boundary, the segment that ends there decides.
        key = offset - 1 if side == "end" and offset > 0 else offset
        i = max(bisect_right(src_starts, key) - 1, 0)
        if copied[i]:
            return dst_starts[i] + min(offset - src_starts[i], dst_ends[i] - dst_starts[i])
        if offset <= src_starts[i]:
            return dst_starts[i]
        if offset >= src_ends[i]:
            return dst_ends[i]
        return dst_starts[i] if side == "start" else dst_ends[i]

    def to_prepared(self, offset: int, side: str = "start") -> int:
        """Offset in the original text → offset in the prepared text."""
        return self._map(
            offset, side, self._orig_starts, self._orig_ends, self._prep_starts,
            self._prep_ends, self._copied, self.original_length,
        )

    def to_original(self, offset: int, side: str = "start") -> int:
        """Offset in the prepared text → offset in the original text."""
        return self._map(
            offset, side, self._prep_starts, self._prep_ends, self._orig_starts,
            self._orig_ends, self._copied, self.prepared_length,
        )

    def span_to_prepared(self, start: int, end: int) -> Tuple[int, int]:
        return self.to_prepared(start, "start"), self.to_prepared(end, "end")

    def span_to_original(self, start: int, end: int) -> Tuple[int, int]:
        return self.to_original(start, "start"), self.to_original(end, "end")

    def touches_edit(self, start: int, end: int) -> Optional[Edit]:
        """The first replaced stretch of the original overlapping [start, end), if any."""
        i = max(bisect_right(self._orig_starts, start) - 1, 0)
        while i < len(self._orig_starts) and self._orig_starts[i] < max(end, start + 1):
            if not self._copied[i] and self._orig_ends[i] > start:
                return Edit(self._orig_starts[i], self._orig_ends[i], "")
            i += 1
        return None
