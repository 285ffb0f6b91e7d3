"""Conversion statistics: what went in, what came out, and every repair or omission.

Counts are kept per split where that means something (docs, tokens, entities,
relations, cats) and globally for repairs and omissions, each with the first few
places (file:line) where it happened so a user can look.
"""
from collections import Counter, defaultdict
from typing import Dict, List, Optional

from spacy.tokens import Doc
from wasabi import msg

from ..layers import LAYERS, doc_layers
from ..relations.data import get_relations

MAX_EXAMPLES = 5


class ConversionStats:
    def __init__(self) -> None:
        self.docs: Counter = Counter()
        self.tokens: Counter = Counter()
        self.groups: Dict[str, set] = defaultdict(set)
        self.entities: Dict[str, Counter] = defaultdict(Counter)  # all entities (spans["entities"])
        self.ents: Dict[str, Counter] = defaultdict(Counter)  # doc.ents
        self.relations: Dict[str, Counter] = defaultdict(Counter)
        self.cats: Dict[str, Counter] = defaultdict(Counter)  # positive labels
        # docs with the label annotated (0 or 1)
        self.cat_labels: Dict[str, Counter] = defaultdict(Counter)
        # docs by their number of positive labels
        self.cats_positive: Dict[str, Counter] = defaultdict(Counter)
        self.layers: Dict[str, Counter] = defaultdict(Counter)  # docs annotating each layer
        self.read_entities: Counter = Counter()  # as annotated in the input, before any repair
        self.read_relations: Counter = Counter()
        self.repairs: Counter = Counter()
        self.omissions: Counter = Counter()
        # things read and deliberately ignored (comments, blank lines)
        self.notes: Counter = Counter()
        self.examples: Dict[str, List[str]] = defaultdict(list)
        self.seconds: Optional[float] = None
        self.settings: dict = {}

    def _example(self, key: str, where: Optional[str]) -> None:
        if where and len(self.examples[key]) < MAX_EXAMPLES:
            self.examples[key].append(where)

    def repair(self, kind: str, where: Optional[str] = None, n: int = 1) -> None:
        self.repairs[kind] += n
        self._example(f"repair:{kind}", where)

    def omit(self, kind: str, where: Optional[str] = None, n: int = 1) -> None:
        self.omissions[kind] += n
        self._example(f"omission:{kind}", where)

    def note(self, kind: str, where: Optional[str] = None, n: int = 1) -> None:
        self.notes[kind] += n
        self._example(f"note:{kind}", where)

    def add_doc(self, split: str, doc: Doc, group: str) -> None:
        self.docs[split] += 1
        self.tokens[split] += len(doc)
        self.groups[split].add(group)
        for span in doc.spans.get("entities", []):
            self.entities[split][span.label_] += 1
        for ent in doc.ents:
            self.ents[split][ent.label_] += 1
        for rel in get_relations(doc):
            self.relations[split][rel.label] += 1
        for label, value in doc.cats.items():
            self.cat_labels[split][label] += 1
            if value >= 0.5:
                self.cats[split][label] += 1
        for layer in doc_layers(doc):
            self.layers[split][layer] += 1
        if doc.cats:
            self.cats_positive[split][str(sum(v >= 0.5 for v in doc.cats.values()))] += 1

    @staticmethod
    def _total(per_split: Dict[str, Counter]) -> Counter:
        total: Counter = Counter()
        for counts in per_split.values():
            total.update(counts)
        return total

    def to_dict(self) -> dict:
        splits = sorted(
            self.docs,
            key=lambda s: ["train", "dev", "test"].index(s) if s in ("train", "dev", "test") else 9,
        )

        def table(per_split):
            return {
                "total": dict(sorted(self._total(per_split).items())),
                **{s: dict(sorted(per_split[s].items())) for s in splits},
            }

        return {
            "docs": {"total": sum(self.docs.values()), **{s: self.docs[s] for s in splits}},
            "tokens": {"total": sum(self.tokens.values()), **{s: self.tokens[s] for s in splits}},
            "groups": {
                "total": sum(len(g) for g in self.groups.values()),
                **{s: len(self.groups[s]) for s in splits},
            },
            "read": {
                "entities": dict(sorted(self.read_entities.items())),
                "relations": dict(sorted(self.read_relations.items())),
            },
            "entities": table(self.entities),
            "ents": table(self.ents),
            "relations": table(self.relations),
            "cats": table(self.cats),
            "cat_labels_annotated": table(self.cat_labels),
            "cats_positive_per_doc": table(self.cats_positive),
            "layers": {
                "total": {layer: self._total(self.layers).get(layer, 0) for layer in LAYERS},
                **{s: {layer: self.layers[s].get(layer, 0) for layer in LAYERS} for s in splits},
            },
            "repairs": dict(sorted(self.repairs.items())),
            "omissions": dict(sorted(self.omissions.items())),
            "ignored": dict(sorted(self.notes.items())),
            "examples": {k: v for k, v in sorted(self.examples.items())},
            "seconds": None if self.seconds is None else round(self.seconds, 2),
            "settings": self.settings,
        }

    def print(self) -> None:
        data = self.to_dict()
        splits = [s for s in ("train", "dev", "test") if s in data["docs"]] + [
            s for s in data["docs"] if s not in ("total", "train", "dev", "test")
        ]
        header = ["", "read", "total"] + splits
        rows = [
            ["docs", ""] + [data["docs"]["total"]] + [data["docs"][s] for s in splits],
            ["groups", ""] + [data["groups"]["total"]] + [data["groups"][s] for s in splits],
            ["tokens", ""] + [data["tokens"]["total"]] + [data["tokens"][s] for s in splits],
        ]
        for layer in LAYERS:
            rows.append(
                [f"docs annotating {layer}", ""] + [data["layers"]["total"][layer]]
                + [data["layers"][s][layer] for s in splits]
            )
        read = {"entities": data["read"]["entities"], "relations": data["read"]["relations"]}
        for section, title in (
            ("entities", "entity"),
            ("ents", "doc.ents"),
            ("relations", "relation"),
            ("cats", "cat"),
        ):
            labels = sorted(set(data[section]["total"]) | set(read.get(section, {})))
            for label in labels:
                n = data[section]["total"].get(label, 0)
                rows.append(
                    [f"{title} {label}", read.get(section, {}).get(label, "")]
                    + [n]
                    + [data[section][s].get(label, 0) for s in splits]
                )
        msg.table(rows, header=header, divider=True, aligns=["l"] + ["r"] * (len(header) - 1))
        for title, key in (
            ("Repairs", "repairs"),
            ("Omitted (counted, not in the output)", "omissions"),
            ("Ignored input", "ignored"),
        ):
            if data[key]:
                msg.text(title + ":")
                msg.table([[k, v] for k, v in data[key].items()], aligns=["l", "r"])
