"""report.html, the error browser: every false positive and false negative entity and
relation, and every mis-classified document, in its context with gold and predicted side by
side, filterable by label and by error kind. `evaluate` writes it beside report.md.

Errors are counted on the docs that annotate the layer (as the scores are), by character
offsets and labels, so a span whose tokens differ between gold and prediction still matches
when its characters do. Relations are compared end to end: both entities (offsets and
labels) and the relation label. A very long list is cut at `max_rows` per part, and the page
says how many were left out.
"""
import html
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span
from spacy.training import Example

from ..layers import CATEGORIES, ENTITIES, RELATIONS, annotates
from ..relations.data import get_relations
from ..render.assets import CSS
from ..rules.table import extension_value

HTML_FILE = "report.html"
GOLD_POSITIVE = 0.5
CONTEXT_CHARS = 120

CharSpan = Tuple[int, int, str]  # start_char, end_char, label
RelKey = Tuple[CharSpan, CharSpan, str]

TEMPLATE = ('<mark class="ent{cls}" style="background: {bg}">{text}'
            '<span class="ent-label">{label}</span></mark>')

EXTRA_CSS = """
.errors td{vertical-align:top}.errors td.ctx{max-width:32em;line-height:2.2}
mark.ent.focus{outline:2px solid #c0392b;outline-offset:1px}
tr.err.hidden{display:none}
.kind-FP{color:#c0392b;font-weight:700}.kind-FN{color:#1f77b4;font-weight:700}
.controls{margin:.6em 0}.controls select{margin-right:1em}
"""

JS = r"""
(function(){
"use strict";
function apply(){
  var part=document.getElementById("f-part").value,kind=document.getElementById("f-kind").value,
      label=document.getElementById("f-label").value,rows=document.querySelectorAll("tr.err"),n=0;
  for(var i=0;i<rows.length;i++){
    var r=rows[i],ok=(!part||r.getAttribute("data-part")===part)&&
      (!kind||r.getAttribute("data-kind")===kind)&&(!label||r.getAttribute("data-label")===label);
    r.classList.toggle("hidden",!ok);if(ok){n++;}
  }
  document.getElementById("shown").textContent=String(n);
}
["f-part","f-kind","f-label"].forEach(function(id){
  document.getElementById(id).addEventListener("change",apply);});
apply();document.body.setAttribute("data-ready","1");
})();
"""


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _char_span(span: Span) -> CharSpan:
    return (span.start_char, span.end_char, span.label_)


def _entities(doc: Doc, span_key: Optional[str]) -> List[Span]:
    if span_key is None:
        return list(doc.ents)
    return list(doc.spans[span_key]) if span_key in doc.spans else []


def _relation_keys(doc: Doc) -> Dict[RelKey, float]:
    return {(_char_span(r.head), _char_span(r.tail), r.label): float(r.score)
            for r in get_relations(doc)}


class Context:
    """Marks spans in a window of a doc's text with displaCy's entity renderer."""

    def __init__(self, colors: Dict[str, str]):
        from importlib import import_module

        renderer_cls = import_module("spacy.displacy.render").EntityRenderer
        self.renderer = renderer_cls({"template": TEMPLATE})
        self.colors = colors

    def window(self, doc: Doc, start: int, end: int) -> Tuple[int, int]:
        """The sentence(s) around [start, end) in chars, at most CONTEXT_CHARS each side."""
        lo, hi = max(0, start - CONTEXT_CHARS), min(len(doc.text), end + CONTEXT_CHARS)
        if doc.has_annotation("SENT_START") and len(doc):
            first = doc.char_span(start, end, alignment_mode="expand")
            if first is not None:
                lo = max(lo, first.sent.start_char)
                last = doc[first.end - 1].sent
                hi = min(hi, last.end_char)
        return lo, hi

    def mark(self, doc: Doc, lo: int, hi: int, spans: Sequence[CharSpan],
             focus: Sequence[CharSpan]) -> str:
        chosen: List[CharSpan] = []
        for span in sorted(set(spans) | set(focus), key=lambda s: (s[0], -s[1])):
            s, e, _ = span
            if s < lo or e > hi or any(s < ce and cs < e for cs, ce, _ in chosen):
                continue
            chosen.append(span)
        chosen.sort()
        ents = [{"start": s - lo, "end": e - lo, "label": lab,
                 "params": {"cls": " focus" if (s, e, lab) in focus else "",
                            "bg": self.colors.get(lab, "#ddd"), "label": _esc(lab)}}
                for s, e, lab in chosen]
        prefix = "…" if lo > 0 else ""
        suffix = "…" if hi < len(doc.text) else ""
        return prefix + self.renderer.render_ents(doc.text[lo:hi], ents, None) + suffix


def _doc_id(doc: Doc, i: int) -> str:
    value = extension_value(doc, "note_id", None)
    return str(value) if value else f"doc {i + 1}"


def collect_errors(examples: Sequence[Example], span_key: Optional[str] = None,
                   cats_mode: str = "exclusive", threshold: float = 0.5) -> Dict[str, List[Dict]]:
    """{"entities": [...], "relations": [...], "categories": [...]}: one dict per error."""
    out: Dict[str, List[Dict]] = {"entities": [], "relations": [], "categories": []}
    for i, eg in enumerate(examples):
        gold, pred = eg.reference, eg.predicted
        if annotates(gold, ENTITIES):
            g = {_char_span(s) for s in _entities(gold, span_key)}
            p = {_char_span(s) for s in _entities(pred, span_key)}
            for kind, spans in (("FP", p - g), ("FN", g - p)):
                for span in sorted(spans):
                    out["entities"].append({"doc": i, "kind": kind, "label": span[2],
                                            "span": span})
        if annotates(gold, RELATIONS):
            g_rel, p_rel = _relation_keys(gold), _relation_keys(pred)
            for kind, keys in (("FP", set(p_rel) - set(g_rel)), ("FN", set(g_rel) - set(p_rel))):
                for key in sorted(keys):
                    score = p_rel.get(key)
                    out["relations"].append({"doc": i, "kind": kind, "label": key[2],
                                             "key": key, "score": score})
        if annotates(gold, CATEGORIES) and gold.cats:
            labels = sorted(gold.cats)
            gold_pos = {lab for lab in labels if gold.cats[lab] >= GOLD_POSITIVE}
            scores = {lab: float(pred.cats.get(lab, 0.0)) for lab in labels}
            if cats_mode == "exclusive":
                if len(gold_pos) != 1:
                    continue
                best = max(labels, key=lambda lab: scores[lab])
                pred_pos = {best}
            else:
                pred_pos = {lab for lab in labels if scores[lab] >= threshold}
            if pred_pos != gold_pos:
                for lab in sorted(pred_pos - gold_pos):
                    out["categories"].append({"doc": i, "kind": "FP", "label": lab,
                                              "gold": sorted(gold_pos), "scores": scores})
                for lab in sorted(gold_pos - pred_pos):
                    out["categories"].append({"doc": i, "kind": "FN", "label": lab,
                                              "gold": sorted(gold_pos), "scores": scores})
    return out


def render_error_browser(examples: Sequence[Example], metrics: Dict,
                         span_key: Optional[str] = None, max_rows: int = 2000) -> str:
    from ..render.colors import label_colors

    cats = metrics.get("categories") or {}
    errors = collect_errors(examples, span_key, cats.get("mode", "exclusive"),
                            cats.get("threshold", 0.5))
    errors = {part: items for part, items in errors.items() if part in metrics}
    labels = sorted({s.label_ for eg in examples for doc in (eg.reference, eg.predicted)
                     for s in _entities(doc, span_key)})
    ctx = Context(label_colors(labels))
    rows: List[str] = []
    left_out: Dict[str, int] = {}
    for part, items in errors.items():
        if len(items) > max_rows:
            left_out[part] = len(items) - max_rows
        for item in items[:max_rows]:
            rows.append(_row(part, item, examples, ctx, span_key))
    all_labels = sorted({e["label"] for items in errors.values() for e in items})
    counts = {part: {k: sum(e["kind"] == k for e in items) for k in ("FP", "FN")}
              for part, items in errors.items()}
    model = metrics.get("model", {})
    data_path = metrics.get("data", {}).get("path", "")
    title = f"Errors of {model.get('name', 'the pipeline')} on {data_path}"
    summary = "; ".join(f"{part}: {c['FP']} false positives, {c['FN']} false negatives"
                        for part, c in counts.items())
    summary = summary or "no part was evaluated"
    notes = "".join(f"<p class=\"muted\">{part}: {n} more errors not shown (the first "
                    f"{max_rows} are).</p>" for part, n in left_out.items())
    options = "".join(f'<option value="{_esc(lab)}">{_esc(lab)}</option>' for lab in all_labels)
    controls = (
        '<div class="controls">part <select id="f-part"><option value="">all</option>'
        '<option value="entities">entities</option><option value="relations">relations</option>'
        '<option value="categories">categories</option></select>'
        'error <select id="f-kind"><option value="">FP and FN</option>'
        '<option value="FP">false positives</option><option value="FN">false negatives</option>'
        f'</select>label <select id="f-label"><option value="">all</option>{options}</select>'
        f'<span class="muted"><span id="shown">{len(rows)}</span> shown</span></div>'
    )
    table = ('<table class="errors"><tr><th>part</th><th>error</th><th>label</th><th>doc</th>'
             "<th>gold</th><th>predicted</th></tr>" + "".join(rows) + "</table>")
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_esc(title)}</title><style>{CSS}{EXTRA_CSS}</style></head><body>"
        f'<header class="page"><h1>{_esc(title)}</h1><p class="summary">{_esc(summary)}. '
        "FP: predicted, not in the gold; FN: in the gold, not predicted. Counted on the docs "
        f"that annotate each layer, as in report.md.</p>{controls}</header>"
        f"<main>{notes}{table}</main><script>{JS}</script></body></html>"
    )


def _row(part: str, item: Dict, examples: Sequence[Example], ctx: Context,
         span_key: Optional[str]) -> str:
    eg = examples[item["doc"]]
    gold, pred = eg.reference, eg.predicted
    g_ents = [_char_span(s) for s in _entities(gold, span_key)]
    p_ents = [_char_span(s) for s in _entities(pred, span_key)]
    if part == "entities":
        focus = [item["span"]]
        lo, hi = ctx.window(pred, item["span"][0], item["span"][1])
        what = _esc(pred.text[item["span"][0]:item["span"][1]])
        g_cell = ctx.mark(gold, lo, hi, g_ents, focus if item["kind"] == "FN" else [])
        p_cell = ctx.mark(pred, lo, hi, p_ents, focus if item["kind"] == "FP" else [])
        detail = f"<br><span class=\"muted\">{what}</span>"
    elif part == "relations":
        head, tail, label = item["key"]
        focus = [head, tail]
        lo, hi = ctx.window(pred, min(head[0], tail[0]), max(head[1], tail[1]))
        rel = (f"{_esc(pred.text[head[0]:head[1]])} → {_esc(pred.text[tail[0]:tail[1]])}")
        if item["score"] is not None:
            rel += f" ({item['score']:.2f})"
        g_cell = ctx.mark(gold, lo, hi, g_ents, focus if item["kind"] == "FN" else [])
        p_cell = ctx.mark(pred, lo, hi, p_ents, focus if item["kind"] == "FP" else [])
        detail = f"<br><span class=\"muted\">{rel}</span>"
    else:
        text = pred.text[:300] + ("…" if len(pred.text) > 300 else "")
        top = sorted(item["scores"].items(), key=lambda kv: -kv[1])[:4]
        g_cell = _esc(", ".join(item["gold"]) or "(no positive label)")
        g_cell += f'<br><span class="muted">{_esc(text)}</span>'
        p_cell = ", ".join(f"{_esc(k)} {v:.2f}" for k, v in top)
        detail = ""
    return (f'<tr class="err" data-part="{part}" data-kind="{item["kind"]}" '
            f'data-label="{_esc(item["label"])}"><td>{part}</td>'
            f'<td class="kind-{item["kind"]}">{item["kind"]}</td><td>{_esc(item["label"])}'
            f'{detail}</td><td>{_esc(_doc_id(gold, item["doc"]))}</td>'
            f'<td class="ctx">{g_cell}</td><td class="ctx">{p_cell}</td></tr>')


def write_error_browser(examples: Sequence[Example], metrics: Dict, output_dir: Path,
                        span_key: Optional[str] = None) -> Path:
    path = Path(output_dir) / HTML_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_error_browser(examples, metrics, span_key), encoding="utf8")
    return path
