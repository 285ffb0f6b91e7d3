"""JSONL in Prodigy's shape, one task per line.

- `text`; `spans`: `start`, `end` (characters), `label`.
- `relations`: `head_span` / `child_span` (with `start`, `end`, `label`) and `label`;
  a relation's span that is not among `spans` is added as an entity when it has a
  label, else it is an error.
- `cats` (dict), or `label` + `answer` (binary textcat: accept → 1.0, reject → 0.0).
- `answer: reject` or `ignore` on a task without `label` skips the task (counted).
- Split group: `group_key` (dotted path, e.g. `meta.note_id`), else `meta.group`,
  else the text key.
"""
import json
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

from ..layers import CATEGORIES, ENTITIES, RELATIONS
from ..text import text_key
from .files import iter_lines
from .records import AnnotatedText, CorpusError, EntityAnn, RelationAnn
from .stats import ConversionStats


def _dig(task: Dict[str, Any], dotted: str) -> Optional[Any]:
    value: Any = task
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _files(path: Path):
    if path.is_dir():
        files = sorted(path.rglob("*.jsonl"))
        if not files:
            raise CorpusError(str(path), "no .jsonl files found")
        return files
    if not path.is_file():
        raise CorpusError(str(path), "input not found")
    return [path]


def read_jsonl(
    path: Path,
    stats: ConversionStats,
    *,
    on_invalid: str = "error",
    text_column: str = "text",
    group_key: Optional[str] = None,
) -> Iterator[AnnotatedText]:
    for file in _files(Path(path)):
        for number, line in enumerate(iter_lines(file), 1):
            where = f"{file}:{number}"
            if not line.strip():
                continue
            try:
                task = json.loads(line)
                record = _task_to_record(task, where, stats, text_column, group_key)
            except CorpusError:
                if on_invalid == "error":
                    raise
                stats.omit("jsonl_invalid_record", where)
                continue
            except json.JSONDecodeError as err:
                if on_invalid == "error":
                    raise CorpusError(
                        where, f"invalid JSON: {err.msg} at column {err.colno}"
                    ) from None
                stats.omit("jsonl_invalid_record", where)
                continue
            if record is not None:
                yield record


def _span_of(item: Any, where: str, what: str):
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("start"), int)
        or not isinstance(item.get("end"), int)
    ):
        raise CorpusError(where, f"{what} needs integer 'start' and 'end': {item!r}")
    return item["start"], item["end"], item.get("label")


def _task_to_record(task, where, stats, text_column, group_key) -> Optional[AnnotatedText]:
    if not isinstance(task, dict):
        raise CorpusError(where, "each line must be a JSON object")
    text = task.get(text_column)
    if not isinstance(text, str):
        raise CorpusError(where, f"no {text_column!r} string in the task")
    answer = task.get("answer", "accept")
    if answer not in ("accept", "reject", "ignore"):
        raise CorpusError(where, f"unknown answer {answer!r} (accept, reject or ignore)")
    cats: Dict[str, float] = {}
    if isinstance(task.get("cats"), dict):
        cats = {str(k): float(v) for k, v in task["cats"].items()}
    elif "label" in task and not task.get("spans"):
        if answer == "ignore":
            stats.omit("jsonl_ignored", where)
            return None
        cats = {str(task["label"]): 1.0 if answer == "accept" else 0.0}
    elif answer != "accept":
        stats.omit(f"jsonl_{answer}ed", where)
        return None
    entities: Dict[tuple, EntityAnn] = {}

    def entity(start: int, end: int, label: Optional[str], what: str) -> str:
        for key, ent in entities.items():
            if key[:2] == (start, end) and (label is None or key[2] == label):
                return ent.id
        if not label:
            raise CorpusError(where, f"{what} {start}-{end} has no label and matches no span")
        ent = EntityAnn(f"{start}-{end}-{label}", str(label), [(start, end)], where)
        entities[(start, end, label)] = ent
        return ent.id

    for i, item in enumerate(task.get("spans") or []):
        start, end, label = _span_of(item, where, f"span {i}")
        if not label:
            raise CorpusError(where, f"span {i} ({start}-{end}) has no label")
        entity(start, end, label, f"span {i}")
    relations = []
    for i, rel in enumerate(task.get("relations") or []):
        if not isinstance(rel, dict) or "label" not in rel:
            raise CorpusError(where, f"relation {i} needs 'head_span', 'child_span' and 'label'")
        hs, he, hl = _span_of(rel.get("head_span"), where, f"relation {i} head_span")
        cs, ce, cl = _span_of(rel.get("child_span"), where, f"relation {i} child_span")
        head = entity(hs, he, hl, f"relation {i} head")
        tail = entity(cs, ce, cl, f"relation {i} child")
        relations.append(RelationAnn(head, tail, str(rel["label"]), where))
    group = _dig(task, group_key) if group_key else _dig(task, "meta.group")
    ident = _dig(task, "meta.id") or _dig(task, "_input_hash") or where
    # A key present (even empty) annotates its layer; an absent one leaves it missing.
    layers = (
        [ENTITIES] * ("spans" in task or bool(entities))
        + [RELATIONS] * ("relations" in task)
        + [CATEGORIES] * bool(cats)
    )
    return AnnotatedText(
        id=str(ident),
        text=text,
        source=where,
        group=str(group) if group is not None else text_key(text),
        entities=list(entities.values()),
        relations=relations,
        cats=cats,
        layers=frozenset(layers),
    )
