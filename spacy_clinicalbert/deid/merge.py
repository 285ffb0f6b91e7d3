"""The merge policy: one set of non-overlapping PHI spans from the patterns, the context
rules and the trained recognizer.

1. Recall first: every detection of every part is a candidate.
2. A model NAME span over a medical eponym ("Parkinson" in "Parkinson's disease") is dropped
   unless a rule found a name there too (the context rules know eponyms; the model may not).
   With the note's text, a model span keeps only the words that support it (`support.py`:
   runs of words shaped like its label, the first run and those a rule overlaps), so a
   span that runs on past its PHI does not take ordinary words with it.
3. Candidates are taken best first: higher score, then longer, then by part (patterns, then
   context, then model); a candidate overlapping one already taken is not taken. Scores: a
   pattern or a cue-based context rule 1.0, the model 0.95, a recurrence of a name found
   elsewhere in the note 0.9 of its source, a first+last name from the name lists alone 0.6.
   So the structured patterns decide the label and extent of what they match, a cue-based
   rule beats the model on a tie, and the model beats the weakest rules.
4. A candidate that was not taken but overlaps a taken span of the same i2b2 group extends it
   to their union (the model's "John Smith" widens the rule's "Smith"), so no PHI character a
   part found is left out; one of another group that still has characters outside every
   taken span keeps those characters under its own label (each stretch of them, trimmed of
   spaces and punctuation when the text is known).
"""

from typing import Iterable, List, Optional

from .categories import CATEGORIES
from .detection import SOURCES, Detection
from .support import supported


def _rank(det: Detection):
    return (-det.score, -(det.end - det.start), SOURCES.index(det.source), det.start)


def merge_detections(
    candidates: Iterable[Detection], text: Optional[str] = None
) -> List[Detection]:
    cands = [d for d in set(candidates) if d.end > d.start and d.label in CATEGORIES]
    if text is not None:
        rules = [d for d in cands if d.source != "model"]
        cands = rules + [
            part for d in cands if d.source == "model" for part in supported(text, d, rules)
        ]
        cands = list(set(cands))
    taken: List[Detection] = []
    rest: List[Detection] = []
    for det in sorted(cands, key=_rank):
        if any(det.start < t.end and t.start < det.end for t in taken):
            rest.append(det)
        else:
            taken.append(det)
    taken.sort()
    for det in rest:
        group = CATEGORIES[det.label][0]
        hits = [i for i, t in enumerate(taken) if det.start < t.end and t.start < det.end]
        same = [i for i in hits if CATEGORIES[taken[i].label][0] == group]
        if same:
            i = same[0]
            t = taken[i]
            start, end = min(t.start, det.start), max(t.end, det.end)
            # do not swallow a neighbour of another group
            for j, other in enumerate(taken):
                if j != i and start < other.end and other.start < end:
                    if other.start >= t.end:
                        end = min(end, other.start)
                    elif other.end <= t.start:
                        start = max(start, other.end)
            taken[i] = t._replace(start=start, end=end)
            continue
        # characters outside every taken span keep their own label (each stretch between
        # the taken spans it overlaps: a span inside it does not cut off what follows)
        start = det.start
        for t in sorted((taken[i] for i in hits), key=lambda t: t.start):
            _leftover(taken, det, text, start, t.start)
            start = max(start, t.end)
        _leftover(taken, det, text, start, det.end)
        taken.sort()
    return sorted(taken)


def _leftover(
    taken: List[Detection], det: Detection, text: Optional[str], start: int, end: int
) -> None:
    """Keep det's characters [start, end) under its own label: trimmed of spaces and
    punctuation when the text is known, and only if a letter or digit is left."""
    if text is not None:
        while start < end and not text[start].isalnum():
            start += 1
        while end > start and not text[end - 1].isalnum():
            end -= 1
        if end > start:
            taken.append(det._replace(start=start, end=end))
    elif end - start >= 2:
        taken.append(det._replace(start=start, end=end))
