"""CSV/TSV notes with a text column and one or more label columns → `doc.cats`.

- Exclusive (default): one label column; every doc gets every label seen, 1.0 for
  its own and 0.0 for the others (what `textcat` expects).
- Multi-label (`multilabel=True`): labels from all label columns (a cell may hold
  several, split on `label_separator`) are 1.0, every other label seen is 0.0.
- Split group: the whitespace-insensitive text key, so copies of a note (MTSamples
  lists one transcription under up to five specialties) never straddle splits.
- `dedupe=True` merges such copies into one doc: multi-label unites their labels;
  exclusive keeps the first row's label and counts the conflicts.
Rows with an empty text or no label are omitted and counted with their line.
"""
import csv
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

from ..layers import CATEGORIES
from ..text import text_key
from .files import iter_lines
from .records import AnnotatedText, CorpusError
from .stats import ConversionStats


def read_csv_notes(
    path: Path,
    stats: ConversionStats,
    *,
    on_invalid: str = "error",
    text_column: str = "text",
    label_columns: Optional[Sequence[str]] = None,
    id_column: Optional[str] = None,
    multilabel: bool = False,
    dedupe: bool = False,
    delimiter: Optional[str] = None,
    label_separator: Optional[str] = None,
) -> Iterator[AnnotatedText]:
    path = Path(path)
    if not path.is_file():
        raise CorpusError(str(path), "CSV/TSV file not found")
    label_columns = list(label_columns or ["label"])
    if not multilabel and len(label_columns) > 1:
        raise CorpusError(str(path), "several label columns need --multilabel")
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    rows = []
    reader = csv.DictReader(iter_lines(path, newline=""), delimiter=delimiter)
    columns = reader.fieldnames or []
    for column in [text_column, *label_columns] + ([id_column] if id_column else []):
        if column not in columns:
            raise CorpusError(f"{path}:1", f"unknown column {column!r}; the header has {columns}")
    record_no = 0
    for row in reader:
        record_no += 1
        where = f"{path}:{reader.line_num} (record {record_no})"
        if None in row:
            if on_invalid == "error":
                raise CorpusError(
                    where,
                    f"row has {len(columns) + len(row[None])} fields, the header {len(columns)}",
                )
            stats.omit("csv_row_with_extra_fields", where)
            continue
        text = row[text_column] or ""
        if not text.strip():
            stats.omit("csv_empty_text", where)
            continue
        labels: List[str] = []
        for column in label_columns:
            value = (row[column] or "").strip()
            parts = value.split(label_separator) if label_separator else [value]
            labels.extend(p.strip() for p in parts if p.strip())
        if not labels:
            stats.omit("csv_no_label", where)
            continue
        ident = row[id_column] if id_column else str(record_no)
        rows.append((ident, text, list(dict.fromkeys(labels)), where))
    if not rows:
        raise CorpusError(str(path), "no rows with text and label")
    all_labels = sorted({label for _, _, labels, _ in rows for label in labels})
    if dedupe:
        merged: "OrderedDict[str, list]" = OrderedDict()
        for ident, text, labels, where in rows:
            key = text_key(text)
            if key not in merged:
                merged[key] = [ident, text, labels, where]
                continue
            stats.omit("csv_duplicate_text_merged", where)
            first = merged[key]
            if multilabel:
                first[2] = list(dict.fromkeys(first[2] + labels))
            elif labels != first[2]:
                stats.omit("csv_dedupe_label_conflict_first_kept", where)
        rows = [tuple(v) for v in merged.values()]
    for ident, text, labels, where in rows:
        cats: Dict[str, float] = {label: 0.0 for label in all_labels}
        for label in labels if multilabel else labels[:1]:
            cats[label] = 1.0
        if not multilabel and len(labels) > 1:
            stats.omit("csv_extra_labels_exclusive", where, len(labels) - 1)
        yield AnnotatedText(
            id=ident,
            text=text,
            source=where,
            group=text_key(text),
            cats=cats,
            layers=frozenset({CATEGORIES}),
        )
