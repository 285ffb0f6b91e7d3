"""`clinical_sentences`: rule-based sentence starts for clinical notes.

ConText scopes end at sentence boundaries, so the splitter decides how far
"denies" reaches. spaCy's `sentencizer` splits after every period (list
markers "1.", "p.o.", "q.d." become their own sentences) and never at line
breaks; medspaCy's PyRuSH cannot be saved and is slow. These rules are chosen
by measurement (benchmarks/bench_rules_sentences.py on
assets/clinical_sentence_breaks.txt); they look only at tokens, so they work
with whatever tokenizer the trained pipeline has, and never change it.

A token starts a sentence when
- it follows sentence-final punctuation (". ! ?", optionally closed by ")" or
  quotes) and looks like a start: a capitalised word, a number or a bullet;
  except after titles (Dr. Mr. St. ...) and after list markers ("1."), and
  after other abbreviations ("p.o.", "approx", "e.g.") only before a
  capitalised word;
- it follows a blank line, or a single line break and starts with a capital,
  a digit or a bullet (a lower-case line continues a hard-wrapped sentence);
- it begins an ALL-CAPS header ending in ":" ("PAST MEDICAL HISTORY:"), or
  follows one ("HPI: ,The patient" -> "The patient").
"""
from typing import Iterable, List, Optional, Sequence, cast

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc
from thinc.types import Ints2d

FINAL = {".", "!", "?", "...", "…"}
CLOSERS = {")", "]", '"', "'", "”", "’"}
BULLETS = {"-", "*", "•", "–", "·", "+"}
DEFAULT_TITLES = ("dr", "mr", "mrs", "ms", "st", "prof", "sr", "jr", "mt")
DEFAULT_ABBREVIATIONS = (
    "approx", "vs", "no", "wt", "ht", "temp", "hr", "pt", "pts", "min", "max", "inc", "etc",
    "fig", "dept", "cont", "neg", "pos", "avg", "est", "resp", "sec",
    "mo", "yr", "yrs", "wk", "wks",
)


def _looks_like_start(text: str) -> bool:
    text = text.lstrip(",;")
    if not text:
        return False
    first = text[0]
    return first.isupper() or first.isdigit() or text in BULLETS or first in "([\"'"


def _is_capital_word(text: str) -> bool:
    text = text.lstrip(",;")
    return bool(text) and text[0].isupper() and text[0].isalpha()


def _header_text(text: str) -> bool:
    text = text.lstrip(",;")
    return text.upper() == text and any(c.isalpha() for c in text)


class ClinicalSentences:
    """Sets `token.is_sent_start` on every token by the rules in the module docstring."""

    def __init__(
        self,
        name: str,
        *,
        titles: Sequence[str],
        abbreviations: Sequence[str],
        newline_breaks: bool,
        header_min_letters: int,
    ):
        self.name = name
        self.titles = {t.lower().rstrip(".") for t in titles}
        self.abbreviations = {a.lower().rstrip(".") for a in abbreviations}
        self.newline_breaks = newline_breaks
        self.header_min_letters = header_min_letters

    # -- rules over plain lists (Token objects are slow to make) ----------------
    def _period_kind(self, i: int, texts, ws, prev_of, nl_of, starts) -> Optional[str]:
        """'title', 'abbrev', 'marker' or None for the period-ending token at `i`."""
        text = texts[i]
        if text != "." and text.endswith(".") and len(text) > 1:
            word = text[:-1]
        elif text == "." and i > 0 and prev_of[i] == i - 1 and not ws[i - 1]:
            word = texts[i - 1]
            if word.isdigit() and len(word) <= 2:
                before = prev_of[i - 1]
                if before is None or nl_of[i - 1] or texts[before] in (":", ";") or starts[i - 1]:
                    return "marker"
        else:
            return None
        low = word.lower().lstrip(",;")
        if low in self.titles:
            return "title"
        if "." in low or low in self.abbreviations or (len(low) == 1 and low.isalpha()):
            return "abbrev"
        return None

    def _header_starts(self, texts, space) -> List[int]:
        """Where ALL-CAPS headers ending in ':' start, and where the text after each starts."""
        starts = []
        n = len(texts)
        for i, text in enumerate(texts):
            if text != ":":
                continue
            j, first, letters = i - 1, None, 0
            while j >= 0 and not space[j] and _header_text(texts[j]):
                first = j
                letters += sum(c.isalpha() for c in texts[j])
                if texts[j].startswith((",", ";")):
                    break
                j -= 1
            if first is None or letters < self.header_min_letters:
                continue
            starts.append(first)
            k = i + 1
            while k < n and (space[k] or texts[k] in (",", ";")):
                k += 1
            if k < n:
                starts.append(k)
        return starts

    def predict_starts(self, doc: Doc) -> List[bool]:
        """One flag per token: does a sentence start here?"""
        texts = [t.text for t in doc]
        ws = [t.whitespace_ for t in doc]
        space = [t.is_space for t in doc]
        n = len(texts)
        starts = [False] * n
        if n == 0:
            return starts
        prev_of: List[Optional[int]] = [None] * n
        nl_of = [0] * n
        prev, newlines = None, 0
        for i in range(n):
            prev_of[i], nl_of[i] = prev, newlines
            if space[i]:
                newlines += texts[i].count("\n")
            else:
                prev, newlines = i, ws[i].count("\n")
        for i in range(n):
            if space[i]:
                continue
            prev, newlines, text = prev_of[i], nl_of[i], texts[i]
            if prev is None:
                starts[i] = True
                continue
            if self.newline_breaks and newlines >= 2:
                starts[i] = True
                continue
            ptext = texts[prev]
            if text in CLOSERS and ptext in FINAL and not newlines:
                continue  # a closing quote or bracket ends the sentence before it
            p = prev
            while p > 0 and texts[p] in CLOSERS and texts[p - 1] in FINAL:
                p -= 1
            ptext = texts[p]
            if ptext in FINAL or (len(ptext) > 1 and ptext.endswith(".")):
                kind = self._period_kind(p, texts, ws, prev_of, nl_of, starts)
                if kind in ("title", "marker"):
                    continue
                if kind == "abbrev" or ptext in ("...", "\u2026"):
                    if _is_capital_word(text) or (newlines and _looks_like_start(text)):
                        starts[i] = True
                    continue
                if _looks_like_start(text) or newlines:
                    starts[i] = True
                continue
            if (
                self.newline_breaks
                and newlines == 1
                and _looks_like_start(text)
                and texts[prev] not in (",", "-")
            ):
                starts[i] = True
        for i in self._header_starts(texts, space):
            starts[i] = True
        return starts

    def __call__(self, doc: Doc) -> Doc:
        if len(doc):
            flags = numpy.asarray([1 if s else -1 for s in self.predict_starts(doc)], dtype="int32")
            doc.from_array([SENT_START], cast(Ints2d, flags.reshape(-1, 1).astype("uint64")))
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterable[Doc]:
        for doc in stream:
            yield self(doc)


@Language.factory(
    "clinical_sentences",
    assigns=["token.is_sent_start"],
    default_config={
        "titles": list(DEFAULT_TITLES),
        "abbreviations": list(DEFAULT_ABBREVIATIONS),
        "newline_breaks": True,
        "header_min_letters": 3,
    },
)
def make_clinical_sentences(
    nlp: Language,
    name: str,
    titles: List[str],
    abbreviations: List[str],
    newline_breaks: bool,
    header_min_letters: int,
) -> ClinicalSentences:
    """Sentence starts for clinical text (lists, vitals, abbreviations, headers, line breaks).

    Replaces any sentence boundaries set before it; put it before the
    sectionizer and ConText.
    """
    return ClinicalSentences(
        name,
        titles=titles,
        abbreviations=abbreviations,
        newline_breaks=newline_breaks,
        header_min_letters=header_min_letters,
    )
