"""Deterministic grouped splits: every group (PMID, trial, distinct text) lands in one split.

Groups are shuffled with the seed, then each goes to the split that is furthest
below its target share of documents, so ratios hold even when groups differ in
size. Explicit lists (one id per line, group ids or record ids) override the
ratios.
"""
import random
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Tuple

from .files import read_text
from .records import CorpusError

SPLIT_NAMES = ("train", "dev", "test")


def parse_ratios(value: str) -> Tuple[float, float, float]:
    """"0.8,0.1,0.1" → (0.8, 0.1, 0.1); they must be non-negative and sum to 1."""
    try:
        parts = tuple(float(p) for p in value.split(","))
    except ValueError:
        raise ValueError(
            f"split ratios must be three numbers like 0.8,0.1,0.1, got {value!r}"
        ) from None
    if len(parts) != 3 or any(p < 0 for p in parts) or abs(sum(parts) - 1.0) > 1e-6:
        raise ValueError(
            f"split ratios must be three non-negative numbers summing to 1, got {value!r}"
        )
    return parts


def assign_groups(
    group_sizes: "OrderedDict[str, int]", ratios: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> Dict[str, str]:
    """Map each group to a split name; the same inputs always give the same answer."""
    groups = sorted(group_sizes)
    random.Random(seed).shuffle(groups)
    total = sum(group_sizes.values()) or 1
    filled: Counter[str] = Counter()
    out: Dict[str, str] = {}
    for group in groups:
        # The split with the largest deficit against its target takes the group.
        deficits = [
            (ratios[i] - filled[name] / total, -i)
            for i, name in enumerate(SPLIT_NAMES)
            if ratios[i] > 0
        ]
        _, neg_i = max(deficits)
        name = SPLIT_NAMES[-neg_i]
        out[group] = name
        filled[name] += group_sizes[group]
    return out


def read_split_lists(folder: Path) -> Dict[str, str]:
    """train.txt / dev.txt / test.txt in `folder`, one id per line → {id: split}."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(str(folder), "split list folder not found")
    found: Dict[str, str] = {}
    for name in SPLIT_NAMES:
        path = folder / f"{name}.txt"
        if not path.exists():
            continue
        for i, line in enumerate(read_text(path).splitlines(), 1):
            ident = line.strip()
            if not ident or ident.startswith("#"):
                continue
            if ident in found and found[ident] != name:
                raise CorpusError(
                    f"{path}:{i}", f"id {ident!r} is already listed in {found[ident]}.txt"
                )
            found[ident] = name
    if not found:
        raise CorpusError(str(folder), "no train.txt, dev.txt or test.txt with ids found")
    return found


def split_for(record_id: str, group: str, lists: Dict[str, str]) -> Optional[str]:
    return lists.get(record_id) or lists.get(group)


def check_no_leak(assignments: Iterable[Tuple[str, str]]) -> None:
    """Raise when a group shows up in two splits (explicit lists can cause that)."""
    seen: Dict[str, str] = {}
    for group, split in assignments:
        if seen.setdefault(group, split) != split:
            first, second = sorted((seen[group], split), key=SPLIT_NAMES.index)
            raise CorpusError(
                f"group {group!r}", f"its records are listed in both {first} and {second}; "
                "list whole groups (trial id, PMID) or keep them in one split list"
            )
