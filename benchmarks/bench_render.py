"""Render speed: 100 MTSamples notes through a trained pipeline, then `render` (ours) beside
displaCy's entity page (`displacy.render(style="ent")`, entities only) on the same docs, and
the page opened in headless Chromium (load until the arcs are drawn). Also makes the README
screenshot of a note with entities, a relation and a negated finding.

    python -m benchmarks.bench_render --pipeline /work/pipe/models/with-rules [--notes 100]
"""
import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.common import REPO, RESULTS, load1, mtsamples_texts, quiet_offline

# Our own words (no corpus text): a drug, an adverse effect it caused, a negated finding.
DEMO_NOTE = (
    "HISTORY OF PRESENT ILLNESS: The patient developed a diffuse rash and severe itching two "
    "days after starting amoxicillin for otitis media. She denies nausea or vomiting."
    "\n\nPAST MEDICAL HISTORY: Hypertension treated with lisinopril.\n\n"
    "ASSESSMENT: Drug eruption due to amoxicillin; amoxicillin stopped."
)


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times), times


def main() -> None:
    quiet_offline()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--notes", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--screenshots", default=str(REPO / "assets" / "screenshots"))
    parser.add_argument("--out", default=str(RESULTS / "render.json"))
    args = parser.parse_args()

    import spacy
    from spacy import displacy

    from spacy_clinicalbert import render
    from spacy_clinicalbert.render.browser import chromium, console_errors, open_page, screenshot

    nlp = spacy.load(args.pipeline)
    texts = mtsamples_texts(args.notes)
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=8))
    pipeline_s = time.perf_counter() - start
    words = sum(len(d) for d in docs)
    stats = []
    page, ours_s, ours_all = timed(lambda: render(docs, title="MTSamples"), args.repeats)
    render(docs, stats=stats)
    peer, displacy_s, displacy_all = timed(
        lambda: displacy.render(docs, style="ent", page=True, jupyter=False), args.repeats)
    out_dir = Path(args.screenshots)
    out_dir.mkdir(parents=True, exist_ok=True)
    page_path = Path("/tmp") / "bench_render_mtsamples.html"
    page_path.write_text(page, encoding="utf8")

    demo = nlp(DEMO_NOTE)
    demo_page = Path("/tmp") / "bench_render_demo.html"
    demo_page.write_text(render([demo], title="spacy-clinicalbert render"), encoding="utf8")
    with chromium(width=1100, height=900) as driver:
        start = time.perf_counter()
        open_page(driver, page_path, timeout=120)
        browser_s = time.perf_counter() - start
        arcs = int(driver.execute_script("return document.body.getAttribute('data-arcs')"))
        marks = int(driver.execute_script("return document.querySelectorAll('mark.ent').length"))
        errors = console_errors(driver)
        open_page(driver, demo_page)
        from selenium.webdriver.common.by import By

        note = driver.find_element(By.CSS_SELECTOR, "article.note")
        shot = screenshot(driver, out_dir / "render_note.png", note)
        demo_errors = console_errors(driver)
        demo_arcs = int(driver.execute_script("return document.body.getAttribute('data-arcs')"))

    negated = [e.text for e in demo.ents if getattr(e._, "is_negated", False)]
    result = {
        "pipeline": args.pipeline, "pipe_names": nlp.pipe_names, "notes": len(docs),
        "words": words, "pipeline_seconds": round(pipeline_s, 2),
        "render_seconds_median": round(ours_s, 3), "render_seconds_all": [round(t, 3) for t in ours_all],
        "displacy_ent_seconds_median": round(displacy_s, 3),
        "displacy_ent_seconds_all": [round(t, 3) for t in displacy_all],
        "page_mb": round(len(page.encode("utf8")) / 2 ** 20, 2),
        "displacy_page_mb": round(len(peer.encode("utf8")) / 2 ** 20, 2),
        "entities": sum(s.entities for s in stats), "relations": sum(s.relations for s in stats),
        "relations_across_blocks": sum(s.relations_across_blocks for s in stats),
        "chromium_load_and_draw_seconds": round(browser_s, 2), "chromium_marks": marks,
        "chromium_arcs": arcs, "console_errors": errors,
        "demo": {"entities": [(e.text, e.label_) for e in demo.ents],
                 "relations": [(r.head.text, r.label, r.tail.text, round(r.score, 3))
                               for r in demo._.relations],
                 "negated": negated, "arcs": demo_arcs, "console_errors": demo_errors,
                 "screenshot": str(shot.relative_to(REPO)) if shot.is_relative_to(REPO) else str(shot)},
        "load1": load1(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf8")
    print(f"{'system':<28}{'seconds (median of %d)' % args.repeats:>24}{'page MB':>10}")
    print(f"{'render (ours)':<28}{ours_s:>24.3f}{result['page_mb']:>10}")
    print(f"{'displacy.render(style=ent)':<28}{displacy_s:>24.3f}{result['displacy_page_mb']:>10}")
    print(f"{len(docs)} notes, {words} tokens; pipeline {pipeline_s:.1f} s; {result['entities']} "
          f"entities, {result['relations']} relations; Chromium load+draw {browser_s:.2f} s, "
          f"{marks} marks, {arcs} arcs, console errors: {len(errors)}; load {result['load1']}")
    print("demo:", json.dumps(result["demo"]))


if __name__ == "__main__":
    main()
