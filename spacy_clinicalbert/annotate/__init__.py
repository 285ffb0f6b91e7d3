"""Batch annotation into OMOP CDM v5.4 `NOTE_NLP` rows (and our relation and category tables).

`spacy_clinicalbert.annotate` is this subpackage and, called, the function
`annotate(pipeline, input, output, ...)` (see `run.py`): sources in `sources.py`,
rows in `omop.py`, sinks in `sinks.py`, the exactly-once protocol in `ledger.py`,
the local and multi-process engine in `engine.py`; Spark lives in `spacy_clinicalbert.spark`.
"""

import sys
import types

from .run import annotate
from .schema import NOTE_NLP, OMOP_TABLES, SCHEMAS
from .summary import Summary

__all__ = ["annotate", "NOTE_NLP", "OMOP_TABLES", "SCHEMAS", "Summary"]


class _CallableModule(types.ModuleType):
    """Lets `from spacy_clinicalbert import annotate; annotate(...)` call the function."""

    def __call__(self, *args, **kwargs):
        return annotate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
