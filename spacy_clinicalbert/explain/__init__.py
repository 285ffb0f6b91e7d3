"""Token attributions: `explain(nlp, doc, target)` says how much each token moved the score
of an entity, a relation or a category, by integrated gradients through the encoder and the
component's head, with occlusion as the model-agnostic check.

Like `spacy_clinicalbert.render`, this subpackage is callable: `spacy_clinicalbert.explain(...)`.
"""
import sys
import types

from .api import Attribution, explain
from .target import Target, category_target, entity_target, relation_target


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["Attribution", "Target", "category_target", "entity_target", "explain",
           "relation_target"]
