"""The local engine: read, check, annotate (in this process or `n_process` workers), commit.

Notes are read and checked in the main process, which alone knows the whole run:
it finds duplicate ids and skips notes a previous run finished. Good notes go in
`batch_size` batches to the pipeline (here, or in worker processes that each load
the pipeline once with one torch thread); every `commit_every` notes, their rows
and done-records are committed together. At most two commit batches are in flight,
so memory stays flat however long the input.
"""

import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, Iterator, List, Optional, Tuple

from .omop import RowContext, done_row
from .pipeline import NoteResult, process_notes
from .records import Note, SourceNote, check_note, omop_note_id, source_id_of
from .sinks import DoneKeys
from .summary import Summary

Rows = Dict[str, List[Dict[str, Any]]]


@dataclass
class Chunk:
    """One commit batch: the checked notes and the rows already known (errors, done-records)."""

    pending: List[Tuple[Note, int]] = field(default_factory=list)
    errors: List[Dict[str, Any]] = field(default_factory=list)
    done: List[Dict[str, Any]] = field(default_factory=list)
    read: int = 0


def _error_row(
    source_id: str, occurrence: int, location: str, reason: str, detail: str, ctx: RowContext
) -> Dict[str, Any]:
    return {
        "note_source_id": source_id,
        "occurrence": occurrence,
        "note_id": omop_note_id(source_id),
        "location": location[:500],
        "reason": reason,
        "detail": detail[:2000],
        "nlp_datetime": ctx.nlp_datetime,
    }


def triage(
    records: Iterator[SourceNote],
    done: DoneKeys,
    ctx: RowContext,
    summary: Summary,
    commit_every: int,
    max_chars: int,
) -> Iterator[Chunk]:
    """Commit-sized chunks of checked notes; bad notes become error rows, done notes are skipped."""
    seen: Dict[str, int] = {}
    chunk = Chunk()
    for record in records:
        summary.read += 1
        chunk.read += 1
        note, problem = check_note(record, max_chars)
        source_id = (
            note.source_id
            if note
            else (source_id_of(record.note_id) or f"<no id> {record.location}")
        )
        occurrence = seen[source_id] = seen.get(source_id, 0) + 1
        if (source_id, occurrence) in done:
            summary.skipped_done += 1
            continue
        if problem is None and occurrence > 1:
            problem = (
                "duplicate_id",
                f"note id {source_id!r} already read {occurrence - 1} time(s) in this input",
            )
        if problem is not None:
            reason, detail = problem
            chunk.errors.append(
                _error_row(source_id, occurrence, record.location, reason, detail, ctx)
            )
            stub = note or Note(source_id, omop_note_id(source_id), "")
            status = "duplicate" if reason == "duplicate_id" else "failed"
            chunk.done.append(done_row(stub, occurrence, status, 0, ctx))
            summary.failed += 1
            summary.reasons[reason] += 1
        else:
            assert note is not None
            chunk.pending.append((note, occurrence))
        if len(chunk.pending) + len(chunk.errors) >= commit_every:
            yield chunk
            chunk = Chunk()
    if chunk.read:
        yield chunk


# ---------------------------------------------------------------- workers
_WORKER: Dict[str, Any] = {}


def _init_worker(pipeline: str, int8: bool, ctx: RowContext, schema: str, batch_size: int) -> None:
    from .pipeline import load_pipeline

    _WORKER.update(
        nlp=load_pipeline(pipeline, int8=int8, threads=1),
        ctx=ctx,
        schema=schema,
        batch_size=batch_size,
    )


def _work(notes: List[Note]) -> List[NoteResult]:
    return process_notes(
        _WORKER["nlp"], notes, _WORKER["ctx"], _WORKER["schema"], _WORKER["batch_size"]
    )


class LocalExecutor:
    """Runs batches in this process."""

    def __init__(self, nlp, ctx: RowContext, schema: str, batch_size: int):
        self.nlp, self.ctx, self.schema, self.batch_size = nlp, ctx, schema, batch_size

    def results(self, chunks: Iterator[Chunk]) -> Iterator[Tuple[Chunk, List[NoteResult]]]:
        for chunk in chunks:
            notes = [n for n, _ in chunk.pending]
            yield chunk, process_notes(self.nlp, notes, self.ctx, self.schema, self.batch_size)

    def close(self) -> None:
        pass


class PoolExecutor:
    """`n_process` worker processes, one torch thread each, the pipeline loaded once per worker.

    A worker that dies (killed, out of memory) stops the run with BrokenProcessPool instead
    of hanging; the batches committed so far stay, and a restart resumes after them.
    """

    def __init__(
        self,
        pipeline: str,
        int8: bool,
        n_process: int,
        ctx: RowContext,
        schema: str,
        batch_size: int,
    ):
        # forkserver: workers fork from a fresh server that imported spaCy (and whatever the
        # pipeline's entry points pull in) once, never from this process and its torch threads.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["spacy_clinicalbert.annotate.preload"])
        self.pool = ProcessPoolExecutor(
            n_process,
            mp_context=context,
            initializer=_init_worker,
            initargs=(pipeline, int8, ctx, schema, batch_size),
        )
        self.batch_size = batch_size
        self.lookahead = 2

    def results(self, chunks: Iterator[Chunk]) -> Iterator[Tuple[Chunk, List[NoteResult]]]:
        in_flight: Deque[Tuple[Chunk, List[Any]]] = deque()
        for chunk in chunks:
            notes = [n for n, _ in chunk.pending]
            parts = [
                self.pool.submit(_work, notes[i : i + self.batch_size])
                for i in range(0, len(notes), self.batch_size)
            ]
            in_flight.append((chunk, parts))
            while len(in_flight) > self.lookahead:
                yield self._collect(in_flight.popleft())
        while in_flight:
            yield self._collect(in_flight.popleft())

    @staticmethod
    def _collect(item: Tuple[Chunk, List[Any]]) -> Tuple[Chunk, List[NoteResult]]:
        chunk, parts = item
        return chunk, [result for part in parts for result in part.result()]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def chunk_rows(
    chunk: Chunk, results: List[NoteResult], tables: List[str], ctx: RowContext, summary: Summary
) -> Rows:
    """All rows of a commit batch, done-records included; updates the summary."""
    rows: Rows = {name: [] for name in tables}
    rows["note_nlp_error"].extend(chunk.errors)
    rows["note_nlp_note"].extend(chunk.done)
    entity_table = "note_nlp" if "note_nlp" in rows else "entities"
    for (note, occurrence), result in zip(chunk.pending, results, strict=True):
        if result.error is not None:
            reason, detail = result.error
            rows["note_nlp_error"].append(
                _error_row(note.source_id, occurrence, note.location, reason, detail, ctx)
            )
            rows["note_nlp_note"].append(done_row(note, occurrence, "failed", 0, ctx))
            summary.failed += 1
            summary.reasons[reason] += 1
            continue
        assert result.rows is not None
        for name, table_rows in result.rows.items():
            rows[name].extend(table_rows)
        rows["note_nlp_note"].append(
            done_row(note, occurrence, "annotated", len(result.rows.get(entity_table, [])), ctx)
        )
        summary.annotated += 1
        summary.words += note.words
        summary.truncated_fields += result.truncated
    for name, table_rows in rows.items():
        summary.rows[name] += len(table_rows)
    return rows


def make_executor(
    pipeline: str,
    nlp: Optional[Any],
    n_process: int,
    int8: bool,
    ctx: RowContext,
    schema: str,
    batch_size: int,
):
    if n_process > 1:
        return PoolExecutor(pipeline, int8, n_process, ctx, schema, batch_size)
    return LocalExecutor(nlp, ctx, schema, batch_size)
