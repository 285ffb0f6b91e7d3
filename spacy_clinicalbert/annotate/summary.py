"""The end-of-run account: every note read is annotated, failed or skipped, and said so."""

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict


@dataclass
class Summary:
    read: int = 0
    annotated: int = 0
    failed: int = 0
    skipped_done: int = 0
    reasons: Counter = field(default_factory=Counter)
    rows: Counter = field(default_factory=Counter)
    words: int = 0
    truncated_fields: int = 0
    batches: int = 0
    recovered: Dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0

    def finish(self) -> "Summary":
        self.seconds = time.perf_counter() - self.started
        return self

    def to_dict(self) -> Dict[str, Any]:
        secs = self.seconds or (time.perf_counter() - self.started)
        return {
            "notes_read": self.read,
            "annotated": self.annotated,
            "failed": self.failed,
            "skipped_already_done": self.skipped_done,
            "failed_by_reason": dict(self.reasons),
            "rows": dict(self.rows),
            "words": self.words,
            "truncated_fields": self.truncated_fields,
            "batches_committed": self.batches,
            "recovered": dict(self.recovered),
            "seconds": round(secs, 3),
            "notes_per_s": round(self.annotated / secs, 2) if secs else None,
            "words_per_s": round(self.words / secs, 1) if secs else None,
        }

    def lines(self):
        """Human lines for the CLI."""
        d = self.to_dict()
        yield (
            f"{d['notes_read']} notes read: {d['annotated']} annotated, {d['failed']} failed, "
            f"{d['skipped_already_done']} skipped (already done)"
        )
        if self.reasons:
            yield "failed: " + ", ".join(f"{k} {v}" for k, v in sorted(self.reasons.items()))
        yield "rows: " + (", ".join(f"{k} {v}" for k, v in sorted(self.rows.items())) or "none")
        if self.truncated_fields:
            yield f"{self.truncated_fields} fields cut to their column's length (OMOP VARCHARs)"
        if any(self.recovered.values()):
            yield (
                f"recovered an interrupted run: {self.recovered.get('rolled_forward', 0)} "
                f"committed batches finished, {self.recovered.get('discarded', 0)} uncommitted "
                "discarded"
            )
        yield f"{d['seconds']} s, {d['notes_per_s']} notes/s, {d['words_per_s']} words/s"
