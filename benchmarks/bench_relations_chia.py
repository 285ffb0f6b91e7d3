"""Chia relations with gold entities (trial-grouped split): sigmoid vs softmax, each
trained for a capped time with configs/relations_chia_tok2vec.cfg, scored on the
test split against the all-pairs floor (most frequent label per entity-type pair
over the same candidates), per label.

    python benchmarks/bench_relations_corpora.py chia corpus/relations_chia
    python benchmarks/bench_relations_chia.py --minutes 12
"""
import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/bench_relations_chia.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_relations_common import (  # noqa: E402
    ROOT, load, pct, per_label_rows, print_table, read_examples, relation_summary, train_capped,
)

MODES = {"sigmoid": "true", "softmax": "false"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=12.0, help="wall-time cap per training run")
    ap.add_argument("--modes", nargs="+", default=list(MODES), help="sigmoid and/or softmax")
    ap.add_argument("--corpus", default="corpus/relations_chia")
    ap.add_argument("--no-train", action="store_true", help="score existing training/ folders")
    args = ap.parse_args()
    corpus = ROOT / args.corpus
    results = {"corpus": args.corpus, "split": "trial-grouped (md5 of NCT id), 80/10/10",
               "entities": "gold (span group 'entities')", "runs": {}}
    for mode in args.modes:
        out = ROOT / "training" / f"relations_chia_{mode}"
        run = {}
        if not args.no_train:
            run["training"] = train_capped(
                ROOT / "configs" / "relations_chia_tok2vec.cfg", out, args.minutes,
                [f"--components.clinical_relations.multi_label={MODES[mode]}",
                 f"--paths.train={corpus / 'train.spacy'}", f"--paths.dev={corpus / 'dev.spacy'}"],
            )
        nlp = load(out / "model-best")
        examples = read_examples(nlp, corpus / "test.spacy", gold_entities=True)
        start = time.time()
        scores = nlp.evaluate(examples)
        run["eval_s"] = round(time.time() - start, 1)
        run["test"] = relation_summary(scores)
        results["runs"][mode] = run
        print_table(f"Chia test, gold entities, {mode}", per_label_rows(run["test"]))
    summary = [("mode", "micro P", "micro R", "micro F1", "macro F1", "floor micro F1", "gain")]
    for mode, run in results["runs"].items():
        t = run["test"]
        summary.append((mode, pct(t["micro_p"]), pct(t["micro_r"]), pct(t["micro_f"]),
                        pct(t["macro_f"]), pct(t["floor_micro_f"]),
                        pct(t["micro_f"] - t["floor_micro_f"])))
    print_table("Chia test summary (gold entities)", summary)
    path = ROOT / "benchmarks" / "results" / "relations_chia.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
