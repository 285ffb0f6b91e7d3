"""What a converted corpus annotates, read from `stats.json` (and `train.spacy` where the
counts are not enough), so the training config can follow the data.

The decisions, each with the figure behind it:
- entities: trained when the training split has entity labels; `ner` unless more than
  `SPANCAT_OVERLAP` of the entities overlap others (they cannot all sit in `doc.ents`),
  then `clinical_spancat` over `doc.spans["entities"]`;
- relations: `clinical_relations` when training docs that annotate relations hold any;
- relation candidates: `max_distance` the smallest of RELATION_DISTANCES that reaches
  RELATION_GAP_QUANTILE of the training relations (Chia: 32 tokens; ADE, whose reach 36,
  keeps 100). Where relations are sparse among the pairs of gold entities (more than
  SPARSE_RELATIONS unrelated pairs per relation; Chia: 18, ADE: 0), a training batch keeps
  at most RELATION_NEGATIVES_PER_POSITIVE negatives per positive (`negative_ratio`) instead
  of all of them: on Chia all of them (pairs over gold, predicted and boundary-moved
  entities) made 73 % of a step's 14 CPU-s, and after 100 steps the head scored no dev pair
  above 0.05;
- categories: exclusive `textcat` when there are at least two labels and every doc that
  annotates categories has exactly one positive label, `textcat_multilabel` otherwise;
- sampling: a token layer (entities, relations) annotated in under `PARTIAL_LAYER_SHARE` of
  the training docs is read repeatedly until its docs make up that share of the examples
  (`spacy-clinicalbert.LayerBalancedCorpus.v1`). ADE's entity layer covers 20 % of its
  training sentences: without it, four batches in five train the recognizer on nothing.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from spacy.tokens import Doc

from ..corpus.records import CorpusError

SPANCAT_OVERLAP = 0.05  # share of entities left out of doc.ents above which spancat is chosen
SPANCAT_LENGTH_QUANTILE = 0.99  # suggester sizes cover this share of the entities' lengths
SPANCAT_MAX_SIZE = 16
PARTIAL_LAYER_SHARE = 0.5  # token layers in fewer training docs than this are read repeatedly
RELATION_GAP_QUANTILE = 0.995  # candidate max_distance reaches this share of training relations
RELATION_DISTANCES = (8, 16, 32, 100)  # token gaps max_distance is chosen from (100: the default,
# kept where relations reach further than 32 tokens, as on ADE, where it was measured)
SPARSE_RELATIONS = 5.0  # unrelated gold-entity pairs per relation above which negatives are sampled
RELATION_NEGATIVES_PER_POSITIVE = 20  # then, negatives a training batch keeps per positive


@dataclass
class CorpusProfile:
    corpus: Path
    layers: Dict[str, int]  # training docs annotating each layer
    entity_labels: Dict[str, int] = field(default_factory=dict)
    overlap_share: float = 0.0
    relation_labels: Dict[str, int] = field(default_factory=dict)
    category_labels: Dict[str, int] = field(default_factory=dict)  # positives per label
    exclusive: bool = False
    spancat_max_size: int = 10
    train_docs: int = 0
    relation_max_distance: int = RELATION_DISTANCES[-1]
    relation_gap_quantile: float = 0.0  # token gap RELATION_GAP_QUANTILE of relations stay within
    gold_negatives_per_positive: float = 0.0  # over gold entities, at relation_max_distance

    @property
    def relation_negative_ratio(self) -> float:
        """`training_pairs.negative_ratio`: all negatives (-1) unless relations are sparse
        among the candidate pairs of gold entities."""
        if self.gold_negatives_per_positive > SPARSE_RELATIONS:
            return float(RELATION_NEGATIVES_PER_POSITIVE)
        return -1.0

    @property
    def min_layer_share(self) -> Dict[str, float]:
        """Token layers the pipeline trains that too few training docs annotate."""
        trained = [("entities", bool(self.entities)), ("relations", self.relations)]
        return {
            layer: PARTIAL_LAYER_SHARE
            for layer, on in trained
            if on and self.train_docs
            and self.layers.get(layer, 0) < PARTIAL_LAYER_SHARE * self.train_docs
        }

    @property
    def entities(self) -> str:
        """"ner", "spancat" or "" (nothing to learn)."""
        if not self.entity_labels:
            return ""
        return "spancat" if self.overlap_share > SPANCAT_OVERLAP else "ner"

    @property
    def relations(self) -> bool:
        return bool(self.relation_labels)

    @property
    def textcat(self) -> str:
        if not self.category_labels:
            return ""
        return "textcat" if self.exclusive else "textcat_multilabel"

    def summary(self) -> str:
        parts = []
        if self.entities:
            parts.append(f"{len(self.entity_labels)} entity labels in "
                         f"{self.layers.get('entities', 0)} training docs"
                         f" ({100 * self.overlap_share:.1f} % overlapping)")
        if self.relations:
            parts.append(f"{len(self.relation_labels)} relation labels in "
                         f"{self.layers.get('relations', 0)} docs")
        if self.textcat:
            kind = "exclusive" if self.exclusive else "multi-label"
            parts.append(f"{len(self.category_labels)} {kind} categories in "
                         f"{self.layers.get('categories', 0)} docs")
        return "; ".join(parts) or "nothing to train"


def read_stats(corpus: Path) -> dict:
    path = Path(corpus) / "stats.json"
    if not path.exists():
        raise CorpusError(
            str(path),
            "no stats.json: convert the corpus first (python -m spacy_clinicalbert convert)",
        )
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except json.JSONDecodeError as err:
        raise CorpusError(f"{path}:{err.lineno}", f"invalid JSON: {err.msg}") from None


def profile_corpus(corpus: Path) -> CorpusProfile:
    """Read `corpus/stats.json` (and `corpus/train.spacy` for span lengths)."""
    corpus = Path(corpus)
    stats = read_stats(corpus)
    if "layers" not in stats:
        raise CorpusError(
            str(corpus / "stats.json"), "written by an older convert (no 'layers'): convert again"
        )
    train = "train"
    layers = dict(stats["layers"].get(train, {}))
    entity_labels = dict(stats["entities"].get(train, {}))
    n_entities = sum(stats["entities"]["total"].values())
    n_ents = sum(stats["ents"]["total"].values())
    overlap = (n_entities - n_ents) / n_entities if n_entities else 0.0
    cat_positive = dict(stats["cats"].get(train, {}))
    cat_labels = {
        label: cat_positive.get(label, 0)
        for label in stats["cat_labels_annotated"].get(train, {})
    }
    positives_per_doc = stats["cats_positive_per_doc"].get(train, {})
    exclusive = len(cat_labels) >= 2 and set(positives_per_doc) == {"1"}
    profile = CorpusProfile(
        corpus=corpus,
        layers=layers,
        entity_labels=entity_labels,
        overlap_share=overlap,
        relation_labels=dict(stats["relations"].get(train, {})),
        category_labels=cat_labels,
        exclusive=exclusive,
        train_docs=int(stats["docs"].get(train, 0)),
    )
    if profile.entities == "spancat" or profile.relations:
        docs = _read_train(corpus / "train.spacy")  # read once for both
        if profile.entities == "spancat":
            profile.spancat_max_size = _span_length_quantile(docs)
        if profile.relations:
            source = "entities" if profile.entities == "spancat" else "ents"
            _profile_relation_pairs(profile, docs, source)
    return profile


def _read_train(path: Path) -> List[Doc]:
    import spacy

    from ..corpus.writer import read_docbin

    return list(read_docbin(path, spacy.blank("en").vocab))


def _profile_relation_pairs(profile: CorpusProfile, train: List[Doc], source: str) -> None:
    """Candidate distance and negative share from the training docs that annotate relations:
    token gaps of their relations, and the pairs the candidate generator makes over their gold
    entities (type pairs as the component learns them)."""
    from ..layers import RELATIONS, annotates
    from ..relations.candidates import CandidateGenerator, token_gap
    from ..relations.data import get_relations

    docs = [doc for doc in train if annotates(doc, RELATIONS)]
    relations = [rel for doc in docs for rel in get_relations(doc)]
    if not relations:
        return
    gaps = sorted(max(0, token_gap(r.head, r.tail)) for r in relations)
    reach = gaps[min(len(gaps) - 1, int(RELATION_GAP_QUANTILE * len(gaps)))]
    profile.relation_gap_quantile = float(reach)
    profile.relation_max_distance = next(
        (d for d in RELATION_DISTANCES if d >= reach), RELATION_DISTANCES[-1]
    )
    type_pairs = {(r.head.label_, r.tail.label_) for r in relations}
    generator = CandidateGenerator(source=source, max_distance=profile.relation_max_distance,
                                   sentence_window=-1)
    n_pairs = sum(len(generator(doc, type_pairs)) for doc in docs)
    positives = len(relations)
    profile.gold_negatives_per_positive = max(0, n_pairs - positives) / positives


def _span_length_quantile(train: List[Doc]) -> int:
    """Token length that covers SPANCAT_LENGTH_QUANTILE of the training entities."""
    lengths: List[int] = sorted(
        len(span) for doc in train for span in doc.spans.get("entities", [])
    )
    if not lengths:
        return 1
    size = lengths[min(len(lengths) - 1, int(SPANCAT_LENGTH_QUANTILE * len(lengths)))]
    return max(1, min(size, SPANCAT_MAX_SIZE))
