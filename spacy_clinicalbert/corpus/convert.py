"""`convert()`: read a corpus in one format, build Docs, split them by group, write DocBins.

This is the Python API behind `python -m spacy_clinicalbert convert-corpus`. Splits come from
ratios over one input (grouped, seeded), from id lists, or as given: a corpus's own
train/dev/test files (`dev_input`, `test_input`) are never mixed; a split that has
no file of its own is carved out of the training file's groups.
"""
import json
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from ..layers import LAYERS, check_layers
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


def read_records(
    fmt: str, input_path: Union[str, Path], stats: ConversionStats, **options
) -> List[AnnotatedText]:
    if fmt not in READERS:
        raise CorpusError(
            str(input_path), f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}"
        )
    reader = get_reader(fmt)
    try:
        return list(reader(Path(input_path), stats, **options))
    except TypeError as err:
        if "unexpected keyword argument" in str(err):
            name = str(err).rsplit(" ", 1)[-1].strip("'")
            raise CorpusError(
                str(input_path), f"option {name!r} is not valid for format {fmt!r}"
            ) from None
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
    dev_input: Optional[Union[str, Path]] = None,
    test_input: Optional[Union[str, Path]] = None,
    complete_layers: Iterable[str] = (),
    **reader_options,
) -> ConversionResult:
    """Convert `input_path` (format `fmt`) to train/dev/test Docs; write them and
    stats.json to `output_dir` when given. Reader options (text_column, scheme, ...)
    go to the format's reader. With `dev_input` and/or `test_input`, `input_path` is
    the corpus's official training part and each file is its split as given.
    `complete_layers`: layers every document annotates, whatever the reader could tell
    (a layer that is missing in a doc is not trained or scored there). Raises
    CorpusError on bad input and when nothing in the corpus is annotated."""
    started = time.perf_counter()
    if on_invalid not in INVALID_POLICIES:
        raise ValueError(
            f"on_invalid must be one of {', '.join(INVALID_POLICIES)}, got {on_invalid!r}"
        )
    opts = BuildOptions(alignment, ents_policy, discontinuous, on_mismatch, prepare)
    opts.check()
    if len(ratios) != 3 or abs(sum(ratios) - 1) > 1e-6 or min(ratios) < 0:
        raise ValueError(f"ratios must be three non-negative numbers summing to 1, got {ratios}")
    complete = check_layers(complete_layers)
    given = {name: Path(p) for name, p in (("dev", dev_input), ("test", test_input)) if p}
    if given and split_lists:
        raise ValueError("give either split lists or the corpus's own dev/test files, not both")
    if nlp is None:
        nlp = make_nlp(tokenizer, lang)
        load_seconds = time.perf_counter() - started
    else:
        load_seconds = 0.0
    started = time.perf_counter()  # conversion time, without building the tokenizer pipeline
    stats = ConversionStats()
    stats.settings = {
        "format": fmt,
        "input": str(input_path),
        "alignment": alignment,
        "ents_policy": ents_policy,
        "discontinuous": discontinuous,
        "on_mismatch": on_mismatch,
        "on_invalid": on_invalid,
        "prepare": prepare,
        "ratios": list(ratios),
        "seed": seed,
        "split_lists": str(split_lists) if split_lists else None,
        "given_splits": (
            {"train": str(input_path), **{k: str(v) for k, v in given.items()}} if given else None
        ),
        "complete_layers": sorted(complete),
        "tokenizer": nlp.config["nlp"]["tokenizer"].get("@tokenizers"),
        "nlp_load_seconds": round(load_seconds, 2),
        **{k: v for k, v in reader_options.items()},
    }
    records = read_records(fmt, input_path, stats, on_invalid=on_invalid, **reader_options)
    given_split: Dict[int, str] = {}
    for name, path in given.items():
        extra = read_records(fmt, path, stats, on_invalid=on_invalid, **reader_options)
        given_split.update((id(rec), name) for rec in extra)
        records.extend(extra)
    if complete:
        for rec in records:
            rec.layers = complete | (rec.layers if rec.layers is not None else frozenset())
    split_of: Callable[[AnnotatedText], Optional[str]]  # None: the record is left out
    if given:
        # Records of a given dev/test file stay there; the training file's groups fill
        # the splits that came without a file of their own, by the ratios among them.
        carve = [
            r if name == "train" or name not in given else 0.0
            for name, r in zip(SPLIT_NAMES, ratios, strict=True)
        ]
        if sum(carve) <= 0:
            carve = [1.0, 0.0, 0.0]
        carve = [r / sum(carve) for r in carve]
        sizes_train: "OrderedDict[str, int]" = OrderedDict(
            Counter(rec.group for rec in records if id(rec) not in given_split)
        )
        by_train_group = assign_groups(sizes_train, carve, seed)
        split_of = lambda rec: given_split.get(id(rec)) or by_train_group[rec.group]  # noqa: E731
    elif split_lists:
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
    _check_annotated(stats, input_path)
    stats.seconds = time.perf_counter() - started
    result = ConversionResult(docs, stats)
    if output_dir is not None:
        output_dir = Path(output_dir)
        result.paths = write_splits(docs, output_dir)
        stats.seconds = time.perf_counter() - started
        (output_dir / "stats.json").write_text(
            json.dumps(stats.to_dict(), indent=2), encoding="utf8"
        )
        result.paths["stats"] = output_dir / "stats.json"
    return result


def _check_annotated(stats: ConversionStats, input_path) -> None:
    """Stop when no document holds a single annotation: there is nothing to train."""
    data = stats.to_dict()
    held = sum(
        sum(data[key]["total"].values())
        for key in ("entities", "relations", "cat_labels_annotated")
    )
    if not held:
        annotating = {layer: n for layer, n in data["layers"]["total"].items() if n}
        detail = (
            "; ".join(f"{n} docs annotate {layer} but hold none" for layer, n in annotating.items())
            or f"no document annotates any of {', '.join(LAYERS)}"
        )
        raise CorpusError(
            str(input_path),
            f"the corpus holds no annotation at all ({data['docs']['total']} docs read: {detail}); "
            "there is nothing to train. For raw notes use `domain-pretrain`; for annotated ones "
            "check the format and its options (e.g. csv --label-column)",
        )


def _progress(items, desc):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return items
    return tqdm(items, desc=desc, unit="doc", disable=None, leave=False)
