"""Minimal ADE and Chia readers for the relation benchmarks only (not the package).

They write train/dev/test .spacy files with doc.ents (non-overlapping, longest
first), doc.spans["entities"] (all gold entities) and doc._.relations, split by
document group (ADE: PubMed id; Chia: trial id) with a stable hash. Every mention
that cannot be placed is counted and reported, nothing is dropped silently.

    python benchmarks/bench_relations_corpora.py ade  corpus/relations_ade
    python benchmarks/bench_relations_corpora.py chia corpus/relations_chia
"""
import hashlib
import sys
from collections import Counter, defaultdict
from pathlib import Path

import spacy
from spacy.tokens import DocBin, SpanGroup
from spacy.util import filter_spans

from spacy_clinicalbert.relations import Relation, set_relations

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def split_of(group: str, dev: float = 0.1, test: float = 0.1) -> str:
    h = int(hashlib.md5(group.encode("utf8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < test else "dev" if h < test + dev else "train"


def make_doc(nlp, text, mentions, relations, stats, where):
    """mentions: {id: (start_char, end_char, label)}; relations: [(head_id, tail_id, label)]."""
    doc = nlp.make_doc(text)
    spans = {}
    for mid, (s, e, label) in mentions.items():
        span = doc.char_span(s, e, label=label)
        if span is None:
            span = doc.char_span(s, e, label=label, alignment_mode="expand")
            stats["span expanded to token boundaries"] += 1
        if span is None or len(span) == 0:
            stats["span not placeable (dropped)"] += 1
            print(f"  dropped mention {where} {s}-{e} {label!r}", file=sys.stderr)
            continue
        spans[mid] = span
    unique = {(sp.start, sp.end, sp.label_): sp for sp in spans.values()}
    all_spans = sorted(unique.values(), key=lambda sp: (sp.start, sp.end, sp.label_))
    doc.spans["entities"] = SpanGroup(doc, name="entities", spans=all_spans)
    ents = filter_spans(all_spans)
    stats["entities"] += len(all_spans)
    stats["entities not in doc.ents (overlap)"] += len(all_spans) - len(ents)
    doc.ents = ents
    rels = []
    for h, t, label in relations:
        if h not in spans or t not in spans:
            stats["relation with a dropped mention (dropped)"] += 1
            continue
        rels.append(Relation(spans[h], spans[t], label))
    set_relations(doc, rels)
    stats["relations"] += len({(r.head.start, r.head.end, r.tail.start, r.tail.end, r.label) for r in rels})
    ent_keys = {(e.start, e.end, e.label_) for e in ents}
    stats["relations with an entity outside doc.ents"] += sum(
        (r.head.start, r.head.end, r.head.label_) not in ent_keys
        or (r.tail.start, r.tail.end, r.tail.label_) not in ent_keys
        for r in rels
    )
    return doc


def read_ade(nlp, stats):
    rows = defaultdict(list)
    path = DATA / "ade_corpus_v2" / "DRUG-AE.rel"
    for n, line in enumerate(path.read_text(encoding="utf8").splitlines(), 1):
        parts = line.split("|")
        if len(parts) != 8:
            raise ValueError(f"{path}:{n}: expected 8 '|' fields, got {len(parts)}")
        pmid, sent, ae, ab, ae_e, drug, db, de = parts
        rows[(pmid, sent)].append((ae, int(ab), drug, int(db), n))
    for (pmid, sent), items in rows.items():
        # One shift maps all document offsets of this sentence onto the sentence.
        first = items[0]
        shift = None
        start = sent.find(first[0])
        while start >= 0:
            cand = first[1] - start
            if all(sent[a - cand:a - cand + len(t)] == t and sent[d - cand:d - cand + len(u)] == u
                   for t, a, u, d, _ in items):
                shift = cand
                break
            start = sent.find(first[0], start + 1)
        if shift is None:
            raise ValueError(f"{path}:{first[4]}: no single offset shift fits sentence of PMID {pmid}")
        mentions, rels = {}, []
        for ae, a, drug, d, _ in items:
            ka = (a - shift, a - shift + len(ae), "AE")
            kd = (d - shift, d - shift + len(drug), "DRUG")
            mentions[ka] = ka
            mentions[kd] = kd
            rels.append((kd, ka, "ADE"))
        yield pmid, make_doc(nlp, sent, mentions, rels, stats, f"PMID {pmid}")


def read_chia(nlp, stats, folder="chia_without_scope"):
    root = DATA / "chia" / folder
    for txt in sorted(root.glob("*.txt")):
        trial = txt.stem.split("_")[0]
        with open(txt, encoding="utf8", newline="") as f:
            text = f.read()
        ann = txt.with_suffix(".ann")
        ents, rels = {}, []
        for n, line in enumerate(ann.read_text(encoding="utf8").splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if line.startswith("T"):
                label, *offs = parts[1].split(" ")
                ranges = " ".join(offs).split(";")
                if len(ranges) > 1:
                    stats["discontinuous entity (kept as its full extent)"] += 1
                bounds = [tuple(map(int, r.split())) for r in ranges]
                ents[parts[0]] = (min(b[0] for b in bounds), max(b[1] for b in bounds), label)
            elif line.startswith("R"):
                label, a1, a2 = parts[1].split()[:3]
                rels.append((a1.split(":")[1], a2.split(":")[1], label))
            elif line.startswith("*"):
                stats["n-ary '*' group (not a binary relation, skipped)"] += 1
            else:
                stats[f"other .ann line '{line[:1]}' (skipped)"] += 1
        # One doc per criterion line.
        pos = 0
        for raw in text.split("\n"):
            line_start, line_end = pos, pos + len(raw)
            pos = line_end + 1
            content = raw.rstrip("\r")
            if not content.strip():
                continue
            local = {k: (s - line_start, e - line_start, lab) for k, (s, e, lab) in ents.items()
                     if s >= line_start and e <= line_start + len(content)}
            for k, (s, e, lab) in ents.items():
                if s < line_end and e > line_start + len(content) and s >= line_start:
                    stats["entity crossing a line end (dropped)"] += 1
            local_rels = [r for r in rels if r[0] in local and r[1] in local]
            stats["relations across lines (dropped)"] += sum(
                (r[0] in local) and (r[1] not in local) for r in rels
            )
            yield trial, make_doc(nlp, content, local, local_rels, stats, f"{txt.name}")


def main(which: str, out: str):
    nlp = spacy.blank("en")
    stats = Counter()
    bins = {name: DocBin(store_user_data=True) for name in ("train", "dev", "test")}
    reader = read_ade if which == "ade" else read_chia
    counts = Counter()
    for group, doc in reader(nlp, stats):
        part = split_of(group)
        bins[part].add(doc)
        counts[part] += 1
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, db in bins.items():
        db.to_disk(out_dir / f"{name}.spacy")
    print(f"{which}: docs per split {dict(counts)}")
    for k, v in sorted(stats.items()):
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
