"""Score sentence splitters against hand-marked clinical sentence breaks.

The case file (assets/clinical_sentence_breaks.txt) marks each gold sentence
start with "||". A split is compared by the character offsets of the first
non-space token of each sentence, so splitters that differ only in where
whitespace goes score the same.
"""
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Set, Tuple, Union

from spacy.tokens import Doc

from ..prf import prf

MARK = "||"


class SentenceCase(NamedTuple):
    name: str
    text: str
    starts: Set[int]  # character offsets of gold sentence starts (0 excluded)


def read_sentence_cases(path: Union[str, Path]) -> List[SentenceCase]:
    """Parse the case file; errors name the file and line."""
    path = Path(path)
    cases: List[SentenceCase] = []
    name: Optional[str] = None
    lines: List[str] = []
    header_line = 0

    def close():
        if name is None:
            return
        marked = "".join(lines)
        if marked.endswith("\n"):
            marked = marked[:-1]
        pieces = marked.split(MARK)
        text, starts = "", set()
        for i, piece in enumerate(pieces):
            if i:
                offset = len(text) + (len(piece) - len(piece.lstrip()))
                if offset >= len(text) + len(piece):
                    raise ValueError(
                        f"{path}:{header_line}: case {name!r} has a '||' with no text after it."
                    )
                starts.add(offset)
            text += piece
        if not text.strip():
            raise ValueError(f"{path}:{header_line}: case {name!r} is empty.")
        cases.append(SentenceCase(name, text, starts))

    with path.open(encoding="utf8", newline="") as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.startswith("=== "):
                close()
                name, lines, header_line = line[4:].strip(), [], line_no
            elif name is None:
                if line.strip() and not line.startswith("#"):
                    raise ValueError(f"{path}:{line_no}: text before the first '=== <id>' line.")
            else:
                lines.append(line)
    close()
    if not cases:
        raise ValueError(f"{path}: no cases found.")
    return cases


def predicted_starts(doc: Doc) -> Set[int]:
    """Character offsets of the first non-space token of each sentence but the first."""
    starts = set()
    for sent in doc.sents:
        content = [t for t in sent if not t.is_space]
        if content and content[0].idx > 0:
            starts.add(content[0].idx)
    first = next((t.idx for t in doc if not t.is_space), 0)
    starts.discard(first)
    return starts


def score_boundaries(pairs: Iterable[Tuple[Set[int], Set[int]]]) -> Dict[str, float]:
    """Boundary precision, recall, F1 and the share of documents split exactly right."""
    tp = fp = fn = exact = n = 0
    for gold, pred in pairs:
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
        exact += gold == pred
        n += 1
    scores = prf(tp, fp, fn)
    return {"precision": scores["p"], "recall": scores["r"], "f1": scores["f"],
            "docs_exact": exact / n if n else 0.0, "boundaries": tp + fn, "docs": n}
