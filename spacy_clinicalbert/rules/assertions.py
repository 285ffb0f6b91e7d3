"""The ConText assertion flags, named once, and the Span extensions that hold them.

`clinical_context` sets the flags, `clinical_sectionizer` sets some by section,
and the table, the evaluation and the packaging smoke test read them: all take
the names from here. Importing this module is cheap (no medspaCy).
"""
from spacy.tokens import Span

ASSERTION_FLAGS = ("is_negated", "is_uncertain", "is_historical", "is_hypothetical", "is_family")


def install_context_extensions() -> None:
    """Register the five flags (default False) and `span._.context_cues` (default ()) once."""
    for flag in ASSERTION_FLAGS:
        if not Span.has_extension(flag):
            Span.set_extension(flag, default=False)
    if not Span.has_extension("context_cues"):
        Span.set_extension("context_cues", default=())
