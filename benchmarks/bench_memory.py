"""Resident memory of a long `nlp.pipe` stream, with and without heap trimming.

Each setting runs in a fresh process (so peak RSS is its own): the pipeline streams
N short notes (MTSamples sentences drawn at random, docs dropped as they come) and
RSS / peak RSS are read every 1,000 docs. Settings differ only in
`clinicalbert_cleanup.trim_memory_every` (0 = never hand freed heap back to the OS).
Target (issue: benchmarks): peak RSS grows < 10% from doc 1,000 to the last doc.

    python benchmarks/bench_memory.py --pipeline training/model-best --docs 10000
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/bench_memory.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    DATA, RESULTS, mtsamples_texts, quiet_offline, rss_mb, sentences, synthetic_note,
)

quiet_offline()  # as when this script took its helpers from bench_speed


def child(pipeline: str, docs: int, trim_every: int, doc_words: int, every: int) -> dict:
    import spacy
    import torch

    torch.set_num_threads(1)
    nlp = spacy.load(pipeline)
    cleanup = [n for n in nlp.pipe_names if n.endswith("_cleanup")]
    if not cleanup:
        raise SystemExit(f"{pipeline}: no clinicalbert_cleanup component to configure")
    nlp.get_pipe(cleanup[0]).trim_memory_every = trim_every
    pool = sentences(mtsamples_texts(2000))
    rng = random.Random(2)
    texts = (synthetic_note(pool, doc_words, rng) for _ in range(docs))
    marks, started = [], time.perf_counter()
    for i, _ in enumerate(nlp.pipe(texts, batch_size=64), start=1):
        if i % every == 0:
            marks.append({"docs": i, "rss_mb": round(rss_mb(), 1),
                          "peak_rss_mb": round(rss_mb("VmHWM"), 1),
                          "seconds": round(time.perf_counter() - started, 1)})
            print(f"  trim every {trim_every}: {i} docs, rss {marks[-1]['rss_mb']} MB", file=sys.stderr)
    base = next(m for m in marks if m["docs"] >= min(1000, docs))
    last = marks[-1]
    return {"trim_memory_every": trim_every, "docs": docs, "marks": marks,
            "peak_growth_after_1000": (last["peak_rss_mb"] - base["peak_rss_mb"]) / base["peak_rss_mb"],
            "rss_growth_after_1000": (last["rss_mb"] - base["rss_mb"]) / base["rss_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", required=True, help="a saved pipeline with clinicalbert_cleanup")
    parser.add_argument("--docs", type=int, default=10000, help="docs streamed per setting")
    parser.add_argument("--doc-words", type=int, default=12, help="words per doc (at least)")
    parser.add_argument("--every", type=int, default=1000, help="read RSS every N docs")
    parser.add_argument("--settings", default="0,1000", help="trim_memory_every values to compare")
    parser.add_argument("--output", default=str(RESULTS / "memory.json"))
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.pipeline, args.docs, args.child, args.doc_words, args.every)))
        return
    if not (DATA / "mtsamples" / "mtsamples.csv").exists():
        raise SystemExit(f"MTSamples not found under {DATA}")
    results = {"pipeline": args.pipeline, "command": " ".join(sys.argv), "settings": [],
               "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "load1_start": os.getloadavg()[0]}
    for value in [int(v) for v in args.settings.split(",")]:
        cmd = [sys.executable, __file__, "--pipeline", args.pipeline, "--docs", str(args.docs),
               "--doc-words", str(args.doc_words), "--every", str(args.every), "--child", str(value)]
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        results["settings"].append(json.loads(out.strip().splitlines()[-1]))
    results["load1_end"] = os.getloadavg()[0]
    print(f"\n{'trim every':>10} {'RSS@1000':>9} {'RSS end':>8} {'peak@1000':>10} {'peak end':>9} "
          f"{'peak growth':>12}  target < 10%")
    for s in results["settings"]:
        base = next(m for m in s["marks"] if m["docs"] >= min(1000, s["docs"]))
        last = s["marks"][-1]
        holds = "HOLDS" if s["peak_growth_after_1000"] < 0.10 else "FAILS"
        print(f"{s['trim_memory_every']:>10} {base['rss_mb']:>9.0f} {last['rss_mb']:>8.0f} "
              f"{base['peak_rss_mb']:>10.0f} {last['peak_rss_mb']:>9.0f} "
              f"{s['peak_growth_after_1000']:>+11.1%}  {holds}")
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n", encoding="utf8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
