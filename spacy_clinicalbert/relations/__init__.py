"""Relations between entities: the data model (here) and, in sibling modules, the
candidate generator, the model, the `clinical_relations` component and its scorer."""
from .data import (
    Relation,
    add_relation,
    clear_relations,
    get_relations,
    has_relations,
    install_extensions,
    relation_key,
    set_relations,
)

install_extensions()

__all__ = [
    "Relation",
    "add_relation",
    "clear_relations",
    "get_relations",
    "has_relations",
    "install_extensions",
    "relation_key",
    "set_relations",
]
