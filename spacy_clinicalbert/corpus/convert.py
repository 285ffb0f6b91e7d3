"""`convert()`: read a corpus in one format, build Docs, split them by group, write DocBins.

This is the Python API behind `python -m spacy_clinicalbert convert`.
"""
import json
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .docs import BuildOptions, build_doc
from .records import AnnotatedText, CorpusError
from .splits import SPLIT_NAMES, assign_groups, check_no_leak, read_split_lists, split_for
from .stats import ConversionStats
from .writer import write_splits

INVALID_POLICIES = ("error", "skip")


# format → (module, reader function); imported on use so one format's reader
# does not load the others.
READERS = {
    "ade": ("ade", "read_ade"),
    "brat": ("brat", "read_brat"),
    "conll": ("conll", "read_conll"),
    "csv": ("csv_notes", "read_csv_notes"),
    "i2b2": ("i2b2", "read_i2b2"),
    "jsonl": ("jsonl", "read_jsonl"),
}


def get_reader(fmt: str) -> Callable:
    import importlib

    module, name = READERS[fmt]
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


FORMATS = ("ade", "brat", "conll", "csv", "i2b2", "jsonl")


@dataclass
class ConversionResult:
    docs: Dict[str, List[Doc]]
    stats: ConversionStats
    paths: Dict[str, Path] = field(default_factory=dict)


def make_nlp(tokenizer: str = "clinical", lang: str = "en") -> Language:
    """`clinical`: spacy.blank(lang) with the clinical tokenizer; `default`: spacy.blank(lang);
    anything else: a pipeline name or folder whose tokenizer is used."""
    if tokenizer == "clinical":
        from ..text import blank_clinical

        return blank_clinical(lang)
    if tokenizer == "default":
        return spacy.blank(lang)
    return spacy.load(tokenizer)


def read_records(fmt: str, input_path: Union[str, Path], stats: ConversionStats, **options) -> List[AnnotatedText]:
    if fmt not in READERS:
        raise CorpusError(str(input_path), f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    reader = get_reader(fmt)
    try:
        return list(reader(Path(input_path), stats, **options))
    except TypeError as err:
        if "unexpected keyword argument" in str(err):
            name = str(err).rsplit(" ", 1)[-1].strip("'")
            raise CorpusError(str(input_path), f"option {name!r} is not valid for format {fmt!r}") from None
        raise


def convert(
    fmt: str,
    input_path: Union[str, Path],
    output_dir: Optional[Union[str, Path]] = None,
    *,
    nlp: Optional[Language] = None,
    tokenizer: str = "clinical",
    lang: str = "en",
    alignment: str = "expand",
    ents_policy: str = "longest",
    discontinuous: str = "fragments",
    on_mismatch: str = "error",
    on_invalid: str = "error",
    prepare: bool = False,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    split_lists: Optional[Union[str, Path]] = None,
    **reader_options,
) -> ConversionResult:
    """Convert `input_path` (format `fmt`) to train/dev/test Docs; write them and
    stats.json to `output_dir` when given. Reader options (text_column, scheme, ...)
    go to the format's reader. Raises CorpusError on bad input."""
    started = time.perf_counter()
    if on_invalid not in INVALID_POLICIES:
        raise ValueError(f"on_invalid must be one of {', '.join(INVALID_POLICIES)}, got {on_invalid!r}")
    opts = BuildOptions(alignment, ents_policy, discontinuous, on_mismatch, prepare)
    opts.check()
    if len(ratios) != 3 or abs(sum(ratios) - 1) > 1e-6 or min(ratios) < 0:
        raise ValueError(f"ratios must be three non-negative numbers summing to 1, got {ratios}")
    if nlp is None:
        nlp = make_nlp(tokenizer, lang)
        load_seconds = time.perf_counter() - started
    else:
        load_seconds = 0.0
    started = time.perf_counter()  # conversion time, without building the tokenizer pipeline
    stats = ConversionStats()
    stats.settings = {
        "format": fmt, "input": str(input_path), "alignment": alignment, "ents_policy": ents_policy,
        "discontinuous": discontinuous, "on_mismatch": on_mismatch, "on_invalid": on_invalid,
        "prepare": prepare, "ratios": list(ratios), "seed": seed,
        "split_lists": str(split_lists) if split_lists else None,
        "tokenizer": nlp.config["nlp"]["tokenizer"].get("@tokenizers"),
        "nlp_load_seconds": round(load_seconds, 2),
        **{k: v for k, v in reader_options.items()},
    }
    records = read_records(fmt, input_path, stats, on_invalid=on_invalid, **reader_options)
    if split_lists:
        lists = read_split_lists(Path(split_lists))
        assignment = {}
        for rec in records:
            split = split_for(rec.id, rec.group, lists)
            if split is None:
                stats.omit("record_in_no_split_list", f"{rec.source} ({rec.id})")
            assignment[rec.id, rec.group] = split
        check_no_leak((g, s) for (_, g), s in assignment.items() if s is not None)
        split_of = lambda rec: assignment[rec.id, rec.group]  # noqa: E731
    else:
        sizes: "OrderedDict[str, int]" = OrderedDict(Counter(rec.group for rec in records))
        by_group = assign_groups(sizes, ratios, seed)
        split_of = lambda rec: by_group[rec.group]  # noqa: E731
    docs: Dict[str, List[Doc]] = {name: [] for name in SPLIT_NAMES}
    for rec in _progress(records, f"Converting {fmt}"):
        split = split_of(rec)
        if split is None:
            continue
        doc = build_doc(nlp, rec, opts, stats)
        docs[split].append(doc)
        stats.add_doc(split, doc, rec.group)
    stats.seconds = time.perf_counter() - started
    result = ConversionResult(docs, stats)
    if output_dir is not None:
        output_dir = Path(output_dir)
        result.paths = write_splits(docs, output_dir)
        stats.seconds = time.perf_counter() - started
        (output_dir / "stats.json").write_text(json.dumps(stats.to_dict(), indent=2), encoding="utf8")
        result.paths["stats"] = output_dir / "stats.json"
    return result


def _progress(items, desc):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return items
    return tqdm(items, desc=desc, unit="doc", disable=None, leave=False)
