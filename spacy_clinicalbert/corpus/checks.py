"""`check-data`: is a converted corpus fit for what a config trains?

In the spirit of `spacy debug data`, but over this project's annotation layers
(`spacy_clinicalbert.layers`): a layer a doc does not annotate is missing, not
empty, so every count is per layer and per split. The checks ask what the
pipeline can actually learn from the data: entities no encoder window holds,
overlapping entities `ner` cannot learn, gold relations the candidate generator
never proposes, unbalanced categories, empty docs and texts shared across splits.

Each split's DocBin is streamed once (train first: relation type pairs are
learned there); nothing but counts and hashes of the texts is kept.
"""
import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Iterator, List, Optional, Set, Tuple, Union

from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab
from thinc.api import Config

from ..layers import CATEGORIES, ENTITIES, LAYERS, RELATIONS, doc_layers
from ..relations.candidates import CandidateGenerator, token_gap  # registers relation_candidates.v1
from ..relations.data import Relation, get_relations
from ..relations.reachability import split_reachable
from .docs import install_extensions
from .writer import msgpack_registries_cached

SPLITS = ("train", "dev", "test")
# The default window of ClinicalBertTransformer.v1 (`model.window`) and of the
# wordpiece_windows.v1 span getter that v2 takes as `model.get_spans`.
DEFAULT_WINDOW = 96
# transformer/windows.py's name for that span getter (importing it loads torch).
WORDPIECE_WINDOWS = "spacy-clinicalbert.wordpiece_windows.v1"
MIN_EXAMPLES = 10  # fewer training examples of a label than this: warn
MIN_CAT_SHARE = 0.01  # a category positive in fewer training docs than this share: warn
MAX_OVERLAP_SHARE = 0.05  # more entities than this outside doc.ents: suggest spancat
SPANCAT_FACTORIES = ("spancat", "spancat_singlelabel", "clinical_spancat")
SPANCAT_DEFAULT_SUGGESTER = {"@misc": "spacy.ngram_suggester.v1", "sizes": [1, 2, 3]}
RELATION_FACTORY = "clinical_relations"
# The factory's default `candidates` block (relation_component.py; importing it would load torch).
# The clinical_relations factory default (relation_component.py; importing it loads torch).
DEFAULT_CANDIDATES = {"@misc": "spacy-clinicalbert.relation_candidates.v1", "source": "ents",
                      "max_distance": 100, "sentence_window": -1}
# The gold layer each trainable factory learns from.
LAYER_OF_FACTORY = {
    "ner": ENTITIES,
    "spancat": ENTITIES,
    "spancat_singlelabel": ENTITIES,
    "clinical_spancat": ENTITIES,
    RELATION_FACTORY: RELATIONS,
    "textcat": CATEGORIES,
    "textcat_multilabel": CATEGORIES,
}

LABEL_TITLES = ((ENTITIES, "entity"), (RELATIONS, "relation"), (CATEGORIES, "category (positive)"))
EntKey = Tuple[int, int, str]
TypePair = Tuple[str, str]  # (head label, tail label)
ConfigLike = Union[Config, dict, str, Path]


# ---- results ----------------------------------------------------------------------


@dataclass
class Table:
    """One table for printing: a title, a header and rows of cells."""

    title: str
    header: List[str]
    rows: List[List[Any]]


@dataclass
class CorpusCheck:
    """What `check_corpus` found: tables to print, plus notes, warnings and errors."""

    splits: List[str] = field(default_factory=list)
    tables: List[Table] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    seconds: float = 0.0

    def failed(self, strict: bool = False) -> bool:
        """Errors fail; with `strict`, warnings fail too."""
        return bool(self.errors) or (strict and bool(self.warnings))


@dataclass
class Finding:
    """A count of problem cases and the first one, to show the user where to look."""

    count: int = 0
    example: Optional[str] = None
    weight: float = float("-inf")

    def add(self, example: str, weight: float = 0.0) -> None:
        """Count one case; the example shown is the first of the highest `weight`."""
        self.count += 1
        if weight > self.weight:
            self.example, self.weight = example, weight


# ---- what the config trains -------------------------------------------------------


@dataclass
class SpancatSettings:
    name: str
    spans_key: str
    sizes: Optional[FrozenSet[int]]  # None: a suggester whose sizes we cannot tell


@dataclass
class RelationSettings:
    name: str
    generator: CandidateGenerator
    symmetric: FrozenSet[str]


@dataclass
class PipelineSettings:
    """The parts of a training config the checks depend on."""

    given: bool = False
    trained: Dict[str, str] = field(default_factory=dict)  # component name -> factory
    window: Optional[int] = DEFAULT_WINDOW
    window_source: str = "default"
    spancats: List[SpancatSettings] = field(default_factory=list)
    relations: List[RelationSettings] = field(default_factory=list)
    exclusive_cats: Optional[bool] = None  # True: textcat, False: textcat_multilabel
    max_steps: int = 0  # [training] max_steps (0: not given or unlimited)
    eval_frequency: int = 0
    notes: List[str] = field(default_factory=list)


def load_config(config: ConfigLike) -> Config:
    """A config from a path or an object, interpolated where its variables allow."""
    if isinstance(config, (str, Path)):
        from spacy.util import load_config as spacy_load_config

        config = spacy_load_config(Path(config), interpolate=False)
    config = Config(config)
    try:
        return config.interpolate()
    except Exception:  # e.g. a variable the checks never read is undefined
        return config


def _suggester_sizes(block: dict) -> Optional[FrozenSet[int]]:
    """Span lengths a spancat suggester proposes, for the two n-gram suggesters."""
    name = block.get("@misc")
    if name == "spacy.ngram_suggester.v1":
        return frozenset(int(n) for n in block.get("sizes", []))
    if name == "spacy.ngram_range_suggester.v1":
        return frozenset(range(int(block["min_size"]), int(block["max_size"]) + 1))
    return None


def _encoder_window(components: dict, pipeline: List[str]) -> Optional[int]:
    """`window` of the first windowed clinicalbert or spacy-transformers encoder: the
    model's own (ClinicalBertTransformer.v1) or its span getter's (`get_spans`: v2,
    spacy-transformers' TransformerModel)."""
    for name in pipeline:
        block = components.get(name, {})
        model = block.get("model", {})
        factory = block.get("factory")
        if factory == "clinicalbert" and "get_spans" not in model:
            return int(model.get("window", DEFAULT_WINDOW))
        if factory in ("clinicalbert", "transformer"):
            spans = model.get("get_spans", {})
            if "window" in spans:
                return int(spans["window"])
            if spans.get("@span_getters") == WORDPIECE_WINDOWS:
                return DEFAULT_WINDOW
    return None


def _relation_settings(name: str, block: dict) -> RelationSettings:
    """The candidate generator a `clinical_relations` block builds (factory defaults filled)."""
    from spacy.util import registry

    candidates = block.get("candidates", DEFAULT_CANDIDATES)
    generator = registry.resolve({"candidates": candidates})["candidates"]
    return RelationSettings(name, generator, frozenset(block.get("symmetric_labels", [])))


def default_settings() -> PipelineSettings:
    """No config: the factory defaults of the encoder window and the relation candidates."""
    settings = PipelineSettings()
    settings.relations.append(_relation_settings(RELATION_FACTORY, {}))
    settings.notes.append(
        f"No config given: window {DEFAULT_WINDOW} and relation candidates from the factory "
        "defaults; pass --config to check against a training config."
    )
    return settings


def read_settings(config: Optional[ConfigLike]) -> PipelineSettings:
    """What the config's pipeline trains and how (frozen components train nothing)."""
    if config is None:
        return default_settings()
    cfg = load_config(config)
    components = cfg.get("components", {})
    pipeline = list(cfg.get("nlp", {}).get("pipeline", []))
    frozen = set(cfg.get("training", {}).get("frozen_components", []) or [])
    settings = PipelineSettings(given=True)
    for name in pipeline:
        block = components.get(name, {})
        factory = block.get("factory")
        if factory is None:
            if "source" in block and name not in frozen:
                settings.notes.append(f"'{name}' is sourced from {block['source']}: not checked.")
            continue
        if name in frozen:
            continue
        settings.trained[name] = factory
        if factory in SPANCAT_FACTORIES:
            suggester = block.get("suggester", SPANCAT_DEFAULT_SUGGESTER)
            spans_key = block.get("spans_key", "sc")
            settings.spancats.append(SpancatSettings(name, spans_key, _suggester_sizes(suggester)))
        elif factory == RELATION_FACTORY:
            settings.relations.append(_relation_settings(name, block))
        elif factory == "textcat":
            settings.exclusive_cats = True
        elif factory == "textcat_multilabel" and settings.exclusive_cats is None:
            settings.exclusive_cats = False
    training = cfg.get("training", {})
    settings.max_steps = int(training.get("max_steps", 0) or 0)
    settings.eval_frequency = int(training.get("eval_frequency", 0) or 0)
    settings.window = _encoder_window(components, pipeline)
    settings.window_source = "config"
    if settings.window is None:
        settings.notes.append(
            "No windowed encoder (clinicalbert, transformer) in the config: window check skipped."
        )
    return settings


# ---- per-split counts -------------------------------------------------------------


@dataclass
class Reach:
    """Gold relations of a split against one relation component's candidates."""

    gold: int = 0
    unreachable: Dict[str, Finding] = field(default_factory=dict)  # reason -> finding

    @property
    def n_unreachable(self) -> int:
        return sum(f.count for f in self.unreachable.values())


@dataclass
class SplitStats:
    name: str
    docs: int = 0
    tokens: int = 0
    empty: Finding = field(default_factory=Finding)
    layers: Counter = field(default_factory=Counter)
    entity_labels: Counter = field(default_factory=Counter)  # all gold entities
    entities_outside_ents: int = 0  # in doc.spans["entities"], not in doc.ents
    longest_entity: int = 0
    too_long: Finding = field(default_factory=Finding)  # longer than the encoder window
    spancat_docs: Counter = field(default_factory=Counter)  # component -> docs with its group
    not_suggested: Dict[str, Finding] = field(default_factory=dict)
    relation_labels: Counter = field(default_factory=Counter)
    reach: Dict[str, Reach] = field(default_factory=dict)
    cat_positive: Counter = field(default_factory=Counter)
    cat_annotated: Counter = field(default_factory=Counter)
    positives_per_doc: Counter = field(default_factory=Counter)  # number of positive labels -> docs
    leaked: Finding = field(default_factory=Finding)  # texts also in an earlier split


def _doc_name(doc: Doc, split: str, index: int) -> str:
    note_id = doc._.note_id if Doc.has_extension("note_id") else None
    return f"note {note_id}" if note_id is not None else f"{split} doc #{index}"


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _key(span: Span) -> EntKey:
    return (span.start, span.end, span.label_)


def gold_entities(doc: Doc) -> List[Span]:
    """All gold entities: the converter's `entities` group, else `doc.ents`."""
    return list(doc.spans["entities"]) if "entities" in doc.spans else list(doc.ents)


def _add_entities(stats: SplitStats, doc: Doc, where: str, settings: PipelineSettings) -> None:
    in_ents = {_key(ent) for ent in doc.ents}
    for span in gold_entities(doc):
        stats.entity_labels[span.label_] += 1
        length = span.end - span.start
        stats.longest_entity = max(stats.longest_entity, length)
        if settings.window is not None and length > settings.window:
            stats.too_long.add(f"{where}: {length} tokens, {_quote(span.text)}")
        if _key(span) not in in_ents:
            stats.entities_outside_ents += 1
    for spancat in settings.spancats:
        if spancat.spans_key not in doc.spans:
            continue
        stats.spancat_docs[spancat.name] += 1
        finding = stats.not_suggested.setdefault(spancat.name, Finding())
        for span in doc.spans[spancat.spans_key]:
            if spancat.sizes is not None and len(span) not in spancat.sizes:
                finding.add(f"{where}: {len(span)} tokens, {_quote(span.text)}")


def _unreachable_reason(
    doc: Doc,
    rel: Relation,
    generator: CandidateGenerator,
    source: Set[EntKey],
    type_pairs: Optional[Set[TypePair]],
) -> str:
    """Why the generator does not propose the gold pair, checked in the generator's order."""
    head, tail = rel.head, rel.tail
    missing = [role for role, span in (("head", head), ("tail", tail)) if _key(span) not in source]
    if missing:
        return f"{' and '.join(missing)} not in candidate source '{generator.source}'"
    if type_pairs is not None and (head.label_, tail.label_) not in type_pairs:
        return "entity-type pair not allowed (or not seen in train)"
    if (head.start, head.end) == (tail.start, tail.end):
        return "head and tail are the same span"
    if generator.max_distance >= 0 and token_gap(head, tail) > generator.max_distance:
        return f"more than max_distance {generator.max_distance} tokens apart"
    if generator.sentence_window >= 0:
        sent_ids = CandidateGenerator._sentence_ids(doc)
        if abs(sent_ids[head.start] - sent_ids[tail.start]) > generator.sentence_window:
            return f"more than sentence_window {generator.sentence_window} sentences apart"
    return "other"


def _add_reach(
    reach: Reach,
    doc: Doc,
    rs: RelationSettings,
    learned: Set[TypePair],
    where: str,
) -> None:
    """Count the gold relations whose (head, tail) the generator does not produce (the
    relation component's own test, `relations.reachability.split_reachable`), with why."""
    generator = rs.generator
    type_pairs = generator.type_pairs(learned)
    reached, missed = split_reachable(doc, generator, type_pairs, rs.symmetric)
    reach.gold += len(reached) + len(missed)
    source = {_key(span) for span in generator.entities(doc)} if missed else set()
    for rel in missed:
        reason = _unreachable_reason(doc, rel, generator, source, type_pairs)
        example = f"{where}: {rel.label} {_quote(rel.head.text, 40)} -> {_quote(rel.tail.text, 40)}"
        reach.unreachable.setdefault(reason, Finding()).add(example)


def _add_cats(stats: SplitStats, doc: Doc) -> None:
    positives = 0
    for label, value in doc.cats.items():
        stats.cat_annotated[label] += 1
        if value >= 0.5:
            stats.cat_positive[label] += 1
            positives += 1
    stats.positives_per_doc[positives] += 1


def _text_hash(text: str) -> bytes:
    """Whitespace-insensitive identity of a text (the converter's --dedupe rule)."""
    return hashlib.blake2b(" ".join(text.split()).encode("utf8"), digest_size=16).digest()


class CorpusScan:
    """One pass over the splits, train first, accumulating `SplitStats`."""

    def __init__(self, settings: PipelineSettings):
        self.settings = settings
        self.splits: Dict[str, SplitStats] = {}
        self.learned: Set[TypePair] = set()  # type pairs of the train relations
        self.seen_texts: Dict[bytes, str] = {}  # text hash -> first split holding it

    def add_doc(self, split: str, doc: Doc, index: int) -> None:
        stats = self.splits.setdefault(split, SplitStats(split))
        where = _doc_name(doc, split, index)
        stats.docs += 1
        stats.tokens += len(doc)
        if len(doc) == 0:
            stats.empty.add(where)
        layers = doc_layers(doc)
        stats.layers.update(layers)
        if ENTITIES in layers:
            _add_entities(stats, doc, where, self.settings)
        if RELATIONS in layers:
            self._add_relations(stats, doc, split, where)
        if CATEGORIES in layers:
            _add_cats(stats, doc)
        self._check_leak(stats, doc, split, where)

    def _add_relations(self, stats: SplitStats, doc: Doc, split: str, where: str) -> None:
        rels = get_relations(doc)
        if not rels:
            return
        stats.relation_labels.update(rel.label for rel in rels)
        if split == "train":
            # A gold pair is produced iff its own type pair is allowed (the generator's
            # other tests are per pair), so the train pairs learned so far, this doc's
            # included, decide exactly as the full learned set would.
            self.learned.update((rel.head.label_, rel.tail.label_) for rel in rels)
        for rs in self.settings.relations:
            _add_reach(stats.reach.setdefault(rs.name, Reach()), doc, rs, self.learned, where)

    def _check_leak(self, stats: SplitStats, doc: Doc, split: str, where: str) -> None:
        text = doc.text  # joined from the tokens on each access: read it once
        if not text.strip():
            return
        first = self.seen_texts.setdefault(_text_hash(text), split)
        if first != split:
            # Show the longest: a shared '1 .' is noise, a shared paragraph is a leak.
            stats.leaked.add(f"{where} (also in {first}): {_quote(text, 60)}", weight=len(doc))


# ---- reading ----------------------------------------------------------------------


def split_paths(corpus_dir: Path) -> Dict[str, Path]:
    """train, dev, test first (in that order), then any other .spacy file of the folder."""
    found = {path.stem: path for path in sorted(Path(corpus_dir).glob("*.spacy"))}
    ordered = [s for s in SPLITS if s in found] + [s for s in found if s not in SPLITS]
    return {s: found[s] for s in ordered}


def iter_docs(path: Path, vocab: Vocab) -> Iterator[Doc]:
    """The docs of a DocBin, one at a time, user data kept."""
    with msgpack_registries_cached():
        docbin = DocBin(store_user_data=True).from_disk(path)
        yield from docbin.get_docs(vocab)


# ---- judging ----------------------------------------------------------------------


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"


def _sizes_text(sizes: Optional[FrozenSet[int]]) -> str:
    """1-3 for a range, 1,2,5 for gaps, ? for a suggester we cannot read."""
    if sizes is None:
        return "?"
    ordered = sorted(sizes)
    if ordered and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}" if len(ordered) > 1 else str(ordered[0])
    return ",".join(map(str, ordered)) or "none"


def _label_counts(stats: SplitStats, layer: str) -> Counter:
    if layer == ENTITIES:
        return stats.entity_labels
    if layer == RELATIONS:
        return stats.relation_labels
    if layer == CATEGORIES:
        return stats.cat_annotated
    return Counter()


class Judge:
    """Turns the scan into tables, notes, warnings and errors."""

    def __init__(self, scan: CorpusScan, result: CorpusCheck):
        self.scan = scan
        self.settings = scan.settings
        self.result = result
        self.names = list(scan.splits)
        self.train = scan.splits.get("train", SplitStats("train"))

    def per_split(self, get: Callable[[SplitStats], Any]) -> List[Any]:
        return [get(self.scan.splits[s]) for s in self.names]

    def table(self, title: str, first: str, rows: List[List[Any]]) -> None:
        self.result.tables.append(Table(title, [first] + self.names, rows))

    def warn(self, text: str) -> None:
        self.result.warnings.append(text)

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    def run(self) -> None:
        self.corpus_table()
        self.trained_layers()
        self.labels()
        self.entities()
        self.relations()
        self.categories()
        self.hygiene()
        self.schedule()

    # corpus and layers
    def corpus_table(self) -> None:
        rows = [
            ["docs"] + self.per_split(lambda s: s.docs),
            ["tokens"] + self.per_split(lambda s: s.tokens),
            ["docs with no tokens"] + self.per_split(lambda s: s.empty.count),
        ]
        for layer in LAYERS:
            counts = [self.scan.splits[s].layers[layer] for s in self.names]
            rows.append([f"docs annotating {layer}"] + counts)
        self.table("Docs and annotation layers per split", "", rows)

    def trained_layers(self) -> None:
        """Errors: the training split gives a trained component nothing to learn."""
        train, errors = self.train, self.result.errors
        if "train" not in self.scan.splits:
            return  # check_corpus said so
        if train.docs == 0:
            errors.append("The training split has no docs (train.spacy is empty).")
            return
        if not self.scan.splits.get("dev", SplitStats("dev")).docs:
            self.warn("No dev docs (dev.spacy missing or empty): spacy train needs a dev set.")
        if not self.settings.given:
            if not any(train.layers[layer] for layer in LAYERS):
                errors.append("No training doc annotates any layer: there is nothing to train on.")
            return
        for name, factory in self.settings.trained.items():
            layer = LAYER_OF_FACTORY.get(factory)
            if layer is None:
                continue
            what = f"'{name}' ({factory}) learns {layer}, but"
            if train.layers[layer] == 0:
                errors.append(f"{what} no training doc annotates {layer}.")
            elif not _label_counts(train, layer):
                errors.append(f"{what} the training docs carry no {layer} labels.")
        for spancat in self.settings.spancats:
            if train.layers[ENTITIES] and not train.spancat_docs[spancat.name]:
                errors.append(
                    f"'{spancat.name}' learns doc.spans['{spancat.spans_key}'], which no training "
                    "doc has (converted corpora keep all entities in 'entities': set "
                    'spans_key = "entities").'
                )
        if self.settings.exclusive_cats and len(train.cat_annotated) == 1:
            errors.append(
                "textcat (exclusive classes) needs at least 2 labels, the training docs have 1: "
                "use textcat_multilabel for a binary category."
            )

    # labels
    def labels(self) -> None:
        rows: List[List[Any]] = []
        splits = list(self.scan.splits.values())
        for layer, title in LABEL_TITLES:
            # categories: the labels annotated, the counts positive
            shown = [
                s.cat_positive if layer == CATEGORIES else _label_counts(s, layer) for s in splits
            ]
            labels = sorted(set().union(*[_label_counts(s, layer) for s in splits]))
            rows.extend([title, label] + [n.get(label, 0) for n in shown] for label in labels)
            self._label_warnings(layer, labels)
        if rows:
            header = ["layer", "label"] + self.names
            self.result.tables.append(Table("Labels per split", header, rows))

    def _label_warnings(self, layer: str, labels: List[str]) -> None:
        in_train = _label_counts(self.train, layer)
        examples = self.train.cat_positive if layer == CATEGORIES else in_train
        for split in (name for name in self.names if name != "train"):
            unseen = sorted(set(_label_counts(self.scan.splits[split], layer)) - set(in_train))
            if unseen:
                self.warn(
                    f"{layer}: label(s) in {split} but not in train (cannot be learned): "
                    f"{', '.join(unseen)}."
                )
        rare = [
            f"{label} ({examples.get(label, 0)})"
            for label in labels
            if label in in_train and examples.get(label, 0) < MIN_EXAMPLES
        ]
        if rare:
            what = "positive training docs" if layer == CATEGORIES else "training examples"
            self.warn(f"{layer}: fewer than {MIN_EXAMPLES} {what}: {', '.join(rare)}.")

    # entities
    def entities(self) -> None:
        if not any(s.layers[ENTITIES] for s in self.scan.splits.values()):
            return

        def outside(s: SplitStats) -> str:
            return f"{s.entities_outside_ents} ({_pct(s.entities_outside_ents, _n_entities(s))})"

        rows = [
            ["entities"] + self.per_split(_n_entities),
            ["not in doc.ents (overlapping)"] + self.per_split(outside),
            ["longest entity (tokens)"] + self.per_split(lambda s: s.longest_entity),
        ]
        if self.settings.window is not None:
            too_long = self.per_split(lambda s: s.too_long.count)
            rows.append([f"longer than the window ({self.settings.window})"] + too_long)
        for sc in self.settings.spancats:
            missed = [
                self.scan.splits[s].not_suggested.get(sc.name, Finding()).count for s in self.names
            ]
            title = f"{sc.name} '{sc.spans_key}' not suggested ({_sizes_text(sc.sizes)})"
            rows.append([title] + missed)
        self.table("Entities", "", rows)
        self._window_warnings()
        self._overlap_warning()

    def _window_warnings(self) -> None:
        splits = self.scan.splits.values()
        long = [s for s in splits if s.too_long.count]
        if long:
            counts = ", ".join(f"{s.too_long.count} in {s.name}" for s in long)
            self.warn(
                f"Entities longer than the encoder window of {self.settings.window} tokens "
                f"({self.settings.window_source}), so no window holds them whole: {counts}; "
                f"e.g. {long[0].too_long.example}."
            )
        for sc in self.settings.spancats:
            if sc.sizes is None:
                self.note(f"'{sc.name}': unknown suggester, span lengths not checked.")
                continue
            found = [(s.name, s.not_suggested.get(sc.name, Finding())) for s in splits]
            missed = [(name, finding) for name, finding in found if finding.count]
            if missed:
                counts = ", ".join(f"{finding.count} in {name}" for name, finding in missed)
                self.warn(
                    f"'{sc.name}' never suggests spans of these lengths (suggester sizes "
                    f"{_sizes_text(sc.sizes)}): {counts}; e.g. {missed[0][1].example}."
                )

    def _overlap_warning(self) -> None:
        """ner learns doc.ents only: many entities outside them call for spancat."""
        total, outside = _n_entities(self.train), self.train.entities_outside_ents
        if not outside:
            return
        uses_group = any(sc.spans_key == "entities" for sc in self.settings.spancats)
        learns_ner = not self.settings.given or "ner" in self.settings.trained.values()
        text = (
            f"{outside} of {total} training entities ({_pct(outside, total)}) overlap others "
            "and are not in doc.ents"
        )
        if outside > MAX_OVERLAP_SHARE * total and learns_ner and not uses_group:
            self.warn(f"{text}: ner learns only doc.ents; spancat over doc.spans['entities'] "
                      "can learn them all.")
        else:
            self.note(f"{text}.")

    # relations
    def relations(self) -> None:
        if not any(s.relation_labels for s in self.scan.splits.values()):
            return
        for rs in self.settings.relations:
            reaches = {s: self.scan.splits[s].reach.get(rs.name, Reach()) for s in self.names}
            self._reach_table(rs, list(reaches.values()))
            self._reach_warning(rs, reaches.get("train", Reach()))
            for split, reach in reaches.items():
                if split != "train" and reach.n_unreachable:
                    ceiling = _pct(reach.gold - reach.n_unreachable, reach.gold)
                    self.note(
                        f"'{rs.name}': {reach.n_unreachable} of {reach.gold} {split} relations are "
                        f"never candidates: recall on {split} is at most {ceiling}."
                    )

    def _reach_table(self, rs: RelationSettings, reaches: List[Reach]) -> None:
        rows: List[List[Any]] = [
            ["gold relations"] + [r.gold for r in reaches],
            ["unreachable"]
            + [f"{r.n_unreachable} ({_pct(r.n_unreachable, r.gold)})" for r in reaches],
        ]
        for reason in sorted({reason for r in reaches for reason in r.unreachable}):
            counts = [r.unreachable.get(reason, Finding()).count for r in reaches]
            rows.append([f"  {reason}"] + counts)
        gen = rs.generator
        self.table(
            f"Relation candidates of '{rs.name}' (source '{gen.source}', max_distance "
            f"{gen.max_distance}, sentence_window {gen.sentence_window})",
            "",
            rows,
        )

    def _reach_warning(self, rs: RelationSettings, train: Reach) -> None:
        if not train.n_unreachable:
            return
        by_count = sorted(train.unreachable.items(), key=lambda kv: -kv[1].count)
        why = "; ".join(f"{reason}: {f.count}, e.g. {f.example}" for reason, f in by_count)
        hint = ""
        off_source = any("candidate source" in reason for reason in train.unreachable)
        if rs.generator.source == "ents" and off_source:
            hint = (
                ' (doc.ents leaves out overlapping entities; source = "entities" draws on all '
                "of them, with a spancat predicting that group)"
            )
        self.warn(
            f"'{rs.name}': {train.n_unreachable} of {train.gold} training relations "
            f"({_pct(train.n_unreachable, train.gold)}) are never candidates, so they cannot be "
            f"learned nor predicted: {why}{hint}."
        )

    # categories
    def categories(self) -> None:
        train = self.train
        if not train.cat_annotated:
            return
        rows = []
        for label, annotated in sorted(train.cat_annotated.items()):
            positive = train.cat_positive.get(label, 0)
            rows.append([label, positive, annotated, _pct(positive, annotated)])
        self.result.tables.append(
            Table("Categories in train", ["label", "positive", "annotated", "share"], rows)
        )
        rare = [f"{label} ({share})" for label, pos, n, share in rows if pos < MIN_CAT_SHARE * n]
        if rare:
            self.warn(
                f"categories: positive in under {100 * MIN_CAT_SHARE:.0f}% of the training docs "
                f"annotating them: {', '.join(rare)}."
            )
        self._exclusivity()

    def _exclusivity(self) -> None:
        """Exclusive data: every annotated doc has exactly one positive label (of 2 or more)."""
        per_doc = self.train.positives_per_doc
        docs, one = sum(per_doc.values()), per_doc.get(1, 0)
        exclusive = len(self.train.cat_annotated) >= 2 and one == docs
        spread = ", ".join(f"{n} positive: {d} docs" for n, d in sorted(per_doc.items()))
        kind = "multi-label"
        if exclusive:
            kind = "exclusive (every annotated doc has exactly one positive label)"
        self.note(f"Categories look {kind}: {spread}.")
        if self.settings.exclusive_cats and not exclusive:
            bad = docs - one
            self.warn(
                f"textcat treats the categories as exclusive, but {bad} of {docs} training docs "
                f"({_pct(bad, docs)}) have 0 or more than 1 positive label ({spread})."
            )
        elif self.settings.exclusive_cats is False and exclusive:
            self.note("The data looks exclusive but the config trains textcat_multilabel.")

    # hygiene
    def hygiene(self) -> None:
        for stats in self.scan.splits.values():
            if stats.empty.count:
                example = stats.empty.example
                self.warn(f"{stats.empty.count} {stats.name} docs have no tokens, e.g. {example}.")
        leaked = [s for s in self.scan.splits.values() if s.leaked.count]
        if leaked:
            counts = ", ".join(f"{s.leaked.count} in {s.name}" for s in leaked)
            self.warn(
                f"Texts in more than one split (a leak: scores on them measure memory): {counts}; "
                f"e.g. {leaked[0].leaked.example}."
            )

    def schedule(self) -> None:
        """spaCy evaluates every eval_frequency steps and not at the last one, and only an
        evaluation writes model-best."""
        steps, every = self.settings.max_steps, self.settings.eval_frequency
        if steps <= 0 or every <= 0:
            return
        if every > steps:
            self.result.errors.append(
                f"eval_frequency {every} > max_steps {steps}: training never evaluates, so "
                "model-best is never written; choose an eval_frequency that divides max_steps."
            )
        elif steps % every:
            last = steps - steps % every
            self.warn(
                f"max_steps {steps} is not a multiple of eval_frequency {every}: steps "
                f"{last + 1}-{steps} are never evaluated, so model-best cannot come from them "
                f"(spaCy does not evaluate at the last step); e.g. eval_frequency "
                f"{_divisor_near(steps, every)}."
            )


def _divisor_near(steps: int, every: int) -> int:
    """The divisor of `steps` closest to `every` (ties: the smaller)."""
    divisors = [d for d in range(1, steps + 1) if steps % d == 0]
    return min(divisors, key=lambda d: (abs(d - every), d))


def _n_entities(stats: SplitStats) -> int:
    return sum(stats.entity_labels.values())


def check_corpus(
    corpus_dir: Path,
    config: Optional[ConfigLike] = None,
    *,
    max_steps: Optional[int] = None,
    eval_frequency: Optional[int] = None,
) -> CorpusCheck:
    """Check a converted corpus (train/dev/test.spacy) against what `config` trains
    (`max_steps`, `eval_frequency`: the values `spacy train` is given on its command line)."""
    start = time.perf_counter()
    install_extensions()  # doc._.note_id
    result = CorpusCheck()
    corpus_dir = Path(corpus_dir)
    settings = read_settings(config)
    if max_steps is not None:
        settings.max_steps = max_steps
    if eval_frequency is not None:
        settings.eval_frequency = eval_frequency
    result.notes.extend(settings.notes)
    paths = split_paths(corpus_dir)
    if "train" not in paths:
        result.errors.append(f"No train.spacy in {corpus_dir}.")
    scan = CorpusScan(settings)
    vocab = Vocab()
    for split, path in paths.items():
        scan.splits.setdefault(split, SplitStats(split))
        for index, doc in enumerate(iter_docs(path, vocab)):
            scan.add_doc(split, doc, index)
    result.splits = list(scan.splits)
    if paths:
        Judge(scan, result).run()
    result.seconds = time.perf_counter() - start
    return result
