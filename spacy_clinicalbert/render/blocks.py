"""A note cut into blocks: sections (medspaCy's `doc._.sections`), each cut further at
sentence boundaries into pieces of at most `max_tokens` tokens.

A block is what one relation arc may span: arcs stay inside their block, so on a long
note they never cross the page; a relation between two blocks is listed as a link.
A block never splits a sentence unless that sentence alone is longer than `max_tokens`
(or the doc has no sentence boundaries): then it is cut at the last line break within
the limit, else at the limit.
"""
from dataclasses import dataclass
from typing import List, Optional, Tuple

from spacy.tokens import Doc

from ..rules.table import section_index


@dataclass(frozen=True)
class Block:
    start: int  # first token
    end: int  # one past the last token
    section: Optional[str]  # the medspaCy section category it lies in, if any
    opens_section: bool  # True for the first block of a section: it shows the title


def section_ranges(doc: Doc) -> List[Tuple[int, int, Optional[str]]]:
    """(start, end, category) covering the whole doc in order; text outside any section
    gets category None."""
    ranges: List[Tuple[int, int, Optional[str]]] = []
    cursor = 0
    for start, end, category in sorted(section_index(doc)):
        start, end = max(start, cursor), min(end, len(doc))
        if start >= end:
            continue
        if start > cursor:
            ranges.append((cursor, start, None))
        ranges.append((start, end, category))
        cursor = end
    if cursor < len(doc):
        ranges.append((cursor, len(doc), None))
    return ranges


def _sentence_starts(doc: Doc, start: int, end: int) -> List[int]:
    if not doc.has_annotation("SENT_START"):
        return [start]
    starts = [start] + [i for i in range(start + 1, end) if doc[i].is_sent_start]
    return starts


def _hard_cuts(doc: Doc, start: int, end: int, max_tokens: int) -> List[int]:
    """Cut points in [start, end) for a stretch without usable sentence boundaries."""
    cuts = [start]
    while end - cuts[-1] > max_tokens:
        lo, hi = cuts[-1] + 1, cuts[-1] + max_tokens
        breaks = [i for i in range(lo, hi + 1) if "\n" in doc[i - 1].whitespace_ or
                  doc[i - 1].is_space and "\n" in doc[i - 1].text]
        cuts.append(breaks[-1] if breaks else hi)
    return cuts


def note_blocks(doc: Doc, max_tokens: int = 120) -> List[Block]:
    """The blocks of `doc`, in order, covering every token once."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    blocks: List[Block] = []
    for sec_start, sec_end, category in section_ranges(doc):
        starts = _sentence_starts(doc, sec_start, sec_end) + [sec_end]
        # Split over-long sentences first, then pack whole sentences up to max_tokens.
        pieces: List[Tuple[int, int]] = []
        for a, b in zip(starts, starts[1:], strict=False):
            cuts = _hard_cuts(doc, a, b, max_tokens) + [b]
            pieces += list(zip(cuts, cuts[1:], strict=False))
        first = True
        cur_start, cur_end = pieces[0][0], pieces[0][0]
        for a, b in pieces:
            if cur_end > cur_start and b - cur_start > max_tokens:
                blocks.append(Block(cur_start, cur_end, category, first))
                first = False
                cur_start = a
            cur_end = b
        blocks.append(Block(cur_start, cur_end, category, first))
    return blocks


def block_of(blocks: List[Block], token: int) -> int:
    """Index of the block holding `token` (blocks are in order and cover the doc)."""
    lo, hi = 0, len(blocks) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if blocks[mid].start <= token:
            lo = mid
        else:
            hi = mid - 1
    return lo
