"""annotate's cost over a bare `nlp.pipe` loop, on a trained pipeline and MTSamples notes.

    python -m benchmarks.bench_annotate --pipeline /work/pipe/models/with-rules --part throughput
    parts: throughput (fp32 and int8, to Parquet / SQLite / PostgreSQL vs nlp.pipe, 1 thread),
           nprocess (--n-process 2 vs 1), spark (local[2] vs nlp.pipe on 2 threads), memory
           (peak RSS over 10,000 short notes), kill (SIGKILL + restart on a longer run), table
           (all parts' JSON in one table)

Words are whitespace words of the note text (the same count for every system). Systems take
turns within a repetition, the order rotating; each figure is the median over repetitions.
annotate's time runs from after the pipeline is loaded to its last commit (reading, checks,
rows, writing included); nlp.pipe's is its loop alone. Results: benchmarks/results/annotate_*.json.
"""

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    RESULTS,
    load1,
    mtsamples_texts,
    quiet_offline,
    rss_mb,
    sentences,
    synthetic_note,
)

WHEN = dt.datetime(2026, 1, 1)


def _notes_parquet(texts, path: Path) -> Path:
    import pandas as pd

    pd.DataFrame({"note_id": range(1, len(texts) + 1), "text": texts}).to_parquet(path)
    return path


def _words(texts) -> int:
    return sum(len(t.split()) for t in texts)


def _bare(nlp, texts, batch_size=64) -> float:
    start = time.perf_counter()
    for _doc in nlp.pipe(texts, batch_size=batch_size):
        pass
    return time.perf_counter() - start


def _save(name: str, result) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"annotate_{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


def _rows(table):
    print(
        f"{'system':52} {'notes/s':>8} {'words/s':>8} {'w/s vs':>7} {'time vs':>8} "
        f"{'CPU vs':>7} {'own':>6}"
    )
    for row in table:
        cells = [
            f"{row[key]:+.1%}" if row.get(key) is not None else ""
            for key in ("relative", "overhead", "cpu_overhead", "own_overhead")
        ]
        print(
            f"{row['system']:52} {row['notes_per_s']:8.2f} {row['words_per_s']:8.0f} "
            f"{cells[0]:>7} {cells[1]:>8} {cells[2]:>7} {cells[3]:>6}"
        )


def part_throughput(args):
    import spacy
    import torch

    from spacy_clinicalbert import annotate
    from spacy_clinicalbert.transformer.quantization import dequantize_pipeline, quantize_pipeline

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from postgres_server import postgres_server

    torch.set_num_threads(1)
    texts = mtsamples_texts(args.notes, max_words=args.max_words)
    words = _words(texts)
    work = Path(tempfile.mkdtemp(prefix="bench-annotate-"))
    source = str(_notes_parquet(texts, work / "notes.parquet"))
    nlp = spacy.load(args.pipeline)
    _bare(nlp, texts[:8])
    times: dict = {}
    cpu: dict = {}  # this process's CPU time: robust to neighbours, leaves out PostgreSQL's server
    with postgres_server() as pg:

        inside: dict = {}  # system -> seconds spent inside nlp.pipe during annotate's runs

        def run_annotate(output, name):
            spent = [0.0]
            plain_pipe = nlp.pipe

            def timed_pipe(*a, **kw):  # the time annotate spends waiting on the pipeline
                docs = plain_pipe(*a, **kw)
                while True:
                    start = time.perf_counter()
                    try:
                        doc = next(docs)
                    except StopIteration:
                        spent[0] += time.perf_counter() - start
                        return
                    spent[0] += time.perf_counter() - start
                    yield doc

            nlp.pipe = timed_pipe
            try:
                summary = annotate(
                    nlp, source, output, overwrite=True, nlp_datetime=WHEN, progress=False
                )
            finally:
                del nlp.pipe  # back to Language.pipe
            assert summary.annotated == len(texts), summary.to_dict()
            inside.setdefault(name, []).append(spent[0])
            return summary.seconds

        for precision in ("fp32", "int8"):
            if precision == "int8":
                quantize_pipeline(nlp, threads=1)
                _bare(nlp, texts[:8])
            systems = {
                f"nlp.pipe loop ({precision})": lambda: _bare(nlp, texts),
                f"annotate -> Parquet ({precision})": lambda p=precision: run_annotate(
                    str(work / "out"), f"annotate -> Parquet ({p})"
                ),
                f"annotate -> SQLite ({precision})": lambda p=precision: run_annotate(
                    f"sqlite:///{work / 'out.db'}", f"annotate -> SQLite ({p})"
                ),
                f"annotate -> PostgreSQL ({precision})": lambda p=precision: run_annotate(
                    pg, f"annotate -> PostgreSQL ({p})"
                ),
            }
            names = list(systems)
            for rep in range(args.repeats):
                order = names[rep % len(names) :] + names[: rep % len(names)]
                for name in order:
                    cpu_start = time.process_time()
                    times.setdefault(name, []).append(systems[name]())
                    cpu.setdefault(name, []).append(time.process_time() - cpu_start)
                    print(
                        f"  {name}: {times[name][-1]:.1f} s, {cpu[name][-1]:.1f} CPU-s "
                        f"(load {load1():.1f})",
                        flush=True,
                    )
            dequantize_pipeline(nlp)
    table = []
    for name, secs in times.items():
        median = statistics.median(secs)
        bare_name = f"nlp.pipe loop ({name.rsplit('(', 1)[1]}"
        bare = statistics.median(times[bare_name])
        cpu_median, cpu_bare = statistics.median(cpu[name]), statistics.median(cpu[bare_name])
        table.append(
            {
                "system": name,
                "seconds": [round(s, 2) for s in secs],
                "cpu_seconds": [round(s, 2) for s in cpu[name]],
                "notes_per_s": len(texts) / median,
                "words_per_s": words / median,
                "relative": None if name.startswith("nlp.pipe") else bare / median - 1,
                "overhead": None if name.startswith("nlp.pipe") else median / bare - 1,
                "cpu_overhead": None if name.startswith("nlp.pipe") else cpu_median / cpu_bare - 1,
                # same run: annotate's whole time over the time it waited on nlp.pipe
                "own_overhead": None
                if name.startswith("nlp.pipe")
                else statistics.median(
                    total / pipe for total, pipe in zip(secs, inside[name], strict=True)
                )
                - 1,
            }
        )
    _rows(table)
    _save(
        "throughput",
        {
            "notes": len(texts),
            "words": words,
            "threads": 1,
            "pipeline": args.pipeline,
            "repeats": args.repeats,
            "load1_end": load1(),
            "rows": table,
        },
    )


def part_nprocess(args):
    from spacy_clinicalbert import annotate

    texts = mtsamples_texts(args.notes, max_words=args.max_words)
    words = _words(texts)
    work = Path(tempfile.mkdtemp(prefix="bench-annotate-"))
    source = str(_notes_parquet(texts, work / "notes.parquet"))
    table = []
    for n in (1, 2):
        commits = []

        def on_commit(summary, commits=commits):
            commits.append((time.perf_counter(), summary.read, summary.words))

        summary = annotate(
            args.pipeline,
            source,
            str(work / f"n{n}"),
            n_process=n,
            threads=1,
            commit_every=10,
            nlp_datetime=WHEN,
            progress=False,
            on_commit=on_commit,
        )
        # steady state: from the first commit to the last (worker start-up left out)
        (t0, n0, w0), (t1, n1, w1) = commits[0], commits[-1]
        table.append(
            {
                "system": f"annotate --n-process {n} (1 thread each, steady state)",
                "seconds": t1 - t0,
                "notes_per_s": (n1 - n0) / (t1 - t0),
                "words_per_s": (w1 - w0) / (t1 - t0),
                "relative": None,
                "total_s_with_startup": summary.seconds,
                "load1": load1(),
            }
        )
        print(f"  n={n}: {summary.seconds:.1f} s in all", flush=True)
    table[1]["relative"] = table[1]["words_per_s"] / table[0]["words_per_s"] - 1
    _rows(table)
    _save("nprocess", {"notes": len(texts), "words": words, "rows": table})


def part_spark(args):
    import spacy
    import torch

    from spacy_clinicalbert.spark import LOAD_LOG, annotate_files, spark_session

    texts = mtsamples_texts(args.notes, max_words=args.max_words)
    words = _words(texts)
    work = Path(tempfile.mkdtemp(prefix="bench-annotate-"))
    source = str(_notes_parquet(texts, work / "notes.parquet"))
    warm = str(_notes_parquet(texts[:20], work / "warm.parquet"))
    os.environ[LOAD_LOG] = str(work / "loads.log")
    start = time.perf_counter()
    spark = spark_session("local[2]", "bench annotate")
    annotate_files(args.pipeline, warm, str(work / "warm"), spark=spark, nlp_datetime=WHEN)
    startup = time.perf_counter() - start
    summary = annotate_files(
        args.pipeline, source, str(work / "spark"), spark=spark, nlp_datetime=WHEN
    )
    spark.stop()
    torch.set_num_threads(2)
    nlp = spacy.load(args.pipeline)
    _bare(nlp, texts[:8])
    bare = _bare(nlp, texts)
    loads = (work / "loads.log").read_text().splitlines()
    table = [
        {
            "system": "nlp.pipe loop (2 torch threads)",
            "seconds": bare,
            "notes_per_s": len(texts) / bare,
            "words_per_s": words / bare,
            "relative": None,
        },
        {
            "system": "Spark local[2] annotate -> Parquet (warm workers)",
            "seconds": summary.seconds,
            "notes_per_s": len(texts) / summary.seconds,
            "words_per_s": words / summary.seconds,
            "relative": bare / summary.seconds - 1,
            "overhead": summary.seconds / bare - 1,
        },
    ]
    _rows(table)
    print(
        f"Spark start-up (session, first job, {len(loads)} worker pipeline loads): {startup:.1f} s"
    )
    _save(
        "spark",
        {
            "notes": len(texts),
            "words": words,
            "startup_s": startup,
            "worker_loads": loads,
            "load1_end": load1(),
            "rows": table,
        },
    )


def part_memory(args):
    import torch

    from spacy_clinicalbert import annotate

    torch.set_num_threads(1)
    pool = sentences(mtsamples_texts(2000))
    rng = random.Random(0)
    texts = [synthetic_note(pool, args.short_words, rng) for _ in range(args.memory_notes)]
    work = Path(tempfile.mkdtemp(prefix="bench-annotate-"))
    source = str(_notes_parquet(texts, work / "notes.parquet"))
    samples = []

    def on_commit(summary):
        samples.append((summary.read, rss_mb()))

    summary = annotate(
        args.pipeline,
        source,
        str(work / "out"),
        threads=1,
        commit_every=250,
        nlp_datetime=WHEN,
        progress=False,
        on_commit=on_commit,
    )
    first = max(r for n, r in samples if n <= 1000)
    peak = max(r for _, r in samples)
    result = {
        "notes": len(texts),
        "words": _words(texts),
        "seconds": summary.seconds,
        "rss_mb_after_1000": first,
        "rss_mb_peak": peak,
        "growth_after_1000": peak / first - 1,
        "peak_vmhwm_mb": rss_mb("VmHWM"),
        "samples": samples,
        "load1_end": load1(),
    }
    print(
        f"RSS after 1,000 notes {first:.0f} MiB, peak over {len(texts)} notes {peak:.0f} MiB "
        f"({peak / first - 1:+.1%}); {summary.seconds:.0f} s"
    )
    _save("memory", result)


def _kill_child(pipeline, source, output):
    import torch

    torch.set_num_threads(1)
    from spacy_clinicalbert import annotate

    annotate(
        pipeline, source, output, threads=1, commit_every=100, nlp_datetime=WHEN, progress=False
    )


def part_kill(args):
    import pandas as pd

    from spacy_clinicalbert import annotate

    pool = sentences(mtsamples_texts(2000))
    rng = random.Random(1)
    texts = [synthetic_note(pool, args.short_words, rng) for _ in range(args.kill_notes)]
    work = Path(tempfile.mkdtemp(prefix="bench-annotate-"))
    source = str(_notes_parquet(texts, work / "notes.parquet"))
    start = time.perf_counter()
    reference = annotate(
        args.pipeline,
        source,
        str(work / "ref"),
        threads=1,
        commit_every=100,
        nlp_datetime=WHEN,
        progress=False,
    )
    one_run = time.perf_counter() - start
    fork = multiprocessing.get_context("fork")  # this process has run no torch op
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    kills, start = 0, time.perf_counter()
    for left in range(args.kills, 0, -1):
        child = fork.Process(target=_kill_child, args=(args.pipeline, source, str(work / "killed")))
        child.start()
        child.join(rng.uniform(0, 2 * one_run / (left + 1)))
        if child.is_alive():
            os.kill(child.pid, signal.SIGKILL)
            kills += 1
        child.join()
    _kill_child(args.pipeline, source, str(work / "killed"))
    killed_total = time.perf_counter() - start
    same = {}
    for table in ("note_nlp", "note_nlp_relation", "note_nlp_category", "note_nlp_note"):
        a = pd.read_parquet(work / "ref" / table).drop(columns=["nlp_datetime"], errors="ignore")
        b = pd.read_parquet(work / "killed" / table).drop(columns=["nlp_datetime"], errors="ignore")
        key = list(a.columns)
        same[table] = {
            "rows": len(a),
            "rows_after_kills": len(b),
            "identical": a.sort_values(key)
            .reset_index(drop=True)
            .equals(b.sort_values(key).reset_index(drop=True)),
        }
    result = {
        "notes": len(texts),
        "kills": kills,
        "uninterrupted_s": one_run,
        "with_kills_s": killed_total,
        "tables": same,
        "reference_rows": reference.to_dict()["rows"],
        "load1_end": load1(),
    }
    print(json.dumps(result, indent=2))
    _save("kill", result)


def part_table(_args):
    rows = []
    for name in ("throughput", "nprocess", "spark"):
        path = RESULTS / f"annotate_{name}.json"
        if path.exists():
            rows.extend(json.loads(path.read_text())["rows"])
    _rows(rows)
    _save("table", {"rows": rows})


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pipeline", default="/work/pipe/models/with-rules")
    parser.add_argument(
        "--part",
        required=True,
        choices=["throughput", "nprocess", "spark", "memory", "kill", "table"],
    )
    parser.add_argument(
        "--notes", type=int, default=200, help="MTSamples notes for the speed parts"
    )
    parser.add_argument("--max-words", type=int, default=150, help="each cut to this many words")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--memory-notes", type=int, default=10_000)
    parser.add_argument("--kill-notes", type=int, default=4000)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument(
        "--short-words", type=int, default=30, help="words per short note (memory, kill)"
    )
    args = parser.parse_args()
    quiet_offline()
    {
        "throughput": part_throughput,
        "nprocess": part_nprocess,
        "spark": part_spark,
        "memory": part_memory,
        "kill": part_kill,
        "table": part_table,
    }[args.part](args)


if __name__ == "__main__":
    main()
