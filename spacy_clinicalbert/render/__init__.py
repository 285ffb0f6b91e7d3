"""HTML views of what a pipeline found: `render(docs)` returns a self-contained page
(entities, relations, assertions, sections, categories, PHI, attribution heat maps).

`spacy_clinicalbert.render` is both this subpackage and the function: Python binds a
subpackage to its parent's attribute on import, which would hide a function of the same
name, so the module itself is made callable (a documented module `__class__` swap).
"""
import sys
import types

from .page import render


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return render(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["render"]
