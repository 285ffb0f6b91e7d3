"""spacy-clinicalbert: ClinicalBERT for spaCy.

Importing is cheap (no torch work): spaCy finds the components through entry
points, so `spacy.load` and `spacy train` need no import of this package.
"""
from .about import __version__
from .relations import Relation, add_relation, get_relations, set_relations

__all__ = ["__version__", "Relation", "add_relation", "get_relations", "set_relations"]
