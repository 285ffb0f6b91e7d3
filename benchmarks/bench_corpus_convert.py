"""Convert the three shared corpora (ADE, Chia with/without scope, MTSamples), time it, and
check the stats against the counts in their PROVENANCE.md files.

    python benchmarks/bench_corpus_convert.py [--out /tmp/corpus_bench]

Prints a table and writes benchmarks/results/corpus_convert.json. The .spacy files go to
--out (outside the repository: the corpora's licences keep them out of it).
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from wasabi import msg

if __package__ in (None, ""):  # run as `python benchmarks/bench_corpus_convert.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DATA, RESULTS  # noqa: E402

RUNS = [
    ("ade", "ade", DATA / "ade_corpus_v2", {}),
    ("chia_without_scope", "brat", DATA / "chia" / "chia_without_scope", {"on_invalid": "skip", "on_mismatch": "keep"}),
    ("chia_with_scope", "brat", DATA / "chia" / "chia_with_scope", {"on_invalid": "skip", "on_mismatch": "keep"}),
    ("mtsamples", "csv", DATA / "mtsamples" / "mtsamples.csv",
     {"text_column": "transcription", "label_columns": ["medical_specialty"], "id_column": "note_id"}),
]


def checks(name, st):
    """(what, expected from PROVENANCE.md, measured)."""
    rel_read = sum(st["read"]["relations"].values())
    eq = st["ignored"].get("brat_equivalence_relations", 0)
    if name == "ade":
        return [
            ("positive sentences (cat ADE)", 4272, st["cats"]["total"].get("ADE")),
            ("negative sentences (distinct)", 16688, st["docs"]["total"] - st["cats"]["total"].get("ADE", 0)),
            ("DRUG-AE relations in docs", 6821, st["relations"]["total"].get("DRUG-AE")),
            ("DRUG-DOSE relations in docs", 279, st["relations"]["total"].get("DRUG-DOSE")),
            ("AE entities", 5776, st["entities"]["total"].get("AE")),
            ("DRUG entities (DRUG-AE file)", 5063, st["entities"]["total"].get("DRUG")),
        ]
    if name.startswith("chia"):
        with_scope = name == "chia_with_scope"
        return [
            ("documents", 2000, st["docs"]["total"]),
            ("entities (T lines)", 48870 if with_scope else 44616, sum(st["read"]["entities"].values())),
            ("entities in doc.spans", 48870 if with_scope else 44616, sum(st["entities"]["total"].values())),
            ("discontinuous", 1822 if with_scope else 1796, st["ignored"].get("entities_discontinuous")),
            ("R relations", 19304 if with_scope else 20153, rel_read - eq),
            ("* groups", 4968 if with_scope else 5015, st["ignored"].get("brat_equivalence_groups")),
            ("trial groups", 1000, st["groups"]["total"]),
        ]
    return [
        ("notes with text", 4966, st["docs"]["total"]),
        ("distinct texts (groups)", 2357, st["groups"]["total"]),
        ("classes", 40, len(st["cats"]["total"])),
        ("empty transcriptions omitted", 33, st["omissions"].get("csv_empty_text")),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "corpus_bench")
    args = parser.parse_args()
    from spacy_clinicalbert.corpus import convert, make_nlp

    started = time.perf_counter()
    nlp = make_nlp()
    load_s = time.perf_counter() - started
    results, rows, ok = {"nlp_load_seconds": round(load_s, 1), "corpora": {}}, [], True
    for name, fmt, path, options in RUNS:
        t0 = time.perf_counter()
        result = convert(fmt, path, args.out / name, nlp=nlp, **options)
        seconds = time.perf_counter() - t0
        st = result.stats.to_dict()
        # No split group may appear in two splits.
        leaks = set.intersection(*[{g for g in result.stats.groups[s]} for s in ("train", "dev")]) | set.intersection(
            *[result.stats.groups[s] for s in ("train", "test")]) | set.intersection(*[result.stats.groups[s] for s in ("dev", "test")])
        checked = checks(name, st) + [("groups in two splits", 0, len(leaks))]
        results["corpora"][name] = {
            "command": f"python -m spacy_clinicalbert convert-corpus {fmt} {path} OUT"
            + "".join(f" --{k.replace('_', '-').rstrip('s')} {v[0] if isinstance(v, list) else v}" for k, v in options.items()),
            "seconds": round(seconds, 1),
            "docs": st["docs"],
            "tokens": st["tokens"]["total"],
            "tokens_per_second": round(st["tokens"]["total"] / seconds),
            "checks": [{"what": w, "expected": e, "measured": m, "ok": e == m} for w, e, m in checked],
            "stats": st,
        }
        for what, expected, measured in checked:
            ok &= expected == measured
            rows.append([name, what, expected, measured, "ok" if expected == measured else "DIFF"])
        rows.append([name, "seconds / tokens", "", f"{seconds:.1f} s / {st['tokens']['total']}", ""])
        del result
    msg.table(rows, header=["corpus", "check", "PROVENANCE", "measured", ""], divider=True)
    out = RESULTS / "corpus_convert.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf8")
    msg.good(f"Wrote {out}") if ok else msg.fail(f"Some checks differ; see {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
