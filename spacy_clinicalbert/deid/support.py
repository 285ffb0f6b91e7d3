"""Which characters of a trained recognizer's PHI span the merge policy accepts.

The recognizer finds PHI the rules miss (other templates, other name lists), but its spans
run on: a PHONE that carries on through "with questions or fax records to", a HOSPITAL over
a whole sentence, a DATE with the time after it. spaCy's `ner` gives no per-span score to
threshold, so support comes from the words themselves:

1. Shape: each word must agree with the label. Names, places, institutions: a capital
   letter first (street numbers and ZIPs: digits), and not a function word or title at an
   edge ("She", "Dr", "The"; for names every capitalised non-name word the context rules
   know); dates: a digit or a month/weekday name, and not a bare clock time; ages, contacts
   and IDs: a digit (e-mail, URL, username: any word). Connectors ("of", "and", "de") may
   sit inside a run.
2. The span is cut into runs of agreeing words. A run is kept when a rule detection overlaps
   it (the model widens or completes what a rule found) or when it is the span's first run
   (the model's starts are reliable, its ends are not); the other runs are dropped.

Measured on the synthetic dev split and generator-B notes (benchmarks/README.md).
"""

import re
from typing import List, Sequence, Tuple

from .categories import CATEGORIES
from .context import STOPWORDS
from .detection import Detection

_MONTH_OR_DAY = re.compile(
    r"(?i)^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?$"
    r"|^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?$"
)
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")
# Words that start no name, place or institution (names use the context rules' STOPWORDS).
_EDGE = frozenset(
    """A An And As At Be But By For From He Her Hers Him His I If In Is It Its Me My No Nor Not
    Of On Or Our She So The Their Them Then There These They This Those To Was We Were What When
    Where Which While Who Will With You Your Dr Mr Mrs Ms Miss Mx Prof Follow Please Call""".split()
)
_CONNECTORS = frozenset("of and the de & for at on - da van von la le del".split())
_ANY_WORD = ("EMAIL", "URL", "USERNAME")


def _core(word: str) -> str:
    return word.strip(".,;:()'\"")


def agrees(label: str, word: str) -> bool:
    """Whether `word` has the shape of PHI of category `label` (policy step 1)."""
    core = _core(word)
    if not core:
        return False
    group = CATEGORIES[label][0]
    has_digit = any(ch.isdigit() for ch in core)
    if label in _ANY_WORD:
        return True
    if label == "ZIP" or label == "AGE":
        return has_digit
    if label == "DATE":
        return (has_digit and not _CLOCK.match(core)) or bool(_MONTH_OR_DAY.match(core))
    if group in ("NAME", "LOCATION", "PROFESSION"):
        if label == "STREET" and has_digit:
            return True
        edge = STOPWORDS if group == "NAME" else _EDGE
        bare = core[:-2] if core.endswith("'s") else core
        if core in edge or bare in edge:
            return False
        return core[0].isupper() or (label == "PROFESSION" and core.isalpha())
    return has_digit  # contacts and IDs


def _runs(text: str, det: Detection) -> List[Tuple[int, int]]:
    """The runs of agreeing words of `det` (connectors inside a run), as character spans."""
    runs: List[List[Tuple[int, int, bool]]] = []
    run: List[Tuple[int, int, bool]] = []
    for m in re.finditer(r"\S+", text[det.start : det.end]):
        start, end, word = det.start + m.start(), det.start + m.end(), m.group()
        if agrees(det.label, word):
            run.append((start, end, True))
        elif run and _core(word).lower() in _CONNECTORS:
            run.append((start, end, False))
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    out = []
    for words in runs:
        while words and not words[-1][2]:
            words.pop()
        if not words:
            continue
        start, end = words[0][0], words[-1][1]
        # a bracket stays when its partner is inside: "(617) 555-0100"
        while end > start and text[end - 1] in ".,;:)'\"" and not (
            text[end - 1] == ")" and "(" in text[start:end]
        ):
            end -= 1
        while start < end and text[start] in "('\"" and not (
            text[start] == "(" and ")" in text[start:end]
        ):
            start += 1
        if end > start:
            out.append((start, end))
    return out


def supported(text: str, det: Detection, rules: Sequence[Detection]) -> List[Detection]:
    """The parts of the model detection `det` the policy keeps (policy step 2)."""
    out = []
    for k, (start, end) in enumerate(_runs(text, det)):
        if k == 0 or any(start < r.end and r.start < end for r in rules):
            out.append(det._replace(start=start, end=end))
    return out
