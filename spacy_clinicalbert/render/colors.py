"""One colour per label, stable across pages and runs.

displaCy's own table (spacy.displacy's `DEFAULT_LABEL_COLORS`) covers the OntoNotes labels;
clinical labels get a colour from a fixed pastel palette chosen by a hash of the label,
so a label keeps its colour from one page (or evaluation run) to the next.
"""
import hashlib
from typing import Dict, Iterable

# Pastels that keep black text readable (contrast ratio above 7:1 on each).
PALETTE = (
    "#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99", "#fb9a99", "#8dd3c7", "#bebada",
    "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#ccebc5", "#ffed6f", "#d9d9d9", "#e5c494",
)


def displacy_colors() -> Dict[str, str]:
    from importlib import import_module

    # spacy.displacy's package attribute `render` is a function; the module holds the table.
    return dict(import_module("spacy.displacy.render").DEFAULT_LABEL_COLORS)


def label_color(label: str) -> str:
    digest = hashlib.sha1(label.encode("utf8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def label_colors(labels: Iterable[str]) -> Dict[str, str]:
    """`label -> colour` for `labels`: displaCy's colour where it has one, else the palette's."""
    known = displacy_colors()
    return {label: known.get(label.upper(), label_color(label)) for label in labels}
