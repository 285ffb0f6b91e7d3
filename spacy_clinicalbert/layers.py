"""Annotation layers: which kinds of gold annotation a document carries.

"Not annotated" and "annotated as nothing" are different facts (design.md §2). ADE
annotates entities only in its ADE sentences; its ADE-NEG sentences annotate their
category and nothing else. A layer a doc does not annotate is *missing*:

- entities: `ENT_IOB` stays unset (spaCy's missing value, never `O`), so `ner`
  computes no loss there and spaCy's `Scorer` skips the doc;
- categories: no key in `doc.cats` (spaCy's textcat masks a missing label out of its loss);
- relations, attributes: nothing is stored, and this record says the doc is not to
  be trained or scored on them.

Converters record the layers with `set_layers`; training and evaluation ask
`annotates`. This module owns the `user_data` key. A doc that carries no record
(made by spaCy's own converters or by hand) is judged by its content, as spaCy does
for entities: entities if `ENT_IOB` is set, categories if `doc.cats` has keys,
relations if it has any or its entities are set, attributes if it has an
`entity_attributes` group.
"""
from typing import FrozenSet, Iterable, Optional

from spacy.tokens import Doc

from .relations.data import has_relations

ENTITIES = "entities"
RELATIONS = "relations"
CATEGORIES = "categories"
ATTRIBUTES = "attributes"
LAYERS = (ENTITIES, RELATIONS, CATEGORIES, ATTRIBUTES)
USER_DATA_KEY = "spacy_clinicalbert.layers"


def check_layers(layers: Iterable[str]) -> FrozenSet[str]:
    found = frozenset(layers)
    unknown = sorted(found - set(LAYERS))
    if unknown:
        raise ValueError(
            f"unknown annotation layer(s) {', '.join(unknown)}; choose from {', '.join(LAYERS)}"
        )
    return found


def parse_layers(value: str) -> FrozenSet[str]:
    """"entities,relations" → {"entities", "relations"}; "" → nothing."""
    return check_layers(part.strip() for part in value.split(",") if part.strip())


def set_layers(doc: Doc, layers: Iterable[str]) -> None:
    """Record the layers `doc` annotates (the others are missing)."""
    doc.user_data[USER_DATA_KEY] = sorted(check_layers(layers))


def recorded_layers(doc: Doc) -> Optional[FrozenSet[str]]:
    """The layers a converter recorded for `doc`, or None when nothing was recorded."""
    stored = doc.user_data.get(USER_DATA_KEY)
    return None if stored is None else frozenset(stored)


def annotates(doc: Doc, layer: str) -> bool:
    """Does gold doc `doc` annotate `layer` (so training and scoring may use it)?"""
    recorded = recorded_layers(doc)
    if recorded is not None:
        return layer in recorded
    if layer == ENTITIES:
        return doc.has_annotation("ENT_IOB")
    if layer == CATEGORIES:
        return bool(doc.cats)
    if layer == RELATIONS:  # a doc with gold entities and no relation says "none here"
        return has_relations(doc) or doc.has_annotation("ENT_IOB")
    if layer == ATTRIBUTES:
        return "entity_attributes" in doc.spans
    raise ValueError(f"unknown annotation layer {layer!r}; choose from {', '.join(LAYERS)}")


def doc_layers(doc: Doc) -> FrozenSet[str]:
    """Every layer `doc` annotates."""
    return frozenset(layer for layer in LAYERS if annotates(doc, layer))
