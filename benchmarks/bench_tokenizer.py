"""Tokenizer speed on clinical notes: why ClinicalTokenizer leaves out spaCy's whitespace rules.

spaCy's English exceptions keep " ", "\\t" and "\\n" whole as special cases. Any special-case hit
turns the tokenizer's cache off for the rest of that doc (spaCy issue #1250), and MTSamples, like
many dictated notes, puts two spaces after each sentence: every extra space is a hit, so every word
after the first sentence is split by the affix regexes again on every call. This prints the warm
time per token of three tokenizers on the same notes, as written and with runs of spaces collapsed:
spaCy's English tokenizer, ours, and ours with the whitespace rules put back (our previous release),
and checks that ours gives the same tokens as the last one.

    python benchmarks/bench_tokenizer.py --notes 500 --reps 5      # about 1 minute
"""
import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/bench_tokenizer.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, mtsamples_texts, quiet_offline  # noqa: E402

quiet_offline()  # as when this script took its helpers from bench_speed


def tokenizers() -> dict:
    import spacy

    from spacy_clinicalbert.text import blank_clinical
    from spacy_clinicalbert.text.tokenizer import with_spacy_whitespace_rules

    ours = blank_clinical().tokenizer
    return {"spaCy English": spacy.blank("en").tokenizer, "ClinicalTokenizer": ours,
            "ClinicalTokenizer + whitespace rules": with_spacy_whitespace_rules(ours)}


def seconds_per_pass(tokenizer, texts, reps: int) -> float:
    for text in texts:  # warm: every word seen once
        tokenizer(text)
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        for text in texts:
            tokenizer(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=500, help="de-duplicated MTSamples notes")
    parser.add_argument("--reps", type=int, default=5, help="timed passes after one warm pass (median)")
    parser.add_argument("--output", default=str(RESULTS / "tokenizer.json"))
    args = parser.parse_args()
    as_written = mtsamples_texts(args.notes)
    corpora = {"as written": as_written, "spaces collapsed": [re.sub(r" {2,}", " ", t) for t in as_written]}
    words = sum(len(t.split()) for t in as_written)
    found = tokenizers()
    ours, restored = found["ClinicalTokenizer"], found["ClinicalTokenizer + whitespace rules"]
    differing = sum([t.text_with_ws for t in ours(text)] != [t.text_with_ws for t in restored(text)]
                    for text in as_written)
    rows = []
    for name, tokenizer in found.items():
        for corpus, texts in corpora.items():
            n_tokens = sum(len(tokenizer(text)) for text in texts)
            seconds = seconds_per_pass(tokenizer, texts, args.reps)
            rows.append({"tokenizer": name, "text": corpus, "tokens": n_tokens, "seconds": round(seconds, 4),
                         "us_per_token": round(seconds / n_tokens * 1e6, 2)})
    print(f"\n{args.notes} MTSamples notes ({words:,} whitespace words), "
          f"warm, median of {args.reps} passes, 1 process")
    print("| tokenizer | text | tokens | s per pass | us per token |")
    print("|---|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['tokenizer']} | {row['text']} | {row['tokens']:,} | {row['seconds']} | {row['us_per_token']} |")
    print(f"notes tokenized differently by ClinicalTokenizer with and without the whitespace rules: {differing}")
    Path(args.output).write_text(json.dumps({"notes": args.notes, "reps": args.reps, "rows": rows,
                                             "differing_notes": differing}, indent=2) + "\n", encoding="utf8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
