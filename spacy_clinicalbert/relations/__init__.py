"""Relations between entities: the data model (here) and, in sibling modules, the
candidate generator, the training-pair policy, the model, the `clinical_relations`
component and its scorer."""
from .candidates import CandidateGenerator
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
from .gold_entities import copy_gold_entities
from .scorer import score_relations
from .training_pairs import TrainingPairs

install_extensions()

__all__ = [
    "CandidateGenerator",
    "Relation",
    "add_relation",
    "clear_relations",
    "copy_gold_entities",
    "get_relations",
    "has_relations",
    "install_extensions",
    "relation_key",
    "score_relations",
    "set_relations",
    "TrainingPairs",
]
