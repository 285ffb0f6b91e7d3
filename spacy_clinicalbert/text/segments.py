"""Note-level helpers: paragraphs, length-bounded chunks and de-duplication keys.

Pretraining cuts notes into examples and the converter groups duplicate notes
for splits; both need the same notion of "the same text" and of where a note
may be cut, so they live here. All cuts are (start, end) character offsets into
the text given, never copies with shifted offsets.
"""
import hashlib
import re
from typing import Iterator, List, Optional, Tuple

_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n")
_SPACE = re.compile(r"\s+")


def text_key(text: str) -> str:
    """A key equal for texts that differ only in whitespace (for de-duplication and grouping)."""
    norm = _SPACE.sub(" ", text).strip()
    return hashlib.sha1(norm.encode("utf8")).hexdigest()


def iter_paragraphs(text: str) -> Iterator[Tuple[int, int]]:
    """(start, end) of the blocks between blank lines, without their outer whitespace."""
    pos = 0
    for match in list(_BLANK_LINES.finditer(text)) + [None]:
        end = match.start() if match else len(text)
        block = text[pos:end]
        stripped = block.strip()
        if stripped:
            lead = len(block) - len(block.lstrip())
            yield pos + lead, pos + lead + len(stripped)
        if match:
            pos = match.end()


def _pieces(text: str, start: int, end: int) -> List[Tuple[int, int]]:
    """Cut [start, end) after sentence punctuation and at line breaks."""
    out = []
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.start() > pos:
            out.append((pos, match.start()))
        pos = match.end()
    if pos < end:
        out.append((pos, end))
    return out


def _hard_cut(text: str, start: int, end: int, max_chars: int) -> List[Tuple[int, int]]:
    """Cut a piece longer than max_chars at the last space before the limit (or at the limit)."""
    out = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars + 1)
        cut = cut if cut > start else start + max_chars
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        out.append((start, end))
    return out


def chunk_text(text: str, max_chars: int) -> List[Tuple[int, int]]:
    """Pack a note into chunks of at most `max_chars` characters, cutting at paragraph,
    then sentence or line, then word boundaries. Chunks cover every non-space character."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    chunks: List[Tuple[int, int]] = []
    for p_start, p_end in iter_paragraphs(text):
        pieces: List[Tuple[int, int]] = []
        for s, e in _pieces(text, p_start, p_end):
            pieces.extend(_hard_cut(text, s, e, max_chars))
        current: Optional[Tuple[int, int]] = None  # (start, end) of the chunk being grown
        for s, e in pieces:
            if current is not None and e - current[0] <= max_chars:
                current = (current[0], e)
                continue
            if current is not None:
                chunks.append(current)
            current = (s, e)
        if current is not None:
            chunks.append(current)
    return chunks
