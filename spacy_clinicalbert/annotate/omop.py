"""Docs to rows: OMOP CDM v5.4 `NOTE_NLP` plus our relation and category tables.

Field by field (OMOP's own definitions, and what we put there):
- `note_nlp_id`: a stable 63-bit hash of the note id and the entity's index, so the
  local, multi-process and Spark engines give the same ids without a shared counter;
- `offset`: the entity's start character in the note, so
  `text[int(offset):int(offset) + len(lexical_variant)] == lexical_variant`;
- `snippet`: up to 250 characters of the note around the entity, containing it;
- `section_concept_id`, `note_nlp_concept_id`, `note_nlp_source_concept_id`: 0 until
  sections and entities are linked to concepts (the section's name is in `term_modifiers`);
- `term_exists`: "N" when ConText found the entity negated, hypothetical or about
  the family, else "Y"; NULL when the pipeline has no ConText (not annotated is not
  annotated as "exists");
- `term_temporal`: "past" for historical entities, "present" otherwise; NULL without ConText;
- `term_modifiers`: `label=...;source=model|rule;section=...;negated=true|false;...;cues=...`;
- `nlp_system`: pipeline name and version, and the base model from its meta.json.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..relations.data import get_relations
from ..rules.assertions import ASSERTION_FLAGS
from ..rules.table import extension_value, section_index, section_of
from .records import Note, stable_int
from .schema import SCHEMAS

SNIPPET_CHARS = 250
NOT_EXISTING = ("is_negated", "is_hypothetical", "is_family")
Rows = Dict[str, List[Dict[str, Any]]]


@dataclass
class RowContext:
    """What every row of a run shares (picklable: workers and Spark executors get a copy)."""

    nlp_system: str
    nlp_datetime: dt.datetime
    has_context: bool
    has_sections: bool
    spans_key: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def nlp_date(self) -> dt.date:
        return self.nlp_datetime.date()


ENCODER_FACTORIES = {"clinicalbert", "transformer"}
CONTEXT_FACTORIES = {"clinical_context", "medspacy_context"}
SECTION_FACTORIES = {"clinical_sectionizer", "medspacy_sectionizer"}


def _system_name(meta: Dict[str, Any], components: Dict[str, Any], int8: bool) -> str:
    """'NAME VERSION (base model BASE[; encoder int8])' from a pipeline's meta and config."""
    name = f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}"
    base = meta.get("base_model") or (meta.get("clinicalbert") or {}).get("base_model_used")
    if not base:  # an unpackaged pipeline: the encoder's model name in its config
        for component in components.values():
            if component.get("factory") in ENCODER_FACTORIES:
                model = component.get("model", {})
                base = model.get("name") if isinstance(model.get("name"), str) else None
                break
    text = f"{name} {meta.get('version', '0.0.0')}"
    notes = [f"base model {base}"] if base else []
    if int8:
        notes.append("encoder int8")
    return f"{text} ({'; '.join(notes)})" if notes else text


def nlp_system(nlp: Language) -> str:
    """'NAME VERSION (base model BASE)' from the pipeline's meta."""
    components = {n: nlp.config["components"][n] for n in nlp.pipe_names}
    return _system_name(nlp.meta or {}, components, _runs_int8(nlp))


def _runs_int8(nlp: Language) -> bool:
    if not any(f in ENCODER_FACTORIES for f in nlp.pipe_factories.values()):
        return False
    from ..transformer.quantization import is_quantized

    return is_quantized(nlp)


def _context(
    factories: set, system: str, spans_key: Optional[str], nlp_datetime: Optional[dt.datetime]
) -> RowContext:
    when = nlp_datetime or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    return RowContext(
        system,
        when,
        bool(factories & CONTEXT_FACTORIES),
        bool(factories & SECTION_FACTORIES),
        spans_key,
    )


def row_context(
    nlp: Language, *, spans_key: Optional[str] = None, nlp_datetime: Optional[dt.datetime] = None
) -> RowContext:
    factories = {nlp.get_pipe_meta(name).factory for name in nlp.pipe_names}
    return _context(factories, nlp_system(nlp), spans_key, nlp_datetime)


def pipeline_folder(pipeline: str) -> Optional[Path]:
    """The folder holding `pipeline`'s config.cfg: the path itself, or an installed package's
    data folder; None when neither is found."""
    import spacy

    path = Path(pipeline).expanduser()
    if (path / "config.cfg").exists():
        return path
    if not path.exists() and spacy.util.is_package(pipeline):
        package = spacy.util.get_package_path(pipeline)
        found = sorted(package.glob("*/config.cfg"))
        if len(found) == 1:
            return found[0].parent
    return None


def pipeline_context(
    pipeline: str,
    *,
    int8: bool = False,
    spans_key: Optional[str] = None,
    nlp_datetime: Optional[dt.datetime] = None,
) -> RowContext:
    """The RowContext of a saved or installed pipeline from its config.cfg and meta.json alone.

    Spark's driver and the parent of `--n-process` workers never run the pipeline, so they
    need not load its weights (a ClinicalBERT in a small driver's memory) to name it. A name
    that is neither a folder nor a package is loaded, so spaCy gives its own error.
    """
    import spacy
    import srsly

    folder = pipeline_folder(pipeline)
    if folder is None:
        from .pipeline import load_pipeline

        return row_context(
            load_pipeline(pipeline, int8=int8), spans_key=spans_key, nlp_datetime=nlp_datetime
        )
    config = spacy.util.load_config(folder / "config.cfg", interpolate=True)
    meta = srsly.read_json(folder / "meta.json") if (folder / "meta.json").exists() else {}
    disabled = set(config["nlp"].get("disabled", []))
    components = {
        name: config["components"][name]
        for name in config["nlp"]["pipeline"]
        if name not in disabled
    }
    factories = {c.get("factory") for c in components.values()}
    int8 = int8 and bool(factories & ENCODER_FACTORIES)
    return _context(factories, _system_name(meta, components, int8), spans_key, nlp_datetime)


def snippet(text: str, start: int, end: int, width: int = SNIPPET_CHARS) -> str:
    """Up to `width` characters around text[start:end], always containing it when it fits."""
    if end - start >= width:
        return text[start : start + width]
    room = width - (end - start)
    left = max(0, start - room // 2)
    right = min(len(text), end + (room - (start - left)))
    left = max(0, min(left, right - width))
    return text[left:right]


def _flags(span: Span) -> Dict[str, bool]:
    return {flag: bool(extension_value(span, flag, False)) for flag in ASSERTION_FLAGS}


def _modifiers(span: Span, flags: Dict[str, bool], section: Optional[str], ctx: RowContext) -> str:
    parts = [
        f"label={span.label_}",
        f"source={'rule' if extension_value(span, 'clinical_rule', None) else 'model'}",
    ]
    if ctx.has_sections:
        parts.append(f"section={section or 'none'}")
    if ctx.has_context:
        parts.extend(f"{flag[3:]}={'true' if value else 'false'}" for flag, value in flags.items())
        cues = extension_value(span, "context_cues", ()) or ()
        if cues:
            parts.append("cues=" + ",".join(f"{c['category']}:{c['text']}" for c in cues))
    return ";".join(parts)


def entity_spans(doc: Doc, spans_key: Optional[str]) -> Sequence[Span]:
    return doc.ents if spans_key is None else list(doc.spans.get(spans_key, []))


def note_nlp_id(note: Note, index: int) -> int:
    return stable_int("note_nlp", note.source_id, index)


def omop_rows(doc: Doc, note: Note, ctx: RowContext) -> Rows:
    """NOTE_NLP, relation and category rows of one annotated note."""
    text = doc.text
    sections = section_index(doc)
    date, when = ctx.nlp_date, ctx.nlp_datetime
    entities: List[Dict[str, Any]] = []
    ids: Dict[Tuple[int, int, str], int] = {}
    for i, span in enumerate(entity_spans(doc, ctx.spans_key)):
        flags = _flags(span)
        section = section_of(sections, span)
        row_id = note_nlp_id(note, i)
        ids[(span.start_char, span.end_char, span.label_)] = row_id
        exists = temporal = None
        if ctx.has_context:
            exists = "N" if any(flags[f] for f in NOT_EXISTING) else "Y"
            temporal = "past" if flags["is_historical"] else "present"
        entities.append(
            {
                "note_nlp_id": row_id,
                "note_id": note.note_id,
                "section_concept_id": 0,
                "snippet": snippet(text, span.start_char, span.end_char),
                "offset": str(span.start_char),
                "lexical_variant": span.text,
                "note_nlp_concept_id": 0,
                "note_nlp_source_concept_id": 0,
                "nlp_system": ctx.nlp_system,
                "nlp_date": date,
                "nlp_datetime": when,
                "term_exists": exists,
                "term_temporal": temporal,
                "term_modifiers": _modifiers(span, flags, section, ctx),
            }
        )
    relations = []
    for rel in get_relations(doc):
        head = ids.get((rel.head.start_char, rel.head.end_char, rel.head.label_))
        tail = ids.get((rel.tail.start_char, rel.tail.end_char, rel.tail.label_))
        if head is None or tail is None:
            continue  # an end outside the tabulated spans: counted by the caller
        relations.append(
            {
                "note_nlp_relation_id": stable_int("relation", head, tail, rel.label),
                "note_id": note.note_id,
                "head_note_nlp_id": head,
                "tail_note_nlp_id": tail,
                "relation": rel.label,
                "score": round(float(rel.score), 6),
                "nlp_system": ctx.nlp_system,
                "nlp_date": date,
            }
        )
    categories = [
        {
            "note_id": note.note_id,
            "category": label,
            "score": round(float(score), 6),
            "nlp_system": ctx.nlp_system,
            "nlp_date": date,
        }
        for label, score in sorted(doc.cats.items())
    ]
    return {"note_nlp": entities, "note_nlp_relation": relations, "note_nlp_category": categories}


def entity_table_rows(doc: Doc, note: Note, ctx: RowContext) -> Rows:
    """The `table` command's rows (`rules.table.entity_rows`) for one note."""
    from ..rules.table import entity_rows

    return {"entities": entity_rows(doc, note.source_id, spans_key=ctx.spans_key)}


def done_row(
    note: Note, occurrence: int, status: str, entities: int, ctx: RowContext
) -> Dict[str, Any]:
    return {
        "note_source_id": note.source_id,
        "occurrence": occurrence,
        "note_id": note.note_id,
        "person_id": note.person_id,
        "note_date": note.note_date,
        "status": status,
        "entities": entities,
        "words": note.words,
        "nlp_system": ctx.nlp_system,
        "nlp_datetime": ctx.nlp_datetime,
    }


def fit_lengths(table: str, row: Dict[str, Any]) -> int:
    """Cut strings to the table's column lengths (OMOP's VARCHARs); returns how many were cut."""
    cut = 0
    for col in SCHEMAS[table].columns if table in SCHEMAS else ():
        value = row.get(col.name)
        if col.length and isinstance(value, str) and len(value) > col.length:
            row[col.name] = value[: col.length]
            cut += 1
    return cut
