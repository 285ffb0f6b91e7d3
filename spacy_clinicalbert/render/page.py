"""`render(docs) -> str`: one self-contained HTML page (inline CSS, JS and SVG, nothing
fetched) for one or many notes, with optional attribution heat maps."""
import html
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from spacy.tokens import Doc

from .assets import ARROW_DEFS, CSS, JS
from .colors import label_colors
from .heatmap import render_attribution
from .note import NoteCounts, NoteRenderer, note_id, note_labels


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def render(
    docs: Union[Doc, Iterable[Doc]],
    *,
    title: str = "spacy-clinicalbert",
    note_ids: Optional[Sequence[str]] = None,
    attributions: Optional[Iterable[Any]] = None,
    spans_key: Optional[str] = None,
    max_block_tokens: int = 120,
    stats: Optional[List[NoteCounts]] = None,
) -> str:
    """The page for `docs` (processed by a pipeline), as a string.

    Shows per note: categories with scores, entities coloured by label with their
    assertion badges, PHI spans (`doc.spans["phi"]`), sections, relation arcs with
    scores inside blocks of at most `max_block_tokens` tokens, and a relation table.
    `attributions` (from `spacy_clinicalbert.explain`) are drawn as heat maps under the
    note they belong to. `spans_key` shows `doc.spans[spans_key]` as the entities instead
    of `doc.ents`. `stats`, if given, receives what each note held and could not draw.
    """
    docs = [docs] if isinstance(docs, Doc) else list(docs)
    if note_ids is not None and len(note_ids) != len(docs):
        raise ValueError(f"note_ids has {len(note_ids)} ids for {len(docs)} docs")
    by_doc: Dict[int, List[Any]] = {}
    orphans: List[Any] = []
    doc_index = {id(doc): i for i, doc in enumerate(docs)}
    for attribution in attributions or ():
        i = doc_index.get(id(attribution.doc))
        if i is None:
            orphans.append(attribution)
        else:
            by_doc.setdefault(i, []).append(attribution)
    if orphans:
        raise ValueError(f"{len(orphans)} attributions belong to docs not given to render: "
                         "pass the docs that explain() was called with")
    labels = note_labels(docs, spans_key)
    colors = label_colors(labels)
    renderer = NoteRenderer(colors, spans_key=spans_key, max_block_tokens=max_block_tokens)
    notes = []
    n_attr = 0
    for i, doc in enumerate(docs):
        heat = ""
        for attribution in by_doc.get(i, []):
            heat += render_attribution(attribution, n_attr)
            n_attr += 1
        nid = note_ids[i] if note_ids is not None else note_id(doc, i)
        markup, counts = renderer.render(doc, i, nid, extra="")
        if heat:
            markup = markup.replace("</article>", heat + "</article>")
        notes.append(markup)
        if stats is not None:
            stats.append(counts)
    return page(title, notes, labels, colors)


def page(title: str, bodies: List[str], labels: List[str], colors: Dict[str, str],
         header_extra: str = "") -> str:
    filters = "".join(
        f'<label><input type="checkbox" checked data-label="{_esc(label)}">'
        f'<span class="swatch" style="background:{colors[label]}"></span>{_esc(label)}</label>'
        for label in labels
    )
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width\"><title>{_esc(title)}</title>"
        f"<style>{CSS}</style></head><body>{ARROW_DEFS}"
        f'<header class="page"><h1>{_esc(title)}</h1>'
        f'<div class="filters">{filters}</div>{header_extra}</header>'
        f"<main>{''.join(bodies)}</main><script>{JS}</script></body></html>"
    )
