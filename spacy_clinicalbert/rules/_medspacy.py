"""Import medspaCy lazily, without its side effects on the host process.

Importing any medspaCy submodule runs its package `__init__`, which imports
QuickUMLS, PyRuSH and pysbd (about 5 s once per process), calls
`warnings.filterwarnings("ignore")` (silencing every warning of the host
program) and lets PyRuSH log DEBUG lines through loguru. Our factories call
`medspacy_module()` only when a component is built, then restore the
warning filters and disable PyRuSH's logger.
"""
import importlib
import warnings
from types import ModuleType

_IMPORTED = False


def _drop_blanket_ignores(count_before: int) -> None:
    """Remove the catch-all "ignore" filters added since there were `count_before`."""
    added = len(warnings.filters) - count_before
    new = warnings.filters[:added] if added > 0 else []
    kept = [
        f for f in new
        if not (f[0] == "ignore" and f[1] is None and f[2] is Warning and f[3] is None)
    ]
    if len(kept) != len(new):
        # typeshed declares warnings.filters a Sequence; at run time it is a list.
        warnings.filters[:added] = kept  # type: ignore[index]
        warnings._filters_mutated()  # type: ignore[attr-defined]


def medspacy_module(name: str) -> ModuleType:
    """Import `medspacy.<name>` and undo medspaCy's global side effects."""
    global _IMPORTED
    if not _IMPORTED:
        before = len(warnings.filters)
        try:
            import medspacy  # noqa: F401  (runs the package __init__ once)
        except ImportError as err:  # pragma: no cover - medspacy is a hard dependency
            raise ImportError(
                "The clinical rule components need medspaCy: pip install 'medspacy>=1.3.1,<1.4'"
            ) from err
        finally:
            _drop_blanket_ignores(before)
        try:
            from loguru import logger

            logger.disable("PyRuSH")
        except ImportError:  # pragma: no cover
            pass
        _fix_section_decoder()
        _IMPORTED = True
    return importlib.import_module(f"medspacy.{name}")


def _fix_section_decoder() -> None:
    """Replace medspaCy's msgpack decoder for sections, which crashes on the
    header-less first section (its rule is None), so docs with sections can be
    read back from `DocBin` / `doc.to_bytes()`."""
    import srsly
    from medspacy.section_detection.section import Section
    from medspacy.section_detection.section_rule import SectionRule

    def decode_section(obj, chain=None):
        if isinstance(obj, dict) and "section" in obj:
            data = dict(obj["section"])
            rule = data.pop("rule", None)
            section = Section(**data)
            section.rule = SectionRule.from_dict(rule) if rule is not None else None
            return section
        return obj if chain is None else chain(obj)

    srsly.msgpack_decoders.register("section", func=decode_section)


def call_quietly(func, *args):
    """Call a medspaCy matcher or component without spaCy's W036 "matcher has no patterns".

    medspaCy pairs a token Matcher, a PhraseMatcher and a regex matcher, so one of
    them is usually empty; spaCy then warns on every call, which says nothing useful.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*\[W036\]")
        return func(*args)
