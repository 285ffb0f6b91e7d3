"""Exactly-once output to files: stage a batch, commit it with one atomic rename, then move.

A batch's files (one per table, its done-record among them) are written to
`_annotate/staging/N/`; the batch is committed by renaming `_annotate/ledger/N.json.tmp`
to `N.json` (atomic on POSIX), which lists where each staged file goes; only then are
the files moved into the table folders. Opening the output again finishes the moves of
committed batches (roll forward) and deletes staged batches that were never committed,
so a run killed at any moment leaves each note's rows exactly once, or not at all.
"""

import json
import os
import shutil
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

STATE = "_annotate"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


class FileLedger:
    """The commit protocol of one output folder."""

    def __init__(self, root: Path):
        self.root = root
        self.staging = root / STATE / "staging"
        self.ledger = root / STATE / "ledger"

    def recover(self) -> Dict[str, int]:
        """Finish committed batches and drop uncommitted ones; returns what it did."""
        self.staging.mkdir(parents=True, exist_ok=True)
        self.ledger.mkdir(parents=True, exist_ok=True)
        done = {"rolled_forward": 0, "discarded": 0}
        committed = set()
        for entry in sorted(self.ledger.glob("*.json")):
            committed.add(entry.stem)
            if (self.staging / entry.stem).exists():
                self._move(json.loads(entry.read_text(encoding="utf8")), entry.stem)
                done["rolled_forward"] += 1
        for tmp in self.ledger.glob("*.tmp"):
            tmp.unlink()
        for batch in self.staging.iterdir():
            if batch.name not in committed:
                shutil.rmtree(batch)
                done["discarded"] += 1
        return done

    def next_batch(self) -> int:
        numbers = [int(p.stem) for p in self.ledger.glob("*.json") if p.stem.isdigit()]
        return max(numbers, default=0) + 1

    def stage(self, batch: int) -> Path:
        folder = self.staging / f"{batch:06d}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return folder

    def commit(self, batch: int, files: List[Tuple[str, str]]) -> None:
        """`files`: (path in the staging folder, final path), both relative."""
        name = f"{batch:06d}"
        staged = self.staging / name
        for staged_name, _final in files:
            fsync_file(staged / staged_name)
        for folder in {(staged / s).parent for s, _f in files} | {staged}:
            _fsync_dir(folder)
        record = {"batch": batch, "files": [list(v) for v in files]}
        tmp = self.ledger / f"{name}.json.tmp"
        with open(tmp, "w", encoding="utf8") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.ledger / f"{name}.json")  # the commit point
        _fsync_dir(self.ledger)
        self._move(record, name)

    def _move(self, record: Dict, name: str) -> None:
        staged = self.staging / name
        for staged_name, final in record["files"]:
            source, target = staged / staged_name, self.root / final
            if source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        for folder in {(self.root / final).parent for _s, final in record["files"]}:
            if folder.exists():
                _fsync_dir(folder)
        shutil.rmtree(staged, ignore_errors=True)

    def parts(self, table: str, suffix: str) -> Iterator[Path]:
        folder = self.root / table
        if folder.is_dir():
            yield from sorted(folder.glob(f"part-*{suffix}"))


def committed_batches(root: Path) -> List[int]:
    return sorted(int(p.stem) for p in (root / STATE / "ledger").glob("*.json") if p.stem.isdigit())
