"""ADE end to end (PubMed-id grouped split): clinicalbert (packaged MiniLM) + ner +
spancat + two relation heads, trained on this CPU under a wall-time cap with
configs/relations_ade_minilm.cfg, scored on the test split.

Reported for both candidate sources (doc.ents from ner; span group "entities" from
spancat, which can hold drugs nested in AE spans): end-to-end relation P/R/F1 and
the all-pairs floor over the same predicted entities, then the same heads with gold
entities.

    python benchmarks/bench_relations_corpora.py ade corpus/relations_ade
    python benchmarks/bench_relations_ade.py --minutes 45            # train + score
    python benchmarks/bench_relations_ade.py --no-train --model training/relations_ade/model-best
"""
import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/bench_relations_ade.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_relations_common import (  # noqa: E402
    ROOT, load, pct, print_table, read_examples, relation_summary, train_capped,
)

HEADS = {"clinical_relations": ("rel", "doc.ents (ner)"),
         "clinical_relations_sc": ("rel_sc", "span group 'entities' (spancat)")}
THRESHOLDS = [round(0.05 * k, 2) for k in range(2, 20)]


def tune_threshold(nlp, name: str, prefix: str, heads, dev_path: Path) -> dict:
    """The head's threshold with the best end-to-end micro F1 on dev (ties: nearest 0.5).
    The recognizers run once; only set_annotations is repeated per threshold."""
    examples = read_examples(nlp, dev_path, gold_entities=False)
    upstream = [n for n in nlp.pipe_names if n not in heads and not n.endswith("_cleanup")]
    with nlp.select_pipes(enable=upstream):
        docs = list(nlp.pipe([eg.predicted for eg in examples]))
    for eg, doc in zip(examples, docs):
        eg.predicted = doc
    head = nlp.get_pipe(name)
    predictions = head.predict(docs)
    sweep = {}
    for threshold in THRESHOLDS:
        head.cfg["threshold"] = threshold
        head.set_annotations(docs, predictions)
        sweep[threshold] = head.score(examples)[f"{prefix}_micro_f"]
    best = max(THRESHOLDS, key=lambda t: (round(sweep[t], 6), -abs(t - 0.5)))
    head.cfg["threshold"] = best
    return {"threshold": best, "dev_micro_f": sweep[best], "dev_micro_f_at_0.5": sweep[0.5],
            "sweep": sweep}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=45.0, help="wall-time cap for training")
    ap.add_argument("--threads", type=int, default=2, help="torch threads for training")
    ap.add_argument("--corpus", default="corpus/relations_ade")
    ap.add_argument("--output", default="training/relations_ade")
    ap.add_argument("--model", default=None, help="pipeline to score (default: OUTPUT/model-best)")
    ap.add_argument("--no-train", action="store_true", help="score an existing pipeline")
    ap.add_argument("--config", default="configs/relations_ade_minilm.cfg", help="training config")
    ap.add_argument("--results", default="benchmarks/results/relations_ade.json", help="JSON written")
    args = ap.parse_args()
    corpus = ROOT / args.corpus
    results = {"corpus": args.corpus, "split": "PubMed-id grouped (md5), 80/10/10"}
    if not args.no_train:
        results["training"] = train_capped(
            ROOT / args.config, ROOT / args.output, args.minutes,
            [f"--paths.train={corpus / 'train.spacy'}", f"--paths.dev={corpus / 'dev.spacy'}"],
            threads=args.threads,
        )
    model_path = Path(args.model) if args.model else ROOT / args.output / "model-best"
    nlp = load(model_path)
    results["model"] = str(model_path)
    # Each head writes doc._.relations (the last one wins), so score one head at a time.
    heads = [name for name in HEADS if name in nlp.pipe_names]
    start = time.time()
    results["heads"] = {}
    rows = [("candidates from", "threshold", "entities", "P", "R", "F1", "floor P", "floor R",
             "floor F1", "cand. recall")]
    for name in heads:
        prefix, source = HEADS[name]
        others = [h for h in heads if h != name]
        head = {"source": source}
        recognizers = [n for n in ("ner", "spancat") if n in nlp.pipe_names]
        for setting in ("threshold 0.5", "dev-tuned threshold"):
            if setting == "threshold 0.5":
                nlp.get_pipe(name).cfg["threshold"] = 0.5
            else:
                head["tuning"] = tune_threshold(nlp, name, prefix, heads, corpus / "dev.spacy")
            with nlp.select_pipes(disable=others):
                e2e = nlp.evaluate(read_examples(nlp, corpus / "test.spacy", gold_entities=False))
            with nlp.select_pipes(disable=others + recognizers):
                gold = nlp.evaluate(read_examples(nlp, corpus / "test.spacy", gold_entities=True))
            results["entities"] = {"ents_p": e2e.get("ents_p"), "ents_r": e2e.get("ents_r"),
                                   "ents_f": e2e.get("ents_f"),
                                   "spans_entities_f": e2e.get("spans_entities_f")}
            threshold = nlp.get_pipe(name).cfg["threshold"]
            head[setting] = {"threshold": threshold, "end_to_end": relation_summary(e2e, prefix),
                             "gold_entities": relation_summary(gold, prefix)}
            for entities in ("end_to_end", "gold_entities"):
                s = head[setting][entities]
                rows.append((source, f"{setting} ({threshold})", entities.replace("_", " "),
                             pct(s["micro_p"]), pct(s["micro_r"]), pct(s["micro_f"]),
                             pct(s.get("floor_micro_p")), pct(s.get("floor_micro_r")),
                             pct(s.get("floor_micro_f")), pct(s.get("candidate_recall"))))
        results["heads"][name] = head
    results["eval_s"] = round(time.time() - start, 1)
    print(f"NER test P/R/F {pct(results['entities']['ents_p'])}/{pct(results['entities']['ents_r'])}/"
          f"{pct(results['entities']['ents_f'])}; spancat F {pct(results['entities']['spans_entities_f'])}")
    print_table("ADE test: relation ADE (DRUG -> AE)", rows)
    path = ROOT / args.results
    path.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
