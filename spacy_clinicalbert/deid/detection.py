"""One found piece of PHI: character offsets, i2b2 category, which part found it."""

from typing import NamedTuple

SOURCES = ("pattern", "context", "model")


class Detection(NamedTuple):
    start: int
    end: int
    label: str
    source: str  # "pattern", "context" or "model"
    score: float = 1.0
