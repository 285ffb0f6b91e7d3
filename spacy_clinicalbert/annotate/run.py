"""`annotate(pipeline, input, output)`: the whole run on one machine, with progress."""

import datetime as dt
import itertools
import sys
from typing import TYPE_CHECKING, Callable, Optional, Union

from .engine import chunk_rows, make_executor, triage
from .omop import pipeline_context, row_context
from .records import DEFAULT_MAX_CHARS
from .schema import tables_for
from .sinks import Sink, open_sink
from .sources import Columns, Source, open_source
from .summary import Summary

if TYPE_CHECKING:
    from spacy.language import Language


def annotate(
    pipeline: Union[str, "Language"],
    input: Union[str, Source],
    output: Union[str, Sink],
    *,
    note_id: str = "note_id",
    text: str = "text",
    person_id: Optional[str] = None,
    note_date: Optional[str] = None,
    query: Optional[str] = None,
    output_format: Optional[str] = None,
    schema: str = "omop",
    spans_key: Optional[str] = None,
    n_process: int = 1,
    int8: bool = False,
    batch_size: int = 64,
    commit_every: int = 500,
    max_chars: int = DEFAULT_MAX_CHARS,
    overwrite: bool = False,
    table_prefix: str = "",
    nlp_datetime: Optional[dt.datetime] = None,
    threads: Optional[int] = None,
    progress: bool = True,
    number_when_no_id: bool = False,
    limit: int = 0,
    on_commit: Optional[Callable[[Summary], None]] = None,
) -> Summary:
    """Annotate every note of `input` with `pipeline` into `output`, resumably.

    `input`: .csv/.tsv/.jsonl/.parquet, a folder of .txt (or .parquet) files, or a
    database URL with `query`. `output`: a folder (Parquet, CSV or JSONL parts per
    table) or a database URL. A run restarted on the same output skips the notes the
    earlier run finished (`limit`: read only the first notes). `pipeline` may also be a
    loaded `Language` (one process only); `on_commit(summary)` is called after each commit.
    Every note read ends
    up annotated, in the errors table, or
    skipped as done, and the returned `Summary` counts each.
    """
    from tqdm import tqdm

    from .pipeline import load_pipeline

    if n_process < 1 or batch_size < 1 or commit_every < 1 or max_chars < 1:
        raise ValueError("n_process, batch_size, commit_every and max_chars must be at least 1.")
    tables = tables_for(schema)
    columns = Columns(note_id, text, person_id, note_date, number_when_no_id)
    source = open_source(input, columns, query) if isinstance(input, str) else input
    sink = (
        open_sink(output, output_format, overwrite=overwrite, prefix=table_prefix)
        if isinstance(output, str)
        else output
    )
    nlp: Optional["Language"] = None
    if isinstance(pipeline, str) and n_process > 1:
        # each worker loads its own; this process only names the pipeline in the rows
        ctx = pipeline_context(
            pipeline, int8=int8, spans_key=spans_key, nlp_datetime=nlp_datetime
        )
    elif isinstance(pipeline, str):
        nlp = load_pipeline(pipeline, int8=int8, threads=threads)
    elif n_process > 1 or int8:
        raise ValueError(
            "a loaded pipeline runs in this process only: pass its path for "
            "n_process > 1, and quantize it yourself for int8"
        )
    else:
        nlp = pipeline
    if nlp is not None:
        ctx = row_context(nlp, spans_key=spans_key, nlp_datetime=nlp_datetime)
    summary = Summary()
    done = sink.open(tables)
    summary.recovered = dict(getattr(sink, "recovered", {}) or {})
    executor = make_executor(str(pipeline), nlp, n_process, int8, ctx, schema, batch_size)
    total = source.total
    if total is None and hasattr(source, "count"):
        total = source.count()
    if limit:
        total = min(total, limit) if total is not None else limit
    bar = tqdm(
        total=total,
        unit="note",
        desc="annotate",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=1.0,
    )
    try:
        records = itertools.islice(iter(source), limit) if limit else iter(source)
        chunks = triage(records, done, ctx, summary, commit_every, max_chars)
        names = [t.name for t in tables]
        for chunk, results in executor.results(chunks):
            sink.write_batch(chunk_rows(chunk, results, names, ctx, summary))
            summary.batches += 1
            if on_commit is not None:
                on_commit(summary)
            bar.update(chunk.read)
            elapsed = bar.format_dict["elapsed"] or 1e-9
            bar.set_postfix_str(
                f"{summary.words / elapsed:,.0f} words/s, {summary.failed} failed", refresh=False
            )
        bar.update(summary.read - bar.n)  # notes skipped after the last commit
    finally:
        bar.close()
        executor.close()
    sink.close()
    return summary.finish()
