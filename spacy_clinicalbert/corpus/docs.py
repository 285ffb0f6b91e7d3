"""AnnotatedText → Doc, following the Doc data model (design.md §2).

- `doc.spans["entities"]`: every entity that aligned, overlapping or not. A
  discontinuous entity is one span from its first to its last fragment (so
  relations and spancat can use it); its fragments go to `doc.spans["entity_fragments"]`.
- `doc.ents`: a non-overlapping selection (policy below); what is left out is counted.
- `doc.spans["entity_attributes"]`: one span per attribute (BRAT A/M, i2b2 assertion),
  on the entity's tokens, labelled `Name` or `Name=Value`.
- relations: through `spacy_clinicalbert.relations.data` only, score 1.0.
- `doc.cats`: as read.
- `doc._.note_id`: the record id (file stem, PMID, row), for tracing results back.
- annotation layers (`spacy_clinicalbert.layers`): recorded on every doc. A layer the
  record does not annotate stays missing: no `doc.ents` set (ENT_IOB unset, not `O`),
  no `doc.spans["entities"]`, no keys in `doc.cats`.

`doc.ents` policy (`ents_policy`):
- `longest` (default): longer spans win, then the earlier one (spaCy's `filter_spans`);
  for ADE this keeps the AE `lithium toxicity` over the DRUG `lithium` inside it.
- `first`: the earliest start wins, then the longer one.
Discontinuous entities take part in `doc.ents` as their fragments (`discontinuous="fragments"`,
default), as their whole extent (`"hull"`), or not at all (`"skip"`).
"""
import re
from dataclasses import dataclass
from typing import Dict, List, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..layers import ATTRIBUTES, CATEGORIES, ENTITIES, RELATIONS, set_layers
from ..relations.data import Relation, relation_key, set_relations
from ..text import prepare_clinical_text
from .alignment import align_span
from .records import AnnotatedText, CorpusError
from .stats import ConversionStats

ENTS_POLICIES = ("longest", "first")
DISCONTINUOUS_POLICIES = ("fragments", "hull", "skip")
MISMATCH_POLICIES = ("error", "keep", "skip")
_SPACE = re.compile(r"\s+")


def install_extensions() -> None:
    if not Doc.has_extension("note_id"):
        Doc.set_extension("note_id", default=None)


@dataclass
class BuildOptions:
    alignment: str = "expand"
    ents_policy: str = "longest"
    discontinuous: str = "fragments"
    on_mismatch: str = "error"
    prepare: bool = False

    def check(self) -> None:
        from .alignment import ALIGNMENT_MODES

        for name, value, allowed in (
            ("alignment", self.alignment, ALIGNMENT_MODES),
            ("ents_policy", self.ents_policy, ENTS_POLICIES),
            ("discontinuous", self.discontinuous, DISCONTINUOUS_POLICIES),
            ("on_mismatch", self.on_mismatch, MISMATCH_POLICIES),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _text_matches(claimed: str, actual: str) -> bool:
    """Whitespace-insensitive (BRAT joins fragments with a space; Chia's ann text
    drops the `\r` its offsets count); case-insensitive (i2b2 lower-cases concepts)."""
    return _norm(claimed).lower() == _norm(actual).lower()


def select_ents(spans: List[Span], policy: str) -> Tuple[List[Span], List[Span]]:
    """Non-overlapping spans by policy, and the ones set aside."""
    if policy == "longest":
        order = sorted(spans, key=lambda s: (-(s.end - s.start), s.start, s.label_))
    else:
        order = sorted(spans, key=lambda s: (s.start, -(s.end - s.start), s.label_))
    taken: Set[int] = set()
    kept, aside = [], []
    for span in order:
        if any(i in taken for i in range(span.start, span.end)):
            aside.append(span)
            continue
        kept.append(span)
        taken.update(range(span.start, span.end))
    return sorted(kept, key=lambda s: s.start), aside


def record_layers(record: AnnotatedText) -> frozenset:
    """The layers `record` annotates: as its reader said, else those that hold something.
    A reader that says a layer is missing while the record holds it contradicts itself."""
    held = {
        ENTITIES: bool(record.entities), RELATIONS: bool(record.relations),
        ATTRIBUTES: bool(record.attributes), CATEGORIES: bool(record.cats),
    }
    if record.layers is None:
        return frozenset(layer for layer, has in held.items() if has)
    for layer, has in held.items():
        if has and layer not in record.layers:
            raise CorpusError(
                record.source,
                f"record {record.id} holds {layer} but its reader marks them not annotated",
            )
    return record.layers


def _make_doc(nlp: Language, record: AnnotatedText) -> Doc:
    if record.words is not None:
        return Doc(
            nlp.vocab,
            words=record.words,
            spaces=record.spaces,
            # spaCy's stub wants a list of bool | int | None (lists are invariant).
            sent_starts=record.sent_starts,  # type: ignore[arg-type]
        )
    return nlp.make_doc(record.text)


def build_doc(
    nlp: Language, record: AnnotatedText, opts: BuildOptions, stats: ConversionStats
) -> Doc:
    install_extensions()
    text = record.text
    prepared = None
    if opts.prepare and record.words is None:
        prepared = prepare_clinical_text(text)
        if prepared.changed:
            stats.repair("text_prepared")
        text = prepared.text
    doc = _make_doc(
        nlp, record if prepared is None else AnnotatedText(**{**record.__dict__, "text": text})
    )
    if record.words is not None and doc.text != record.text:
        raise CorpusError(record.source, f"record {record.id}: tokens do not rebuild the text")
    doc._.note_id = record.id
    layers = record_layers(record)
    set_layers(doc, layers)
    doc_text = doc.text  # built once: Doc.text joins all tokens on every access

    spans: Dict[str, Span] = {}
    fragments: List[Span] = []
    ent_candidates: List[Span] = []
    for ent in record.entities:
        stats.read_entities[ent.label] += 1
        for s, e in ent.fragments:
            if not (0 <= s < e <= len(record.text)):
                raise CorpusError(
                    ent.where,
                    f"entity {ent.id} ({ent.label}) offsets {s}-{e} fall outside the text "
                    f"(length {len(record.text)})",
                )
        if ent.text is not None:
            actual = " ".join(record.text[s:e] for s, e in ent.fragments)
            if not _text_matches(ent.text, actual):
                if opts.on_mismatch == "error":
                    raise CorpusError(
                        ent.where,
                        f"entity {ent.id} ({ent.label}) text {ent.text!r} does not match the text "
                        f"at its offsets {actual!r} (use --on-mismatch keep/skip to go on)",
                    )
                if opts.on_mismatch == "skip":
                    stats.omit("entity_text_mismatch", ent.where)
                    continue
                stats.repair("entity_text_mismatch_kept", ent.where)
        frag_spans = []
        for s, e in sorted(ent.fragments):
            if prepared is not None:
                s, e = prepared.span_to_prepared(s, e)
            span = align_span(doc, s, e, ent.label, opts.alignment, stats, ent.where, doc_text)
            if span is not None:
                frag_spans.append(span)
        if len(frag_spans) < len(ent.fragments):
            if not frag_spans:
                stats.omit("entity_unaligned", ent.where)
                continue
            stats.omit("entity_fragment_unaligned", ent.where, len(ent.fragments) - len(frag_spans))
        whole = Span(doc, frag_spans[0].start, max(f.end for f in frag_spans), label=ent.label)
        spans[ent.id] = whole
        if len(ent.fragments) > 1:
            stats.note("entities_discontinuous", ent.where)
            fragments.extend(frag_spans)
            if opts.discontinuous == "fragments":
                ent_candidates.extend(frag_spans)
            elif opts.discontinuous == "hull":
                ent_candidates.append(whole)
            else:
                stats.omit("ents_set_aside_discontinuous", ent.where)
        else:
            ent_candidates.append(whole)

    # Identical spans with the same label (two ids, or fragments of two entities) are one ent.
    unique: Dict[Tuple[int, int, str], Span] = {}
    for span in ent_candidates:
        unique.setdefault((span.start, span.end, span.label_), span)
    kept, aside = select_ents(list(unique.values()), opts.ents_policy)
    if ENTITIES in layers:  # else ENT_IOB stays missing: ner learns nothing from this doc
        doc.ents = kept
        doc.spans["entities"] = list(spans.values())
    if aside:
        stats.omit("ents_set_aside_overlap", f"{record.source} ({record.id})", len(aside))
        for span in aside:
            stats.omit(f"ents_set_aside_overlap:{span.label_}", None)
    if fragments:
        doc.spans["entity_fragments"] = fragments

    attr_spans = []
    for attr in record.attributes:
        target = spans.get(attr.target)
        if target is None:
            if attr.target in {e.id for e in record.entities}:
                stats.omit("attribute_of_dropped_entity", attr.where)
                continue
            raise CorpusError(
                attr.where, f"attribute {attr.name} refers to unknown entity {attr.target!r}"
            )
        attr_spans.append(Span(doc, target.start, target.end, label=attr.span_label))
    if attr_spans:
        doc.spans["entity_attributes"] = attr_spans

    relations = []
    known = {e.id for e in record.entities}
    for rel in record.relations:
        stats.read_relations[rel.label] += 1
        for role, ref in (("head", rel.head), ("tail", rel.tail)):
            if ref not in known:
                raise CorpusError(
                    rel.where, f"relation {rel.label} {role} refers to unknown entity {ref!r}"
                )
        head, tail = spans.get(rel.head), spans.get(rel.tail)
        if head is None or tail is None:
            stats.omit("relation_with_dropped_entity", rel.where)
            continue
        relations.append(Relation(head, tail, rel.label, 1.0))
    seen_keys = set()
    for relation in relations:
        key = relation_key(relation)
        if key in seen_keys:
            # Same label between the same token spans: one relation in the doc.
            stats.omit("relation_duplicate_merged", record.source)
            stats.omit(f"relation_duplicate_merged:{relation.label}", None)
        seen_keys.add(key)
    if relations:
        set_relations(doc, relations)
    doc.cats = dict(record.cats)  # empty when the layer is missing: textcat then masks the doc out
    return doc
