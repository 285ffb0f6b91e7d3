"""De-identify an annotated corpus: each Doc of a DocBin rebuilt on its de-identified text
with its gold annotations moved.

Why doc by doc on the converted `.spacy` files: every corpus format `convert-corpus` reads
ends there in one data model (design.md), so one function covers BRAT, i2b2, CoNLL, JSONL,
CSV and ADE, and the converter's tokens stay as they are. Tokens that no replaced PHI
touches are kept unchanged (text, whitespace, annotation status); the tokens a replacement
touches become the tokens of the replacement (the converter's tokenizer on the new
characters). So a span away from PHI lands on the same words, and moving it is a token
index shift; nothing is re-aligned by characters.

What moves: `doc.ents` (with missing vs outside kept per token: "not annotated" stays
missing), every span group (attrs copied; a per-span attrs list follows its spans),
relations (`relations.data`), `doc.cats`, the annotation layers record and the other
`user_data` (doc-level extension values as they are, span-level ones moved by characters).

A gold span that overlaps replaced PHI is counted per layer and, by `on_overlap`:
`keep` (default) moves it onto the replacement's tokens (its text is now the placeholder or
surrogate), `drop` leaves it out (and a relation that needs it), `error` stops with the
doc and span named. A span that would cover no token (redaction removed all its
characters) is always dropped and counted; two entities that end up overlapping keep the
first and count the other.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from ..layers import USER_DATA_KEY as LAYERS_KEY
from ..layers import recorded_layers, set_layers
from ..relations.data import USER_DATA_KEY as RELATIONS_KEY
from ..relations.data import Relation, get_relations, set_relations
from .replace import DeidResult

ON_OVERLAP = ("keep", "drop", "error")


class PhiOverlapError(ValueError):
    pass


@dataclass
class CorpusDeidStats:
    """Counts of one run; `to_dict` is what `deid corpus` records (no PHI, no text)."""

    docs: int = 0
    docs_changed: int = 0
    replacements: Counter = field(default_factory=Counter)
    overlapping: Counter = field(default_factory=Counter)  # layer -> spans touching PHI
    dropped: Counter = field(default_factory=Counter)  # reason -> count
    moved: Counter = field(default_factory=Counter)  # layer -> spans moved

    def to_dict(self) -> Dict[str, Any]:
        return {
            "docs": self.docs,
            "docs_changed": self.docs_changed,
            "replacements": dict(sorted(self.replacements.items())),
            "moved": dict(sorted(self.moved.items())),
            "overlapping_phi": dict(sorted(self.overlapping.items())),
            "dropped": dict(sorted(self.dropped.items())),
        }


class _TokenMap:
    """Old token index -> new token range, and which old tokens replaced PHI touched."""

    def __init__(self, starts: List[int], ends: List[int], touched: List[bool]):
        self.starts, self.ends, self.touched = starts, ends, touched

    def span(self, start: int, end: int) -> Tuple[int, int, bool]:
        """New (start, end) of old tokens [start, end), and whether they touch PHI."""
        return self.starts[start], self.ends[end - 1], any(self.touched[start:end])


def _rebuild(doc: Doc, result: DeidResult, nlp: Language) -> Tuple[Doc, _TokenMap]:
    """The new Doc (untouched tokens kept, touched runs retokenized) and the token map."""
    edits = [(r.input_start, r.input_end) for r in result.replacements]
    n = len(doc)
    touched = [False] * n
    for s, e in edits:
        for tok in doc.char_span(s, e, alignment_mode="expand") or ():
            touched[tok.i] = True
    words: List[str] = []
    spaces: List[bool] = []
    starts = [0] * n
    ends = [0] * n
    offsets = result.offsets
    i = 0
    while i < n:
        tok = doc[i]
        if not touched[i]:
            starts[i], ends[i] = len(words), len(words) + 1
            words.append(tok.text)
            spaces.append(bool(tok.whitespace_))
            i += 1
            continue
        j = i
        while j + 1 < n and touched[j + 1]:
            j += 1
        last = doc[j]
        a = offsets.to_prepared(tok.idx, "start")
        b = offsets.to_prepared(last.idx + len(last), "end")
        piece = nlp.make_doc(result.text[a:b]) if b > a else None
        first = len(words)
        if piece is not None:
            for t in piece:
                words.append(t.text)
                spaces.append(bool(t.whitespace_))
            spaces[-1] = bool(last.whitespace_)
        for k in range(i, j + 1):
            starts[k], ends[k] = first, len(words)
        if piece is None and last.whitespace_:  # the run vanished (redact): keep its gap
            if words and not spaces[-1]:
                spaces[-1] = True
            else:
                words.append(last.whitespace_)
                spaces.append(False)
        i = j + 1
    new = Doc(doc.vocab, words=words, spaces=spaces)
    return new, _TokenMap(starts, ends, touched)


def deidentify_doc(
    doc: Doc,
    result: DeidResult,
    nlp: Language,
    stats: CorpusDeidStats,
    on_overlap: str = "keep",
    where: str = "",
) -> Doc:
    """`doc` rebuilt on `result.text` (the de-identified `doc.text`) with its annotations."""
    if on_overlap not in ON_OVERLAP:
        raise ValueError(f"on_overlap must be one of {ON_OVERLAP}, got {on_overlap!r}")
    if result.offsets.original_length != len(doc.text):
        raise ValueError(f"{where}: the de-identification result is not for this doc's text")
    stats.docs += 1
    for r in result.replacements:
        stats.replacements[r.label] += 1
    if result.replacements:
        stats.docs_changed += 1
    new, tmap = _rebuild(doc, result, nlp)
    if new.text != result.text:
        raise ValueError(f"{where}: the rebuilt doc does not reproduce the de-identified text")

    def move(span: Span, layer: str) -> Optional[Span]:
        s, e, hits = tmap.span(span.start, span.end)
        if hits:
            stats.overlapping[layer] += 1
            if on_overlap == "error":
                raise PhiOverlapError(
                    f"{where}: {layer} span {span.start_char}-{span.end_char} ({span.label_}) "
                    "overlaps PHI that was replaced (use --on-phi-overlap keep or drop)"
                )
            if on_overlap == "drop":
                stats.dropped[f"{layer}:overlaps_phi"] += 1
                return None
        if e <= s:
            stats.dropped[f"{layer}:no_tokens_left"] += 1
            return None
        stats.moved[layer] += 1
        return Span(new, s, e, label=span.label, kb_id=span.kb_id)

    # entities: the spans, and per token whether it was annotated at all
    annotated = [t.ent_iob != 0 for t in doc]
    if any(annotated):
        ents: List[Span] = []
        last_end = 0
        for ent in doc.ents:
            moved = move(ent, "ents")
            if moved is None:
                continue
            if moved.start < last_end:
                stats.dropped["ents:overlap_after_replacement"] += 1
                continue
            ents.append(moved)
            last_end = moved.end
        covered: Set[int] = set()
        for ent in ents:
            covered.update(range(ent.start, ent.end))
        missing_tokens: Set[int] = set()
        for i, ann in enumerate(annotated):
            if not ann:
                missing_tokens.update(range(tmap.starts[i], tmap.ends[i]))
        missing = [new[k : k + 1] for k in sorted(missing_tokens - covered)]
        new.set_ents(ents, missing=missing, default="outside")

    for key, group in doc.spans.items():
        kept, idx = [], []
        for k, span in enumerate(group):
            moved = move(span, f"spans:{key}")
            if moved is not None:
                kept.append(moved)
                idx.append(k)
        attrs = {}
        for name, value in group.attrs.items():
            if isinstance(value, list) and len(value) == len(group):
                value = [value[k] for k in idx]
            attrs[name] = value
        new.spans[key] = SpanGroup(new, name=key, spans=kept, attrs=attrs)

    relations: List[Relation] = []
    for rel in get_relations(doc):
        head, tail = move(rel.head, "relation_args"), move(rel.tail, "relation_args")
        if head is None or tail is None:
            stats.dropped["relations:argument_dropped"] += 1
            continue
        relations.append(Relation(head, tail, rel.label, rel.score))
        stats.moved["relations"] += 1
    if relations:
        set_relations(new, relations)

    new.cats = dict(doc.cats)
    layers = recorded_layers(doc)
    for key, value in doc.user_data.items():
        if key in (RELATIONS_KEY, LAYERS_KEY):
            continue
        if isinstance(key, tuple) and len(key) == 4 and key[0] == "._." and key[2] is not None:
            s, e = result.offsets.span_to_prepared(int(key[2]), int(key[3]))
            new.user_data[(key[0], key[1], s, e)] = value
            stats.moved["span_extension_values"] += 1
            continue
        new.user_data[key] = value
    if layers is not None:
        set_layers(new, layers)
    return new


def deidentify_docs(
    docs: Sequence[Doc],
    deidentifier: Any,
    stats: CorpusDeidStats,
    *,
    on_overlap: str = "keep",
    source: str = "",
    patient_ids: Optional[Sequence[str]] = None,
    batch_size: int = 16,
) -> List[Doc]:
    """Each doc de-identified by `deidentifier` (a `replace.Deidentifier`) and rebuilt."""
    from ..text.tokenizer import blank_clinical

    tokenizer_nlp = blank_clinical()
    items = [
        (doc.text, patient_ids[i] if patient_ids else _note_id(doc)) for i, doc in enumerate(docs)
    ]
    out = []
    for i, (result, _pid) in enumerate(deidentifier.pipe(items, batch_size=batch_size)):
        doc = docs[i]
        where = f"{source} doc {i}" + (f" ({_note_id(doc)})" if _note_id(doc) else "")
        out.append(deidentify_doc(doc, result, tokenizer_nlp, stats, on_overlap, where))
    return out


def _note_id(doc: Doc) -> str:
    if Doc.has_extension("note_id"):
        return str(doc._.note_id or "")
    return ""
