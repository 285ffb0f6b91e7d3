"""Corpus conversion: one reader per input format, one builder of Docs, grouped splits,
DocBin output and statistics. `convert()` is the Python API of the `convert-corpus` command.

Readers (formats): `ade` (ADE Corpus V2), `brat` (standoff .txt/.ann), `conll`
(token-per-line IOB/IOB2/BILUO), `csv` (notes with label columns), `i2b2` (2010
.con/.ast/.rel), `jsonl` (Prodigy-style).
"""
from .convert import FORMATS, ConversionResult, convert, get_reader, make_nlp, read_records
from .docs import BuildOptions, build_doc, install_extensions, select_ents
from .records import AnnotatedText, AttributeAnn, CorpusError, EntityAnn, RelationAnn
from .splits import assign_groups, parse_ratios, read_split_lists
from .stats import ConversionStats
from .writer import msgpack_registries_cached, read_docbin, write_splits

install_extensions()

__all__ = [
    "FORMATS",
    "AnnotatedText",
    "AttributeAnn",
    "BuildOptions",
    "ConversionResult",
    "ConversionStats",
    "CorpusError",
    "EntityAnn",
    "RelationAnn",
    "assign_groups",
    "build_doc",
    "convert",
    "get_reader",
    "make_nlp",
    "msgpack_registries_cached",
    "parse_ratios",
    "read_docbin",
    "read_records",
    "read_split_lists",
    "select_ents",
    "write_splits",
]
