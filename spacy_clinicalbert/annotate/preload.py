"""Imported once by the `--n-process` fork server, so each worker starts with spaCy, torch
and the modules of every registered spaCy factory already imported (imports only: no
pipeline is loaded and no torch thread is started here)."""

from importlib.metadata import entry_points

import spacy  # noqa: F401

for _entry in entry_points(group="spacy_factories"):
    try:
        _entry.load()
    except Exception:  # noqa: BLE001 - a broken plugin fails later, in the worker, with its error
        pass
