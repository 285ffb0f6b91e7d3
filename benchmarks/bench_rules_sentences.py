"""Sentence splitters for ConText on clinical text: accuracy on hand-marked breaks, and speed.

Compares spaCy's `sentencizer`, our `clinical_sentences`, medspaCy's PyRuSH
(`medspacy_pyrush`) and pySBD (`medspacy_pysbd`). Accuracy: boundary P/R/F1 on
assets/clinical_sentence_breaks.txt (the set the rules were written against)
and assets/clinical_sentence_breaks_heldout.txt (written afterwards, not used
for tuning). Speed: words per second of the splitter alone on pre-tokenized
MTSamples notes (CPU shared with other jobs: compare the ratios, not absolutes).

    OMP_NUM_THREADS=1 python benchmarks/bench_rules_sentences.py [--notes 200]
"""
import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import spacy

from spacy_clinicalbert.rules._medspacy import medspacy_module
from spacy_clinicalbert.rules.sentence_eval import predicted_starts, read_sentence_cases, score_boundaries

if __package__ in (None, ""):  # run as `python benchmarks/bench_rules_sentences.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import REPO, RESULTS, distinct_mtsamples  # noqa: E402

CASES = {
    "dev": REPO / "assets" / "clinical_sentence_breaks.txt",
    "heldout": REPO / "assets" / "clinical_sentence_breaks_heldout.txt",
}
SPLITTERS = ["sentencizer", "clinical_sentences", "medspacy_pysbd", "medspacy_pyrush"]


def main(n_notes: int, out: Path) -> None:
    medspacy_module("sentence_splitting")  # registers medspacy_pyrush / medspacy_pysbd
    cases = {split: read_sentence_cases(path) for split, path in CASES.items()}
    notes = list(itertools.islice(distinct_mtsamples(), n_notes))
    results = {}
    for splitter in SPLITTERS:
        nlp = spacy.blank("en")
        pipe = nlp.add_pipe(splitter)
        row = {}
        for split, items in cases.items():
            pairs = [(case.starts, predicted_starts(nlp(case.text))) for case in items]
            row[split] = score_boundaries(pairs)
        docs = [nlp.make_doc(text) for text in notes]
        words = sum(len(doc) for doc in docs)
        start = time.perf_counter()
        for doc in docs:
            pipe(doc)
        seconds = time.perf_counter() - start
        row["speed"] = {"tokens": words, "seconds": seconds, "tokens_per_s": words / seconds}
        try:
            nlp.to_bytes()
            row["saves"] = True
        except Exception as err:  # noqa: BLE001 - we report whatever breaks
            row["saves"] = f"{type(err).__name__}: {str(err)[:80]}"
        results[splitter] = row
    header = f"{'splitter':<20}{'dev F1':>8}{'dev exact':>10}{'held F1':>9}{'held exact':>11}{'tokens/s':>11}  saves"
    print(header)
    print("-" * len(header))
    for name, row in results.items():
        print(f"{name:<20}{row['dev']['f1']:>8.3f}{row['dev']['docs_exact']:>10.2f}{row['heldout']['f1']:>9.3f}"
              f"{row['heldout']['docs_exact']:>11.2f}{row['speed']['tokens_per_s']:>11.0f}  {row['saves']}")
    print(f"({sum(len(c) for c in cases.values())} cases; speed on {len(notes)} distinct MTSamples notes, "
          f"{results['sentencizer']['speed']['tokens']} tokens; shared CPU)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=200, help="distinct MTSamples notes for the speed test")
    parser.add_argument("--out", type=Path, default=RESULTS / "rules_sentences.json")
    args = parser.parse_args()
    main(args.notes, args.out)
