"""Prepare clinical text once, the same way for conversion, pretraining and inference.

What preparation does (each step can be switched off):
- MIMIC de-identification tags become typed placeholders (`[NAME]`, `[DATE]`, ...).
- Line breaks: CRLF and lone CR become LF; runs of more than `max_newlines` line
  breaks shrink to that many. With `unwrap_lines`, a single line break inside a
  paragraph becomes a space (hard-wrapped notes).
- Spaces: tabs, no-break and other Unicode spaces become a plain space; runs of
  horizontal whitespace become one space (spaCy would make a token of each run);
  zero-width characters go; leading and trailing whitespace of the note goes.

Nothing is lost: `PreparedText` keeps the original and an `OffsetMap`, so spans
annotated on either text map onto the other with no shift.
"""
import re
from dataclasses import dataclass, field
from typing import List, Tuple

from .deid import MIMIC3_TAG, format_placeholder, placeholder_type
from .offsets import Edit, OffsetMap

_PATTERN = re.compile(
    r"(?P<edge>\A[\s\u200b\u200c\u200d\u2060\ufeff]+|[\s\u200b\u200c\u200d\u2060\ufeff]+\Z)"
    r"|(?P<deid3>" + MIMIC3_TAG.pattern + r")"
    r"|(?P<deid4>(?<!\w)___(?!\w))"
    r"|(?P<ws>\s{2,}|[^\S ])"
    r"|(?P<zw>[\u200b\u200c\u200d\u2060\ufeff]+)"
)
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]+")


@dataclass(frozen=True)
class Placeholder:
    """A de-identification tag and the placeholder that replaced it."""

    start: int  # in the prepared text
    end: int
    type: str
    original: str


@dataclass
class PreparedText:
    """Prepared text plus the way back to the original characters."""

    original: str
    text: str
    offsets: OffsetMap
    placeholders: List[Placeholder] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return not self.offsets.is_identity

    def to_original(self, offset: int, side: str = "start") -> int:
        return self.offsets.to_original(offset, side)

    def to_prepared(self, offset: int, side: str = "start") -> int:
        return self.offsets.to_prepared(offset, side)

    def span_to_original(self, start: int, end: int) -> Tuple[int, int]:
        return self.offsets.span_to_original(start, end)

    def span_to_prepared(self, start: int, end: int) -> Tuple[int, int]:
        return self.offsets.span_to_prepared(start, end)


def _whitespace(
    run: str, *, newlines: bool, collapse: bool, max_newlines: int, unwrap: bool
) -> str:
    if not newlines and not collapse:
        # Only make every whitespace character a plain one, keeping the length.
        return "".join(ch if ch in "\n\r" else " " for ch in run)
    n_breaks = run.count("\n") + run.count("\r") - run.count("\r\n")
    if n_breaks == 0:
        return " " if collapse else re.sub(r"[^\S\n\r]", " ", run)
    if not newlines:
        # Keep line breaks as written; collapse the spaces around them.
        return "".join(re.findall(r"\r\n|\r|\n", run))
    if unwrap and n_breaks == 1:
        return " "
    if collapse:
        return "\n" * min(n_breaks, max_newlines)
    return re.sub(r"\r\n|\r", "\n", re.sub(r"[^\S\n\r]", " ", run))


def prepare_clinical_text(
    text: str,
    *,
    deid: bool = True,
    placeholder: str = "[{type}]",
    newlines: bool = True,
    max_newlines: int = 2,
    collapse_spaces: bool = True,
    unwrap_lines: bool = False,
    strip: bool = True,
) -> PreparedText:
    """Prepare one note. See the module docstring for what each option does."""
    if not isinstance(text, str):
        raise TypeError(f"prepare_clinical_text needs a str, got {type(text).__name__}")
    if max_newlines < 1:
        raise ValueError(f"max_newlines must be at least 1, got {max_newlines}")
    edits: List[Edit] = []
    tags: List[Tuple[int, str, str]] = []  # (index into edits, type, original)
    for match in _PATTERN.finditer(text):
        kind = match.lastgroup
        run = match.group(0)
        if kind == "edge":
            new = (
                ""
                if strip
                else _whitespace(
                    _ZERO_WIDTH.sub("", run),
                    newlines=newlines,
                    collapse=collapse_spaces,
                    max_newlines=max_newlines,
                    unwrap=unwrap_lines,
                )
            )
        elif kind in ("deid3", "deid4"):
            if not deid:
                continue
            ptype = placeholder_type(run[3:-3]) if kind == "deid3" else "REDACTED"
            new = format_placeholder(ptype, placeholder)
            tags.append((len(edits), ptype, run))
        elif kind == "ws":
            new = _whitespace(
                run,
                newlines=newlines,
                collapse=collapse_spaces,
                max_newlines=max_newlines,
                unwrap=unwrap_lines,
            )
        else:  # zero-width characters
            new = ""
        if new != run:
            edits.append(Edit(match.start(), match.end(), new))
    if not edits:
        return PreparedText(text, text, OffsetMap(len(text), []))
    parts: List[str] = []
    pos = 0
    starts: List[int] = []
    length = 0
    for edit in edits:
        parts.append(text[pos:edit.start])
        length += edit.start - pos
        starts.append(length)
        parts.append(edit.replacement)
        length += len(edit.replacement)
        pos = edit.end
    parts.append(text[pos:])
    prepared = "".join(parts)
    placeholders = [
        Placeholder(starts[i], starts[i] + len(edits[i].replacement), ptype, original)
        for i, ptype, original in tags
    ]
    return PreparedText(text, prepared, OffsetMap(len(text), edits), placeholders)
