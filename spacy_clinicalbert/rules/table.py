"""The tabular EHR view: one row per entity, ready for pandas, SQL or a spreadsheet.

Each row holds the document id, the entity's label, text and character
offsets, where it came from (model or rule), its section, the five ConText
flags with the cues that set them, and its relations (from
`spacy_clinicalbert.relations.data.get_relations`) as a list of small dicts.
Everything in a row is JSON-safe. The `table` command writes these rows through
`annotate` (`--schema entities`); `annotate` also uses the section and extension
helpers here for its OMOP rows.
"""
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from spacy.tokens import Doc, Span

from ..relations.data import get_relations
from .assertions import ASSERTION_FLAGS as FLAGS

COLUMNS = (
    "doc_id", "ent_id", "label", "text", "start_char", "end_char", "source", "rule", "section",
    *FLAGS, "assertion_cues", "relations",
)


def extension_value(obj, name: str, default=None):
    """An extension's value, or `default` when no component registered it."""
    cls = type(obj)
    if not cls.has_extension(name):
        return default
    return getattr(obj._, name)


def section_index(doc: Doc) -> List[Tuple[int, int, Optional[str]]]:
    sections = extension_value(doc, "sections", None) or []
    out = []
    for section in sections:
        # medspaCy Section objects, or their dict form when read without medspaCy.
        if isinstance(section, dict):
            section = section.get("section", section)
            out.append((section["title_start"], section["body_end"], section.get("category")))
        else:
            start, end = section.section_span
            out.append((start, end, section.category))
    return out


def section_of(index: List[Tuple[int, int, Optional[str]]], span: Span) -> Optional[str]:
    for start, end, category in index:
        if start <= span.start < end:
            return category
    return None


def _relations_by_entity(doc: Doc) -> Dict[Tuple[int, int, str], List[Dict[str, Any]]]:
    table: Dict[Tuple[int, int, str], List[Dict[str, Any]]] = {}
    for rel in get_relations(doc):
        for role, this, other in (("head", rel.head, rel.tail), ("tail", rel.tail, rel.head)):
            table.setdefault((this.start, this.end, this.label_), []).append(
                {
                    "label": rel.label,
                    "role": role,
                    "other_text": other.text,
                    "other_label": other.label_,
                    "other_start_char": other.start_char,
                    "other_end_char": other.end_char,
                    "score": round(float(rel.score), 4),
                }
            )
    return table


def entity_rows(
    doc: Doc, doc_id: Any = None, *, spans_key: Optional[str] = None
) -> List[Dict[str, Any]]:
    """One row per entity of `doc` (or of `doc.spans[spans_key]`)."""
    spans: Sequence[Span] = doc.ents if spans_key is None else list(doc.spans.get(spans_key, []))
    sections = section_index(doc)
    relations = _relations_by_entity(doc)
    rows = []
    for i, span in enumerate(spans):
        rule = extension_value(span, "clinical_rule", None)
        cues = extension_value(span, "context_cues", ()) or ()
        row = {
            "doc_id": doc_id,
            "ent_id": i,
            "label": span.label_,
            "text": span.text,
            "start_char": span.start_char,
            "end_char": span.end_char,
            "source": "rule" if rule else "model",
            "rule": rule,
            "section": section_of(sections, span),
        }
        for flag in FLAGS:
            row[flag] = bool(extension_value(span, flag, False))
        row["assertion_cues"] = [f"{cue['category']}:{cue['text']}" for cue in cues]
        row["relations"] = relations.get((span.start, span.end, span.label_), [])
        rows.append(row)
    return rows


def docs_to_rows(
    docs: Iterable[Doc], ids: Optional[Iterable[Any]] = None, *, spans_key: Optional[str] = None
) -> List[Dict[str, Any]]:
    """Rows for many docs; ids default to the position of each doc."""
    rows: List[Dict[str, Any]] = []
    if ids is None:
        for i, doc in enumerate(docs):
            rows.extend(entity_rows(doc, i, spans_key=spans_key))
    else:
        # Extra ids are ignored (an open-ended iterable such as itertools.count() works).
        for doc, doc_id in zip(docs, ids, strict=False):
            rows.extend(entity_rows(doc, doc_id, spans_key=spans_key))
    return rows


def to_dataframe(rows_or_docs: Union[Iterable[Dict[str, Any]], Iterable[Doc]]):
    """A pandas DataFrame with the columns in `COLUMNS` (pandas imported here only)."""
    import pandas as pd

    items: List[Any] = list(rows_or_docs)
    if items and isinstance(items[0], Doc):
        items = docs_to_rows(items)
    return pd.DataFrame(items, columns=list(COLUMNS))
