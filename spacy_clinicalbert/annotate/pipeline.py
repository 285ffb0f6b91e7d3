"""Load the pipeline for annotation and turn notes into rows (every engine calls this).

`process_notes` is the unit of work of the local engine, of each `--n-process`
worker and of each Spark task: notes in, rows out. A batch the pipeline fails on
is retried one note at a time, so one bad note fails alone, with its reason.
"""

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .omop import RowContext, entity_table_rows, fit_lengths, omop_rows
from .records import Note

Rows = Dict[str, List[Dict[str, Any]]]


@dataclass
class NoteResult:
    rows: Optional[Rows]
    error: Optional[Tuple[str, str]] = None
    truncated: int = 0


def load_pipeline(pipeline: str, *, int8: bool = False, threads: Optional[int] = None):
    """`spacy.load(pipeline)` with `threads` torch threads, the encoder as int8 when asked.

    For int8, an `encoder.int8.onnx` written beside the weights (`quantize` command)
    is used when present; otherwise the encoder is quantized now.
    """
    import spacy
    import torch

    if threads:
        torch.set_num_threads(threads)
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    nlp = spacy.load(pipeline)
    if int8:
        from pathlib import Path

        from ..transformer.quantization import (
            QuantizationError,
            quantize_pipeline,
            transformer_pipes,
        )

        if not transformer_pipes(nlp):
            raise QuantizationError(
                f"{pipeline}: --int8 needs a pipeline with a transformer encoder."
            )
        onnx = Path(nlp.path) / "encoder.int8.onnx" if nlp.path else None
        quantize_pipeline(nlp, onnx_path=onnx if onnx and onnx.exists() else None, threads=threads)
    return nlp


def _rows(doc, note: Note, ctx: RowContext, schema: str) -> NoteResult:
    from spacy.tokens import Doc

    if not Doc.has_extension("note_id"):
        Doc.set_extension("note_id", default=None)
    doc._.note_id = note.source_id
    rows = omop_rows(doc, note, ctx) if schema == "omop" else entity_table_rows(doc, note, ctx)
    truncated = sum(
        fit_lengths(table, row) for table, table_rows in rows.items() for row in table_rows
    )
    return NoteResult(rows, None, truncated)


def process_notes(
    nlp, notes: List[Note], ctx: RowContext, schema: str = "omop", batch_size: int = 64
) -> List[NoteResult]:
    """Rows for each note, in order; a note the pipeline fails on gets its error instead."""
    if not notes:
        return []
    try:
        docs = list(nlp.pipe([n.text for n in notes], batch_size=batch_size))
    except Exception:  # noqa: BLE001 - find the note(s) that fail, one at a time
        results = []
        for note in notes:
            try:
                results.append(_rows(nlp(note.text), note, ctx, schema))
            except Exception as err:  # noqa: BLE001 - recorded per note, the run goes on
                results.append(
                    NoteResult(None, ("pipeline_error", f"{type(err).__name__}: {err}"[:2000]))
                )
        return results
    return [_rows(doc, note, ctx, schema) for doc, note in zip(docs, notes, strict=True)]
