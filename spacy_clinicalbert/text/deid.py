"""De-identification tags → typed placeholders.

MIMIC-III hides PHI behind tags such as `[**Last Name (NamePattern1) 1234**]` or
`[**2150-3-4**]`; MIMIC-IV uses `___`. The digits inside are random surrogates:
they carry no meaning, but they break one name into a dozen tokens and a dozen
wordpieces, and each tag looks different. A short typed placeholder (`[NAME]`,
`[DATE]`) keeps the information a model can use (what kind of thing stood
there) and tokenizes to one spaCy token (see the clinical tokenizer).
"""
import re
from typing import Tuple

# Every placeholder type a tag can become, most specific first where it matters.
PLACEHOLDER_TYPES: Tuple[str, ...] = (
    "NAME", "DATE", "HOSPITAL", "LOCATION", "ORGANIZATION", "PHONE", "EMAIL",
    "URL", "ID", "AGE", "OTHER", "REDACTED",
)

MIMIC3_TAG = re.compile(r"\[\*\*(.{0,200}?)\*\*\]")
MIMIC4_TAG = re.compile(r"(?<!\w)___(?!\w)")

_DATE_SHAPES = re.compile(
    r"^\s*(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}|\d{4}|\d{1,2}-/\d{4}|\d{1,2}/\d{4}|\d{1,2}-\d{4})\s*$"
)
# (substring of the tag's lower-cased kind, type); the first hit wins, so the
# order matters: "Hospital Unit Name" is a hospital, "MD Number" an identifier.
_KIND_RULES: Tuple[Tuple[str, str], ...] = (
    ("hospital", "HOSPITAL"),
    ("ward", "HOSPITAL"),
    ("e-mail", "EMAIL"),
    ("email", "EMAIL"),
    ("url", "URL"),
    ("telephone", "PHONE"),
    ("phone", "PHONE"),
    ("fax", "PHONE"),
    ("pager", "PHONE"),
    ("age over", "AGE"),
    ("number", "ID"),
    ("identifier", "ID"),
    ("contact info", "ID"),
    ("company", "ORGANIZATION"),
    ("university", "ORGANIZATION"),
    ("college", "ORGANIZATION"),
    ("address", "LOCATION"),
    ("location", "LOCATION"),
    ("state", "LOCATION"),
    ("country", "LOCATION"),
    ("street", "LOCATION"),
    ("name", "NAME"),
    ("initial", "NAME"),
    ("lastname", "NAME"),
    ("firstname", "NAME"),
    ("month", "DATE"),
    ("year", "DATE"),
    ("day", "DATE"),
    ("date", "DATE"),
    ("holiday", "DATE"),
)


def placeholder_type(tag_body: str) -> str:
    """The placeholder type for the inside of a MIMIC-III tag (`Last Name (NamePattern1) 1234`)."""
    if _DATE_SHAPES.match(tag_body):
        return "DATE"
    kind = tag_body.lower()
    for needle, ptype in _KIND_RULES:
        if needle in kind:
            return ptype
    return "OTHER"


def format_placeholder(ptype: str, template: str = "[{type}]") -> str:
    if ptype not in PLACEHOLDER_TYPES:
        raise ValueError(
            f"Unknown placeholder type {ptype!r}; known: {', '.join(PLACEHOLDER_TYPES)}"
        )
    text = template.format(type=ptype)
    if not text or any(ch.isspace() for ch in text):
        raise ValueError(
            f"Placeholder template {template!r} must give one word without spaces, got {text!r}."
        )
    return text


def placeholder_strings(template: str = "[{type}]") -> Tuple[str, ...]:
    """All placeholders the template can produce (the tokenizer keeps each whole)."""
    return tuple(format_placeholder(t, template) for t in PLACEHOLDER_TYPES)
