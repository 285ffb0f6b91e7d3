"""Attributions on ADE test sentences with a trained pipeline: the deletion curve (the target's
score as its top-attributed tokens are removed, beside the same number of random tokens and
the occlusion ranking), completeness of integrated gradients, and seconds per attribution on
this CPU. Also makes the README screenshot of an attribution heat map.

    python -m benchmarks.bench_explain --pipeline /work/pipe/models/with-rules \
        --test /work/pipe/corpus/test.spacy [--sentences 50] [--steps 32]

The test split is the project's conversion of ADE Corpus V2 ($SPACY_CLINICALBERT_DATA); the
sentences are the first ones (file order) that annotate relations and in which the pipeline
predicts an entity. Targets per sentence: the ADE category, the first predicted entity and,
when there is one, the first predicted relation. Curve: score after removing k = 0..K tokens
(never the target's own), area = mean of the K + 1 points; lower means the ranking found the
tokens the score depends on.
"""
import argparse
import json
import random
import statistics
import time
from pathlib import Path

import numpy

from benchmarks.common import REPO, RESULTS, load1, quiet_offline


def main() -> None:
    quiet_offline()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--test", required=True, help="The ADE test split (.spacy)")
    parser.add_argument("--sentences", type=int, default=50)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--deletions", type=int, default=5, help="K, tokens removed at most")
    parser.add_argument("--random-orders", type=int, default=3)
    parser.add_argument("--category", default="ADE")
    parser.add_argument("--kinds", default="category,relation,entity",
                        help="Target kinds, in the order they are run (each over all sentences)")
    parser.add_argument("--budget-seconds", type=float, default=0,
                        help="Stop starting new targets after this long (0: no limit); the "
                        "JSON says how many were done")
    parser.add_argument("--screenshots", default=str(REPO / "assets" / "screenshots"))
    parser.add_argument("--out", default=str(RESULTS / "explain.json"))
    args = parser.parse_args()

    import spacy
    from spacy.tokens import DocBin
    from tqdm import tqdm

    from spacy_clinicalbert import explain, render
    from spacy_clinicalbert.explain.occlusion import rescore
    from spacy_clinicalbert.layers import RELATIONS, annotates
    from spacy_clinicalbert.render.browser import chromium, console_errors, open_page, screenshot

    nlp = spacy.load(args.pipeline)
    gold = list(DocBin().from_disk(args.test).get_docs(nlp.vocab))
    docs = []
    for doc in nlp.pipe(g.text for g in gold if annotates(g, RELATIONS)):
        if doc.ents:
            docs.append(doc)
        if len(docs) == args.sentences:
            break
    rng = random.Random(0)
    rows = []
    started = time.perf_counter()
    jobs = []
    for kind in args.kinds.split(","):
        for doc in docs:
            if kind == "category":
                jobs.append((kind, doc, args.category))
            elif kind == "entity":
                jobs.append((kind, doc, doc.ents[0]))
            elif doc._.relations:
                jobs.append((kind, doc, doc._.relations[0]))
    out_of_time = 0
    for kind, doc, target in tqdm(jobs, desc="targets", unit="target"):
        if args.budget_seconds and time.perf_counter() - started > args.budget_seconds:
            out_of_time += 1
            continue
        a = explain(nlp, doc, target, steps=args.steps, occlusion=True,
                    occlusion_window=None)
        protected = set(a.target.token_indices())
        removable = [t.i for t in doc if t.i not in protected and not t.is_space]
        k_max = min(args.deletions, len(removable) - (kind == "category"))  # never an empty doc
        ig_order = sorted(removable, key=lambda i: -a.scores[i])
        occ_order = sorted(removable, key=lambda i: -numpy.nan_to_num(a.occlusion[i]))
        orders = {"integrated gradients": ig_order, "occlusion": occ_order}
        for r in range(args.random_orders):
            shuffled = list(removable)
            rng.shuffle(shuffled)
            orders[f"random {r}"] = shuffled
        curves = {}
        for name, order in orders.items():
            later = rescore(nlp, doc, a.target, [order[:k] for k in range(1, k_max + 1)])
            curves[name] = [a.score] + later.tolist()
        rows.append({"kind": kind, "score": a.score, "baseline": a.baseline_score,
                     "gap": a.completeness_gap, "seconds": a.seconds, "passes": a.passes,
                     "occlusion_seconds": a.occlusion_seconds,
                     "occlusion_passes": a.occlusion_passes, "tokens": len(doc),
                     "curves": curves})
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"partial": True, "rows": rows}), encoding="utf8")
    summary = {}
    for kind in ("category", "entity", "relation", "all"):
        sel = [r for r in rows if kind == "all" or r["kind"] == kind]
        if not sel:
            continue

        def area(r, name):
            return float(numpy.mean(r["curves"][name]))

        random_area = [statistics.mean(area(r, f"random {i}") for i in range(args.random_orders))
                       for r in sel]
        summary[kind] = {
            "targets": len(sel),
            "area_integrated_gradients": statistics.mean(area(r, "integrated gradients") for r in sel),
            "area_occlusion": statistics.mean(area(r, "occlusion") for r in sel),
            "area_random": statistics.mean(random_area),
            "ig_below_random_share": statistics.mean(
                area(r, "integrated gradients") < ra for r, ra in zip(sel, random_area, strict=True)),
            "completeness_gap_median": statistics.median(r["gap"] for r in sel),
            "completeness_within_5pct_share": statistics.mean(r["gap"] <= 0.05 for r in sel),
            "ig_seconds_median": statistics.median(r["seconds"] for r in sel),
            "ig_seconds_mean": statistics.mean(r["seconds"] for r in sel),
            "occlusion_seconds_median": statistics.median(r["occlusion_seconds"] for r in sel),
            "passes_max": max(r["passes"] for r in sel),
            "refined_share": statistics.mean(r["passes"] > args.steps for r in sel),
            "mean_score": statistics.mean(r["score"] for r in sel),
        }

    # The README heat map: the demo note of bench_render, its first relation (else the category).
    from benchmarks.bench_render import DEMO_NOTE

    demo = nlp(DEMO_NOTE)
    target = demo._.relations[0] if demo._.relations else args.category
    attribution = explain(nlp, demo, target, steps=args.steps)
    page = Path("/tmp") / "bench_explain_heatmap.html"
    page.write_text(render([demo], attributions=[attribution], title="attribution"),
                    encoding="utf8")
    out_dir = Path(args.screenshots)
    with chromium(width=1100, height=900) as driver:
        open_page(driver, page)
        from selenium.webdriver.common.by import By

        shot = screenshot(driver, out_dir / "attribution_heatmap.png",
                          driver.find_element(By.CSS_SELECTOR, "section.attribution"))
        errors = console_errors(driver)
    result = {"pipeline": args.pipeline, "test": args.test, "sentences": len(docs),
              "steps": args.steps, "passes_unrefined": args.steps,
              "deletions": args.deletions, "random_orders": args.random_orders,
              "summary": summary, "targets_planned": len(jobs),
              "targets_skipped_for_time": out_of_time, "budget_seconds": args.budget_seconds,
              "demo": {"target": attribution.target.describe(), "score": attribution.score,
                       "top": attribution.top(8), "gap": attribution.completeness_gap,
                       "screenshot": str(shot), "console_errors": errors},
              "load1": load1(), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf8")
    print(f"{'target':<10}{'n':>4}{'area IG':>9}{'area occl.':>11}{'area rand.':>11}"
          f"{'IG<rand':>8}{'gap med.':>9}{'<=5%':>6}{'refined':>8}{'IG s':>7}{'occl. s':>8}")
    for kind, s in summary.items():
        print(f"{kind:<10}{s['targets']:>4}{s['area_integrated_gradients']:>9.3f}"
              f"{s['area_occlusion']:>11.3f}{s['area_random']:>11.3f}"
              f"{s['ig_below_random_share']:>8.2f}{s['completeness_gap_median']:>9.3f}"
              f"{s['completeness_within_5pct_share']:>6.2f}{s['refined_share']:>8.2f}"
              f"{s['ig_seconds_median']:>7.2f}"
              f"{s['occlusion_seconds_median']:>8.2f}")
    print(f"{len(docs)} sentences, {args.steps} steps per attribution ({2 * args.steps - 1} "
          "where refined); "
          f"load {result['load1']}; demo: {attribution.target.describe()} top "
          f"{[t for t, _, _ in attribution.top(5)]}")


if __name__ == "__main__":
    main()
