"""One note as HTML: categories, then its blocks (entities, PHI, badges, relation arcs),
then the table of its relations.

Entities are drawn by displaCy's entity renderer (`EntityRenderer.render_ents`, manual
spans) with our template: displaCy escapes the text, keeps line breaks and colours by
label, and its template takes per-span `params`, which carry each entity's id (the arcs
find their ends by it), badges and tooltip. displaCy does not draw the rest: its
dependency arcs join tokens, not spans, on one unwrapped line as wide as the sentence;
its renderers have no notion of assertions, scores or sections. Those are ours.
"""
import html
import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span

from ..relations.data import get_relations
from ..rules.assertions import ASSERTION_FLAGS
from ..rules.table import extension_value
from .blocks import Block, block_of, note_blocks

# displaCy template: {text} is escaped by displaCy; every other field comes from `params`.
ENT_TEMPLATE = (
    '<mark class="ent{cls}" id="{ent_id}" data-label="{label_attr}" data-text="{text_attr}" '
    'style="background: {bg}" title="{tip}">{text}<span class="ent-label">{label}</span>'
    "{badges}</mark>"
)
BADGE_NAMES = {flag: flag.replace("is_", "") for flag in ASSERTION_FLAGS}
PHI_KEY = "phi"

SpanKey = Tuple[int, int, str]


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass
class NoteCounts:
    """What a note holds and what of it could not be drawn inline (said on the page)."""

    entities: int = 0
    entities_not_inline: int = 0
    phi: int = 0
    phi_not_inline: int = 0
    relations: int = 0
    relations_across_blocks: int = 0
    relations_not_drawn: int = 0
    flags: Dict[str, int] = field(default_factory=dict)


def entity_spans(doc: Doc, spans_key: Optional[str]) -> List[Span]:
    """`doc.ents`, or the span group `spans_key` (spancat output) when given."""
    if spans_key is not None:
        return list(doc.spans[spans_key]) if spans_key in doc.spans else []
    return list(doc.ents)


def non_overlapping(spans: Sequence[Span], taken: Optional[List[bool]] = None):
    """Longest-first choice of spans that overlap neither each other nor `taken` tokens;
    returns (kept in text order, the rest)."""
    n = len(spans[0].doc) if spans else 0
    used = list(taken) if taken is not None else [False] * n
    kept, rest = [], []
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if any(used[span.start:span.end]):
            rest.append(span)
            continue
        for i in range(span.start, span.end):
            used[i] = True
        kept.append(span)
    return sorted(kept, key=lambda s: s.start), rest


def flags_of(span: Span) -> List[str]:
    return [flag for flag in ASSERTION_FLAGS if extension_value(span, flag, False)]


def _cues(span: Span) -> str:
    cues = extension_value(span, "context_cues", ()) or ()
    out = []
    for cue in cues:
        if isinstance(cue, dict):
            out.append(f"{cue.get('category', '')}: {cue.get('text', '')}".strip(": "))
        else:
            out.append(str(cue))
    return "; ".join(out)


class NoteRenderer:
    """Renders notes of one page; ids are unique on the page (`n{note}-e{entity}`)."""

    def __init__(self, colors: Dict[str, str], *, spans_key: Optional[str] = None,
                 max_block_tokens: int = 120):
        from importlib import import_module

        renderer_cls = import_module("spacy.displacy.render").EntityRenderer
        self.displacy = renderer_cls({"template": ENT_TEMPLATE})
        self.colors = colors
        self.spans_key = spans_key
        self.max_block_tokens = max_block_tokens

    def _mark(self, span: Span, ent_id: str, *, phi: bool) -> Dict:
        flags = [] if phi else flags_of(span)
        label = f"PHI {span.label_}" if phi else span.label_
        tip = label + (" (" + ", ".join(BADGE_NAMES[f] for f in flags) + ")" if flags else "")
        cues = "" if phi else _cues(span)
        if cues:
            tip += f" | cues: {cues}"
        badges = "".join(
            f'<span class="badge {BADGE_NAMES[f]}">{BADGE_NAMES[f]}</span>' for f in flags
        )
        return {
            "start": span.start_char, "end": span.end_char, "label": label,
            "params": {
                "cls": " phi" if phi else "", "ent_id": ent_id, "label": _esc(label),
                "label_attr": _esc(span.label_), "text_attr": _esc(span.text), "tip": _esc(tip),
                "badges": badges, "bg": "#ddd" if phi else self.colors.get(span.label_, "#ddd"),
            },
        }

    def render(self, doc: Doc, note_index: int, note_id: str,
               extra: str = "") -> Tuple[str, NoteCounts]:
        counts = NoteCounts()
        prefix = f"n{note_index}"
        ents = entity_spans(doc, self.spans_key)
        counts.entities = len(ents)
        inline, not_inline = non_overlapping(ents)
        counts.entities_not_inline = len(not_inline)
        used = [False] * len(doc)
        for span in inline:
            for i in range(span.start, span.end):
                used[i] = True
        phi_spans = list(doc.spans[PHI_KEY]) if PHI_KEY in doc.spans else []
        phi_inline, phi_rest = non_overlapping(phi_spans, used)
        counts.phi, counts.phi_not_inline = len(phi_spans), len(phi_rest)

        ids: Dict[SpanKey, str] = {}
        marks: List[Tuple[Span, Dict]] = []
        for k, span in enumerate(inline):
            ent_id = f"{prefix}-e{k}"
            ids[(span.start, span.end, span.label_)] = ent_id
            marks.append((span, self._mark(span, ent_id, phi=False)))
            for flag in flags_of(span):
                counts.flags[BADGE_NAMES[flag]] = counts.flags.get(BADGE_NAMES[flag], 0) + 1
        for k, span in enumerate(phi_inline):
            marks.append((span, self._mark(span, f"{prefix}-p{k}", phi=True)))
        marks.sort(key=lambda m: m[0].start)

        blocks = note_blocks(doc, self.max_block_tokens)
        relations = get_relations(doc)
        counts.relations = len(relations)
        block_rels: Dict[int, List[Dict]] = {}
        rel_rows = []
        for rel in sorted(relations, key=lambda r: (r.head.start, r.tail.start, r.label)):
            h_id = ids.get((rel.head.start, rel.head.end, rel.head.label_))
            t_id = ids.get((rel.tail.start, rel.tail.end, rel.tail.label_))
            if h_id is None or t_id is None:
                where = "entity not drawn inline"
                counts.relations_not_drawn += 1
            else:
                hb, tb = block_of(blocks, rel.head.start), block_of(blocks, rel.tail.start)
                if hb == tb:
                    where = "arc"
                    block_rels.setdefault(hb, []).append(
                        {"h": h_id, "t": t_id, "l": rel.label, "s": round(float(rel.score), 4)}
                    )
                else:
                    where = "across blocks"
                    counts.relations_across_blocks += 1
            rel_rows.append((rel, h_id, t_id, where))

        parts = [f'<article class="note" id="{prefix}" data-note-id="{_esc(note_id)}">',
                 f"<h2>{_esc(note_id)}</h2>", self._summary(counts), self._cats(doc), extra]
        mark_i = 0
        for b, block in enumerate(blocks):
            if block.opens_section and block.section:
                parts.append(f'<h3 class="section">{_esc(block.section)}</h3>')
            start_char = doc[block.start].idx
            last = block.end - 1
            while last > block.start and doc[last].is_space:  # no blank lines at a block's end
                last -= 1
            end_char = doc[last].idx + len(doc[last].text)
            spans = []
            while mark_i < len(marks) and marks[mark_i][0].start < block.end:
                span, mark = marks[mark_i]
                mark_i += 1
                if span.end > block.end:  # a span cut by a block boundary: plain text here
                    counts.entities_not_inline += 1
                    continue
                spans.append(dict(mark, start=mark["start"] - start_char,
                                  end=mark["end"] - start_char))
            body = self.displacy.render_ents(doc.text[start_char:end_char], spans, None)
            rels = _esc(json.dumps(block_rels.get(b, [])))
            parts.append(f'<div class="block" id="{prefix}-b{b}" data-rels="{rels}">'
                         f'<svg class="arcs"></svg>{body}</div>')
        if not blocks:
            parts.append('<p class="muted">(empty note)</p>')
        parts.append(self._relation_table(rel_rows))
        if not_inline or phi_rest:
            parts.append(self._overlap_table(not_inline, phi_rest))
        parts.append("</article>")
        return "".join(parts), counts

    def _summary(self, c: NoteCounts) -> str:
        bits = [f"{c.entities} entities", f"{c.relations} relations"]
        bits += [f"{n} {flag}" for flag, n in sorted(c.flags.items())]
        if c.phi:
            bits.append(f"{c.phi} PHI spans")
        if c.entities_not_inline or c.phi_not_inline:
            bits.append(f"{c.entities_not_inline + c.phi_not_inline} overlapping spans listed "
                        "below the text, not marked in it")
        if c.relations_across_blocks:
            bits.append(f"{c.relations_across_blocks} relations across blocks (table only)")
        return f'<p class="summary">{_esc("; ".join(bits))}</p>'

    @staticmethod
    def _cats(doc: Doc) -> str:
        if not doc.cats:
            return ""
        chips = []
        for label, score in sorted(doc.cats.items(), key=lambda kv: -kv[1]):
            pct = max(0.0, min(1.0, float(score))) * 100
            chips.append(f'<span class="cat" data-label="{_esc(label)}" title="{score:.4f}">'
                         f'<i class="bar" style="width:{pct:.1f}%"></i>'
                         f"<span>{_esc(label)} {score:.2f}</span></span>")
        return f'<div class="cats">{"".join(chips)}</div>'

    @staticmethod
    def _relation_table(rows) -> str:
        if not rows:
            return ""
        out = ['<table class="relations"><tr><th>head</th><th>relation</th><th>tail</th>'
               '<th>score</th><th>shown as</th></tr>']
        for rel, h_id, t_id, where in rows:
            head = _esc(rel.head.text)
            tail = _esc(rel.tail.text)
            head = f'<a href="#{h_id}">{head}</a>' if h_id else head
            tail = f'<a href="#{t_id}">{tail}</a>' if t_id else tail
            out.append(f'<tr class="relation" data-label="{_esc(rel.label)}"><td>{head} '
                       f'<span class="muted">{_esc(rel.head.label_)}</span></td>'
                       f"<td>{_esc(rel.label)}</td><td>{tail} "
                       f'<span class="muted">{_esc(rel.tail.label_)}</span></td>'
                       f'<td class="num">{rel.score:.3f}</td><td>{where}</td></tr>')
        out.append("</table>")
        return "".join(out)

    @staticmethod
    def _overlap_table(ents: List[Span], phi: List[Span]) -> str:
        out = ['<table class="overlapping"><tr><th>overlapping span</th><th>label</th>'
               "<th>tokens</th></tr>"]
        for kind, spans in (("entity", ents), ("PHI", phi)):
            for span in sorted(spans, key=lambda s: s.start):
                out.append(f"<tr><td>{_esc(span.text)}</td><td>{kind} {_esc(span.label_)}</td>"
                           f'<td class="num">{span.start}-{span.end}</td></tr>')
        out.append("</table>")
        return "".join(out)


def note_labels(docs: Sequence[Doc], spans_key: Optional[str]) -> List[str]:
    return sorted({span.label_ for doc in docs for span in entity_spans(doc, spans_key)})


def note_id(doc: Doc, index: int) -> str:
    value = extension_value(doc, "note_id", None)
    return str(value) if value else f"note {index + 1}"


__all__ = ["Block", "NoteCounts", "NoteRenderer", "entity_spans", "note_id", "note_labels"]
