"""Character spans → token spans, with the repair each `--alignment` mode allows.

- `strict`: the span must start and end on token boundaries; anything else is an error
  naming the annotation.
- `expand` (default): grow to the tokens the span touches (a mention cut inside
  `azithromycin-induced` keeps its token).
- `contract`: shrink to the tokens wholly inside; a span inside one token is dropped
  (and counted).
Leading and trailing whitespace inside a span (Chia's `\r` before a line end) is
trimmed first and counted as a repair in every mode.
"""
from typing import Optional

from spacy.tokens import Doc, Span

from .records import CorpusError
from .stats import ConversionStats

ALIGNMENT_MODES = ("expand", "contract", "strict")


def trim_whitespace(text: str, start: int, end: int):
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def align_span(
    doc: Doc,
    start: int,
    end: int,
    label: str,
    mode: str,
    stats: ConversionStats,
    where: str,
    text: Optional[str] = None,
) -> Optional[Span]:
    """A token span for [start, end), or None when the mode cannot keep it (counted).
    Pass `text` (= doc.text) when aligning many spans: `doc.text` is rebuilt on each access."""
    if mode not in ALIGNMENT_MODES:
        raise ValueError(f"alignment must be one of {', '.join(ALIGNMENT_MODES)}, got {mode!r}")
    text = doc.text if text is None else text
    t_start, t_end = trim_whitespace(text, start, end)
    if t_start == t_end:
        stats.omit("entity_fragment_only_whitespace", where)
        return None
    if (t_start, t_end) != (start, end):
        stats.repair("whitespace_trimmed", where)
    span = doc.char_span(t_start, t_end, label=label)
    if span is not None:
        return span
    if mode == "strict":
        snippet = text[t_start:t_end]
        toks = doc.char_span(t_start, t_end, alignment_mode="expand")
        raise CorpusError(
            where,
            f"span {t_start}-{t_end} {snippet!r} ({label}) does not fall on token boundaries "
            f"(tokens: {[t.text for t in toks] if toks is not None else '?'}); "
            "use --alignment expand or contract to repair it",
        )
    span = doc.char_span(t_start, t_end, label=label, alignment_mode=mode)
    if span is None or len(span) == 0:
        stats.omit(f"entity_unalignable_{mode}", where)
        return None
    stats.repair("alignment_expanded" if mode == "expand" else "alignment_contracted", where)
    return span
