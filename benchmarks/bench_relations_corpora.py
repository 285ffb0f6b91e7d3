"""ADE and Chia for the relation benchmarks, read by the package's converter
(`spacy_clinicalbert.corpus.convert`), shaped the way bench_relations_ade.py and
bench_relations_chia.py were measured:

- ADE (`--ade-scope drug-ae`, default): the sentences of DRUG-AE.rel with their DRUG and AE
  entities and DRUG-AE relations (DOSE entities, DRUG-DOSE relations and the ADE-NEG sentences,
  which annotate only their category, are left out; `--ade-scope all` keeps the converter's
  whole output);
- Chia (chia_without_scope; `--on-invalid skip --on-mismatch keep`, discontinuous entities
  as their full extent): one doc per criterion line (`--chia-docs lines`, default; entities
  and relations that cross a line end are dropped and counted) or one per file (`files`);
  the converter turns each `*` equivalence group into a chain of OR (NOT) relations, which
  these benchmarks left out (`--chia-equivalence drop`, default; `keep` keeps them).

Docs carry doc.ents (non-overlapping, longest first), doc.spans["entities"] (all gold
entities) and doc._.relations. Split by document group (ADE: PubMed id; Chia: trial id):
`--split md5` (default) keeps the split these benchmarks were measured on (md5 of the group,
80/10/10), handed to the converter as split lists; `--split seeded` takes the converter's own
seeded split (--seed, 80/10/10), as bench_corpora.py does. Writes train/dev/test.spacy, the
converter's stats.json and benchmark.json (what was left out, docs per split).

    python benchmarks/bench_relations_corpora.py ade  corpus/relations_ade
    python benchmarks/bench_relations_corpora.py chia corpus/relations_chia
"""
import argparse
import hashlib
import json
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List

from spacy.tokens import Doc, Span

from spacy_clinicalbert.corpus import ConversionStats, convert, read_records, select_ents, write_splits
from spacy_clinicalbert.layers import recorded_layers, set_layers
from spacy_clinicalbert.relations import Relation, set_relations
from spacy_clinicalbert.relations.data import get_relations

if __package__ in (None, ""):  # run as `python benchmarks/bench_relations_corpora.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DATA  # noqa: E402

SPLITS = ("train", "dev", "test")
EQUIVALENCE_LABELS = ("OR", "NOT")  # Chia's `*` group types
SOURCES = {
    "ade": ("ade", DATA / "ade_corpus_v2", {}),
    "chia": ("brat", DATA / "chia" / "chia_without_scope",
             {"on_invalid": "skip", "on_mismatch": "keep", "discontinuous": "hull"}),
}


def split_of(group: str, dev: float = 0.1, test: float = 0.1) -> str:
    h = int(hashlib.md5(group.encode("utf8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < test else "dev" if h < test + dev else "train"


def md5_split_lists(fmt: str, path: Path, options: Dict, folder: Path) -> Path:
    """train.txt / dev.txt / test.txt of the corpus's groups (read by the package's reader)."""
    reader_options = {k: v for k, v in options.items() if k == "on_invalid"}
    groups = sorted({rec.group for rec in read_records(fmt, path, ConversionStats(), **reader_options)})
    lists = defaultdict(list)
    for group in groups:
        lists[split_of(group)].append(group)
    for name in SPLITS:
        (folder / f"{name}.txt").write_text("".join(f"{g}\n" for g in lists[name]), encoding="utf8")
    return folder


def rebuild(doc: Doc, spans: List[Span], relations: List[Relation], stats: Counter) -> None:
    """Set doc.spans["entities"], doc.ents (longest first) and doc._.relations from `spans`."""
    unique = sorted({(s.start, s.end, s.label_): s for s in spans}.values(), key=lambda s: (s.start, s.end, s.label_))
    doc.spans["entities"] = unique
    kept, aside = select_ents(list(unique), "longest")
    doc.ents = kept
    set_relations(doc, relations)
    stats["entities"] += len(unique)
    stats["entities not in doc.ents (overlap)"] += len(aside)
    stats["relations"] += len(relations)
    keys = {(e.start, e.end, e.label_) for e in kept}
    stats["relations with an entity outside doc.ents"] += sum(
        (r.head.start, r.head.end, r.head.label_) not in keys or (r.tail.start, r.tail.end, r.tail.label_) not in keys
        for r in relations)


def ade_drug_ae(doc: Doc, stats: Counter) -> List[Doc]:
    """The doc with its DRUG-AE relations and their entities only; none without any."""
    relations = [r for r in get_relations(doc) if r.label == "DRUG-AE"]
    if not relations:
        stats["sentences without a DRUG-AE relation (left out)"] += 1
        return []
    others = len(doc.spans.get("entities", [])) - len({(s.start, s.end, s.label_) for r in relations
                                                       for s in (r.head, r.tail)})
    stats["entities outside DRUG-AE relations (left out)"] += others
    stats["DRUG-DOSE relations (left out)"] += sum(r.label == "DRUG-DOSE" for r in get_relations(doc))
    rebuild(doc, [s for r in relations for s in (r.head, r.tail)], relations, stats)
    return [doc]


def line_ranges(doc: Doc) -> List[tuple]:
    """Token ranges of the non-blank lines: tokens between those holding a line break,
    without leading or trailing whitespace tokens."""
    ranges, start = [], None
    for tok in list(doc) + [None]:
        if tok is None or "\n" in tok.text:
            if start is not None:
                end = tok.i if tok is not None else len(doc)
                while end > start and doc[end - 1].is_space:
                    end -= 1
                ranges.append((start, end))
            start = None
        elif start is None and not tok.is_space:
            start = tok.i
    return ranges


def chia_lines(doc: Doc, stats: Counter) -> List[Doc]:
    """One doc per criterion line, with the entities and relations inside it."""
    layers = recorded_layers(doc)
    relations = get_relations(doc)
    entities = list(doc.spans.get("entities", []))
    out = []
    placed = set()  # entities inside some line
    kept_relations = 0
    for number, (a, b) in enumerate(line_ranges(doc), 1):
        sub = doc[a:b].as_doc()
        if layers is not None:
            set_layers(sub, layers)
        sub._.note_id = f"{doc._.note_id}:{number}"

        def move(span):
            return Span(sub, span.start - a, span.end - a, label=span.label_)

        local = {(s.start, s.end, s.label_): s for s in entities if a <= s.start and s.end <= b}
        placed.update(local)
        rels = [Relation(move(r.head), move(r.tail), r.label, r.score) for r in relations
                if (r.head.start, r.head.end, r.head.label_) in local
                and (r.tail.start, r.tail.end, r.tail.label_) in local]
        kept_relations += len(rels)
        rebuild(sub, [move(s) for s in local.values()], rels, stats)
        out.append(sub)
    stats["entity crossing a line end (dropped)"] += sum((s.start, s.end, s.label_) not in placed for s in entities)
    stats["relation across lines or with a dropped entity (dropped)"] += len(relations) - kept_relations
    return out


def drop_equivalence(doc: Doc, stats: Counter) -> None:
    """Remove the relations labelled like Chia's `*` equivalence groups (OR, NOT), which the
    converter keeps as chains; R lines labelled OR (7 in chia_without_scope) go with them."""
    relations = get_relations(doc)
    kept = [r for r in relations if r.label not in EQUIVALENCE_LABELS]
    if len(kept) < len(relations):
        stats["relations labelled OR/NOT, mostly '*' group chains (left out)"] += len(relations) - len(kept)
        set_relations(doc, kept)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("which", choices=sorted(SOURCES), help="corpus: ade (ADE Corpus V2) or chia (chia_without_scope)")
    ap.add_argument("out", help="folder for train/dev/test.spacy, stats.json and benchmark.json")
    ap.add_argument("--split", choices=["md5", "seeded"], default="md5",
                    help="md5: the group split these benchmarks were measured on (md5 of PubMed/trial id, "
                         "80/10/10; default); seeded: the converter's own seeded 80/10/10 split")
    ap.add_argument("--seed", type=int, default=0, help="seed of --split seeded")
    ap.add_argument("--ade-scope", choices=["drug-ae", "all"], default="drug-ae",
                    help="drug-ae: DRUG-AE.rel sentences, DRUG and AE entities, DRUG-AE relations (default); "
                         "all: everything the converter writes (DOSE, DRUG-DOSE, ADE-NEG sentences)")
    ap.add_argument("--chia-docs", choices=["lines", "files"], default="lines",
                    help="lines: one doc per criterion line (default); files: one doc per .txt file, as converted")
    ap.add_argument("--chia-equivalence", choices=["drop", "keep"], default="drop",
                    help="drop: leave out relations labelled OR/NOT, which the converter makes from Chia's '*' "
                         "equivalence groups (as these benchmarks were measured; default); keep: the converter's "
                         "chains from each group member to the next")
    ap.add_argument("--data", type=Path, default=None, help="corpus folder (default: ../shared/data/...)")
    args = ap.parse_args()
    fmt, path, options = SOURCES[args.which]
    if args.data:
        path = args.data
    out_dir = Path(args.out)
    stats = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.split == "md5":
            options = dict(options, split_lists=md5_split_lists(fmt, path, options, Path(tmp)))
        else:
            options = dict(options, ratios=(0.8, 0.1, 0.1), seed=args.seed)
        result = convert(fmt, path, None, **options)
    result.stats.print()
    docs = {}
    for split in SPLITS:
        docs[split] = []
        for doc in result.docs[split]:
            if args.which == "chia" and args.chia_equivalence == "drop":
                drop_equivalence(doc, stats)
            if args.which == "ade" and args.ade_scope == "drug-ae":
                docs[split].extend(ade_drug_ae(doc, stats))
            elif args.which == "chia" and args.chia_docs == "lines":
                docs[split].extend(chia_lines(doc, stats))
            else:
                docs[split].append(doc)
    write_splits(docs, out_dir)
    (out_dir / "stats.json").write_text(json.dumps(result.stats.to_dict(), indent=2), encoding="utf8")
    counts = {split: len(d) for split, d in docs.items()}
    summary = {"corpus": args.which, "input": str(path), "split": args.split,
               "split_rule": ("md5 of the group id, 80/10/10 (split lists)" if args.split == "md5"
                              else f"converter's seeded split, 80/10/10, seed {args.seed}"),
               "ade_scope": args.ade_scope if args.which == "ade" else None,
               "chia_docs": args.chia_docs if args.which == "chia" else None,
               "chia_equivalence": args.chia_equivalence if args.which == "chia" else None,
               "docs": counts, "counts": dict(sorted(stats.items()))}
    (out_dir / "benchmark.json").write_text(json.dumps(summary, indent=2), encoding="utf8")
    print(f"{args.which}: docs per split {counts} ({summary['split_rule']})")
    for k, v in sorted(stats.items()):
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
