"""spacy-clinicalbert: ClinicalBERT for spaCy.

Importing is cheap (no torch work): spaCy finds the components through entry
points, so `spacy.load` and `spacy train` need no import of this package.
"""
from .about import __version__
from .relations import Relation, add_relation, get_relations, set_relations

__all__ = ["__version__", "Relation", "add_relation", "get_relations", "set_relations",
           "render", "explain", "annotate"]


def __getattr__(name):
    """`render`, `explain` and `annotate` load on first use (each is a callable subpackage),
    so that importing the package stays cheap."""
    if name in ("render", "explain", "annotate"):
        from importlib import import_module

        return import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
