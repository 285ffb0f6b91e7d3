"""The trainable `clinical_relations` component.

Per batch the candidate pairs are computed once (a `_PairSet`) and handed from
predict to set_annotations, or used for the whole forward/backward in update.
Training can draw candidates from the gold entities (default: the relation head
learns from the first step, before `ner` is any good) or from the predicted
ones; inference always uses the doc's own entities (`doc.ents` or a span group).
A training doc that does not annotate relations (`spacy_clinicalbert.layers`) gives
no candidate pairs: its missing relations are not taught as "no relation".

The recommended setup is the factory default and what `init-config` writes:
RelationModel.v2 (boundary tokens), sigmoid scores, gold + predicted training
entities, two boundary negatives per gold entity: the only setup measured above the
all-pairs floor end to end (ADE, benchmarks/relations.md, run 2).
"""
import logging
import random
from itertools import islice
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate

from ..layers import RELATIONS, annotates
from .candidates import CandidateGenerator, learn_type_pairs, most_frequent_labels
from .data import Relation, get_relations, set_relations
from .relation_model import PairBatch

logger = logging.getLogger("spacy_clinicalbert.relations")

FACTORY = "clinical_relations"

DEFAULT_MODEL = """
[model]
@architectures = "spacy-clinicalbert.RelationModel.v2"
hidden_width = 256
label_width = 32
size_width = 16
max_entity_labels = 64
dropout = 0.1
nO = null

[model.tok2vec]
@architectures = "spacy-clinicalbert.TransformerListener.v1"
grad_factor = 1.0
upstream = "*"

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""
DEFAULT_MODEL_CFG = Config().from_str(DEFAULT_MODEL)["model"]
NO_RELATION = "__NO_RELATION__"
# Candidate entities while training: gold (mapped onto the predicted tokens), the
# predicted doc's own (needs the entity recognizer in [training] annotating_components),
# or both (pairs over wrongly predicted entities then teach the model to say no).
TRAINING_ENTITIES = ("gold", "predicted", "gold+predicted")


class _PairSet:
    """Candidate pairs of one batch: the spans (per doc) and their flat arrays."""

    def __init__(self, spans: List[List[Tuple[Span, Span]]], batch: PairBatch):
        self.spans = spans
        self.batch = batch

    def __len__(self) -> int:
        return len(self.batch)


class RelationExtractor(TrainablePipe):
    """Scores ordered entity pairs and writes `doc._.relations` above a threshold."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = FACTORY,
        *,
        candidates: CandidateGenerator,
        threshold: float = 0.5,
        multi_label: bool = False,
        negative_ratio: float = -1.0,
        symmetric_labels: Sequence[str] = (),
        training_entities: str = "gold",
        max_predicted_entities: int = 64,
        boundary_negatives: int = 0,
        scorer: Optional[Callable] = None,
    ):
        if training_entities not in TRAINING_ENTITIES:
            raise ValueError(
                f"clinical_relations: training_entities must be one of {TRAINING_ENTITIES}, "
                f"got {training_entities!r}."
            )
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"clinical_relations: threshold must lie in [0, 1], got {threshold}.")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.candidates = candidates
        self.scorer = scorer
        self.cfg = {
            "labels": [],
            "entity_labels": [],
            "type_pairs": [],
            "threshold": float(threshold),
            "multi_label": bool(multi_label),
            "negative_ratio": float(negative_ratio),
            "symmetric_labels": list(symmetric_labels),
            "training_entities": training_entities,
            "max_predicted_entities": int(max_predicted_entities),
            "boundary_negatives": int(boundary_negatives),
        }

    # ---- labels -----------------------------------------------------------------
    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    def add_label(self, label: str) -> int:
        if label in self.cfg["labels"]:
            return 0
        if self.model.has_dim("nO"):
            raise ValueError(
                f"clinical_relations: cannot add label '{label}' after the model was "
                "initialized; list all labels before nlp.initialize()."
            )
        self.cfg["labels"].append(label)
        return 1

    @property
    def _columns(self) -> List[str]:
        """Output columns: the labels, plus a no-relation column in softmax mode."""
        labels = list(self.cfg["labels"])
        return labels if self.cfg["multi_label"] else [NO_RELATION] + labels

    def _type_pairs(self):
        learned = {(h, t) for h, t, _, _ in self.cfg["type_pairs"]}
        return self.candidates.type_pairs(learned if self.cfg["type_pairs"] else None)

    def floor_labels(self) -> Dict[Tuple[str, str], str]:
        """Label the all-pairs floor predicts for each entity-type pair."""
        best = most_frequent_labels(self.cfg["type_pairs"])
        if self.candidates.allowed_pairs is not None:
            for label, pairs in self.candidates.allowed_pairs.items():
                for pair in pairs:
                    best.setdefault(tuple(pair), label)
        return best

    # ---- candidates -------------------------------------------------------------
    def _pairs(
        self,
        docs: List[Doc],
        source_docs: Optional[List[Doc]] = None,
        union: bool = False,
        skip: Optional[Sequence[bool]] = None,
    ) -> _PairSet:
        """Candidates for `docs`. With `source_docs` the entities come from those (gold)
        docs, mapped onto `docs` by character offsets; with `union` too, the docs' own
        (predicted) entities are added, so pairs over wrong entities become negatives.
        Docs flagged in `skip` get no pairs (they stay in the batch for the listener)."""
        type_pairs = self._type_pairs()
        ent_ids = {label: i + 1 for i, label in enumerate(self.cfg["entity_labels"])}
        spans, rows, unmapped = [], [], 0
        for i, doc in enumerate(docs):
            if skip is not None and skip[i]:
                spans.append([])
                continue
            ents = self.candidates.entities(doc) if source_docs is None or union else []
            if union:
                ents = self._limit_predicted(ents)
            if source_docs is not None:
                gold_ents = []
                for span in self.candidates.entities(source_docs[i]):
                    mapped = _map_span(doc, span)
                    if mapped is None:
                        unmapped += 1
                    else:
                        gold_ents.append(mapped)
                ents.extend(gold_ents)
                ents.extend(self._boundary_negatives(doc, gold_ents))
            unique = {(s.start, s.end, s.label_): s for s in ents}
            ents = [unique[k] for k in sorted(unique)]
            doc_pairs = []
            for head, tail in self.candidates.pairs(doc, ents, type_pairs):
                doc_pairs.append((head, tail))
                rows.append(
                    (i, head.start, head.end, tail.start, tail.end,
                     ent_ids.get(head.label_, 0), ent_ids.get(tail.label_, 0))
                )
            spans.append(doc_pairs)
        if unmapped:
            logger.warning(
                "clinical_relations: %d gold entities skipped as candidates: they do not "
                "align with the predicted tokenization.", unmapped
            )
        return _PairSet(spans, PairBatch.from_rows(rows))

    def _boundary_negatives(self, doc: Doc, gold_ents: List[Span]) -> List[Span]:
        """Up to `boundary_negatives` copies of each gold entity with one boundary moved
        by a token (training only). Pairs over them are negatives, so the head learns
        that a relation needs the right span, as the end-to-end score does."""
        n = self.cfg.get("boundary_negatives", 0)
        if n <= 0 or not gold_ents:
            return []
        taken = {(s.start, s.end) for s in gold_ents}
        out = []
        for span in gold_ents:
            shifts = [(span.start - 1, span.end), (span.start, span.end + 1)]
            if len(span) > 1:
                shifts += [(span.start + 1, span.end), (span.start, span.end - 1)]
            shifts = [(a, b) for a, b in shifts
                      if 0 <= a < b <= len(doc) and (a, b) not in taken
                      and not doc[a].is_space and not doc[b - 1].is_space]
            for a, b in random.sample(shifts, min(n, len(shifts))):
                out.append(Span(doc, a, b, label=span.label_))
        return out

    def _limit_predicted(self, ents: List[Span]) -> List[Span]:
        """At most `max_predicted_entities` predicted entities per training doc, drawn at
        random: an untrained spancat can propose hundreds of spans per sentence, whose
        pairs would swamp the early batches (training only; inference keeps every one)."""
        cap = self.cfg.get("max_predicted_entities", -1)
        if cap < 0 or len(ents) <= cap:
            return ents
        keep = sorted(random.sample(range(len(ents)), cap))
        return [ents[k] for k in keep]

    # ---- inference --------------------------------------------------------------
    def predict(self, docs: Iterable[Doc]):
        docs = list(docs)
        pairs = self._pairs(docs)
        logits = self.model.predict((docs, pairs.batch))
        return pairs, self._probabilities(self.model.ops.to_numpy(logits))

    def _probabilities(self, logits: numpy.ndarray) -> numpy.ndarray:
        if logits.shape[0] == 0:
            return logits
        if self.cfg["multi_label"]:
            return 1.0 / (1.0 + numpy.exp(-logits))
        shifted = numpy.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def set_annotations(self, docs: Iterable[Doc], predictions) -> None:
        pairs, probs = predictions
        columns = self._columns
        symmetric = set(self.cfg["symmetric_labels"])
        threshold = self.cfg["threshold"]
        row = 0
        for doc, doc_pairs in zip(docs, pairs.spans):
            found: Dict[Tuple, Relation] = {}
            for head, tail in doc_pairs:
                scores = probs[row]
                row += 1
                if not self.cfg["multi_label"]:
                    best = int(scores.argmax())
                    keep = [best] if best != 0 and scores[best] >= threshold else []
                else:
                    keep = [j for j, s in enumerate(scores) if s >= threshold]
                for j in keep:
                    label = columns[j]
                    h, t = head, tail
                    if label in symmetric and (t.start, t.end) < (h.start, h.end):
                        h, t = t, h
                    key = (h.start, h.end, h.label_, t.start, t.end, t.label_, label)
                    if key not in found or found[key].score < scores[j]:
                        found[key] = Relation(h, t, label, float(min(max(scores[j], 0.0), 1.0)))
            set_relations(doc, found.values())

    # ---- training ---------------------------------------------------------------
    def _targets(self, examples: List[Example], pairs: _PairSet) -> numpy.ndarray:
        columns = {label: j for j, label in enumerate(self._columns)}
        symmetric = set(self.cfg["symmetric_labels"])
        Y = numpy.zeros((len(pairs), len(columns)), dtype="f")
        row = 0
        for eg, doc_pairs in zip(examples, pairs.spans):
            gold: Dict[Tuple, List[str]] = {}
            for rel in get_relations(eg.reference):
                h, t = rel.head, rel.tail
                key = (h.start_char, h.end_char, h.label_, t.start_char, t.end_char, t.label_)
                gold.setdefault(key, []).append(rel.label)
                if rel.label in symmetric:
                    gold.setdefault(key[3:] + key[:3], []).append(rel.label)
            for head, tail in doc_pairs:
                key = (head.start_char, head.end_char, head.label_,
                       tail.start_char, tail.end_char, tail.label_)
                labels = [columns[lab] for lab in gold.get(key, []) if lab in columns]
                if labels:
                    if self.cfg["multi_label"]:
                        Y[row, labels] = 1.0
                    else:
                        Y[row, labels[0]] = 1.0
                elif not self.cfg["multi_label"]:
                    Y[row, 0] = 1.0
                row += 1
        return Y

    def _training_pairs(self, examples: List[Example]) -> _PairSet:
        docs = [eg.predicted for eg in examples]
        skip = [not annotates(eg.reference, RELATIONS) for eg in examples]
        mode = self.cfg["training_entities"]
        if mode == "predicted":
            return self._pairs(docs, skip=skip)
        gold = [eg.reference for eg in examples]
        return self._pairs(docs, source_docs=gold, union=mode == "gold+predicted", skip=skip)

    def _sample_negatives(self, pairs: _PairSet, Y: numpy.ndarray) -> Tuple[_PairSet, numpy.ndarray]:
        """Keep every positive and at most `negative_ratio` negatives per positive."""
        ratio = self.cfg["negative_ratio"]
        if ratio < 0 or len(pairs) == 0:
            return pairs, Y
        positive = Y[:, 1:].sum(axis=1) > 0 if not self.cfg["multi_label"] else Y.sum(axis=1) > 0
        pos_idx = numpy.flatnonzero(positive)
        neg_idx = numpy.flatnonzero(~positive)
        n_keep = min(len(neg_idx), max(1, int(round(ratio * max(len(pos_idx), 1)))))
        keep_neg = numpy.asarray(random.sample(list(neg_idx), n_keep), dtype="int64")
        keep = numpy.sort(numpy.concatenate([pos_idx, keep_neg]).astype("int64"))
        keep_set = set(keep.tolist())
        spans, flat = [], 0
        for doc_pairs in pairs.spans:
            kept = []
            for pair in doc_pairs:
                if flat in keep_set:
                    kept.append(pair)
                flat += 1
            spans.append(kept)
        return _PairSet(spans, pairs.batch.subset(keep)), Y[keep]

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "RelationExtractor.update")
        set_dropout_rate(self.model, drop)
        pairs = self._training_pairs(examples)
        Y = self._targets(examples, pairs)
        pairs, Y = self._sample_negatives(pairs, Y)
        docs = [eg.predicted for eg in examples]
        logits, backprop = self.model.begin_update((docs, pairs.batch))
        loss, d_logits = self._loss(self.model.ops.to_numpy(logits), Y)
        backprop(self.model.ops.asarray2f(d_logits))
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def _loss(self, logits: numpy.ndarray, Y: numpy.ndarray) -> Tuple[float, numpy.ndarray]:
        """Mean loss over pairs and its gradient with respect to the logits."""
        if logits.shape[0] == 0:
            return 0.0, logits
        probs = self._probabilities(logits)
        loss, d_probs = self._loss_from_probs(probs, Y)
        return loss, d_probs

    def _loss_from_probs(self, probs: numpy.ndarray, Y: numpy.ndarray) -> Tuple[float, numpy.ndarray]:
        """Binary cross-entropy (sigmoid) or cross-entropy (softmax), mean over pairs.
        For both, the gradient with respect to the logits is probs - targets."""
        n = max(probs.shape[0], 1)
        eps = 1e-7
        if self.cfg["multi_label"]:
            loss = -(Y * numpy.log(probs + eps) + (1 - Y) * numpy.log(1 - probs + eps)).sum()
        else:
            loss = -(Y * numpy.log(probs + eps)).sum()
        return float(loss / n), ((probs - Y) / n).astype("f")

    def get_loss(self, examples: Iterable[Example], scores) -> Tuple[float, numpy.ndarray]:
        """Loss of `predict` output against the gold relations of `examples` (pairs of
        docs that do not annotate relations carry no loss)."""
        examples = list(examples)
        pairs, probs = scores
        keep = numpy.asarray(
            [annotates(eg.reference, RELATIONS) for eg, doc_pairs in zip(examples, pairs.spans) for _ in doc_pairs],
            dtype=bool,
        )
        Y = self._targets(examples, pairs)
        loss, grad_kept = self._loss_from_probs(probs[keep], Y[keep])
        grad = numpy.zeros(probs.shape, dtype="f")
        grad[keep] = grad_kept
        return loss, grad

    # ---- initialize / score -----------------------------------------------------
    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        """Learn labels, entity labels and allowed type pairs from the examples."""
        validate_get_examples(get_examples, "RelationExtractor.initialize")
        triples, ent_labels, rel_labels = [], set(), set()
        n_gold = n_reachable = 0
        for eg in get_examples():
            ref = eg.reference
            for span in self.candidates.entities(ref):
                ent_labels.add(span.label_)
            if not annotates(ref, RELATIONS):
                continue
            for rel in get_relations(ref):
                triples.append((rel.head.label_, rel.tail.label_, rel.label))
                rel_labels.add(rel.label)
                ent_labels.update((rel.head.label_, rel.tail.label_))
        if labels is not None:
            rel_labels = set(labels)
        for label in sorted(rel_labels):
            self.add_label(label)
        if not self.cfg["labels"]:
            raise ValueError(
                "clinical_relations: no relation labels found in the training examples "
                "(no document that annotates relations holds one) and none were given. "
                "Leave clinical_relations out for a corpus without relations: "
                "`python -m spacy_clinicalbert init-config CORPUS_DIR OUTPUT.cfg` writes a "
                "config with only the components the corpus has gold data for."
            )
        max_ents = self.model.attrs.get("max_entity_labels", 64) - 1
        ents = sorted(ent_labels)
        if len(ents) > max_ents:
            raise ValueError(
                f"clinical_relations: {len(ents)} entity labels but the model's "
                f"max_entity_labels allows {max_ents}; raise it in the config."
            )
        self.cfg["entity_labels"] = ents
        self.cfg["type_pairs"] = learn_type_pairs(triples)
        # How many gold relations can the candidate generator reach at all?
        sample = list(islice(get_examples(), 1000))
        type_pairs = self._type_pairs()
        for eg in sample:
            ref = eg.reference
            reachable = {
                (h.start, h.end, h.label_, t.start, t.end, t.label_)
                for h, t in self.candidates(ref, type_pairs)
            }
            for rel in get_relations(ref):
                n_gold += 1
                h, t = rel.head, rel.tail
                n_reachable += (h.start, h.end, h.label_, t.start, t.end, t.label_) in reachable
        if n_gold:
            logger.info(
                "clinical_relations: %d of %d gold relations (%.1f%%) are reachable as "
                "candidates from source '%s' in the first %d training examples.",
                n_reachable, n_gold, 100.0 * n_reachable / n_gold, self.candidates.source, len(sample)
            )
        self.cfg["gold_reachable"] = [n_reachable, n_gold]
        docs = [eg.predicted for eg in sample[:10]] or [Doc(self.vocab, words=["x"])]
        Y = numpy.zeros((2, len(self._columns)), dtype="f")
        self.model.initialize(X=(docs, PairBatch.from_rows([])), Y=self.model.ops.asarray2f(Y))

    def score(self, examples: Iterable[Example], **kwargs) -> Dict:
        """End-to-end scores plus the all-pairs floor over the same candidates."""
        if self.scorer is None:
            return {}
        settings = dict(
            labels=self.labels,
            symmetric_labels=self.cfg["symmetric_labels"],
            candidates=self.candidates,
            type_pairs=self._type_pairs(),
            floor_labels=self.floor_labels(),
        )
        settings.update(kwargs)
        return self.scorer(examples, **settings)


def _map_span(doc: Doc, span: Span) -> Optional[Span]:
    """The span of `doc` with the same characters and label as `span` (another doc)."""
    if span.doc is doc:
        return span
    if len(span.doc) == len(doc) and span.doc.text == doc.text:
        return Span(doc, span.start, span.end, label=span.label_)
    return doc.char_span(span.start_char, span.end_char, label=span.label_)


@Language.factory(
    FACTORY,
    assigns=["doc._.relations"],
    default_config={
        "model": DEFAULT_MODEL_CFG,
        # Sentences ignored: the pipeline trains before any sentence splitter runs, and the
        # rule stage that adds one must not change which pairs the head sees.
        "candidates": {"@misc": "spacy-clinicalbert.relation_candidates.v1", "source": "ents",
                       "max_distance": 100, "sentence_window": -1},
        "threshold": 0.5,
        # The recommended setup (module docstring; README "The clinical_relations component").
        "multi_label": True,
        "negative_ratio": -1.0,
        "symmetric_labels": [],
        "training_entities": "gold+predicted",
        "max_predicted_entities": 64,
        "boundary_negatives": 2,
        "scorer": {"@scorers": "spacy-clinicalbert.relation_scorer.v1"},
    },
    default_score_weights={
        "rel_micro_f": 1.0,
        "rel_micro_p": 0.0,
        "rel_micro_r": 0.0,
        "rel_floor_micro_f": 0.0,
    },
)
def make_clinical_relations(
    nlp: Language,
    name: str,
    model: Model,
    candidates: CandidateGenerator,
    threshold: float,
    multi_label: bool,
    negative_ratio: float,
    symmetric_labels: List[str],
    training_entities: str,
    max_predicted_entities: int,
    boundary_negatives: int,
    scorer: Optional[Callable],
) -> RelationExtractor:
    """Trainable relation extractor over entity pairs (see RelationExtractor).

    negative_ratio: negatives kept per positive pair in each training batch
        (negative: keep all). training_entities: "gold", "predicted" or
        "gold+predicted" entities as the candidate source while training ("predicted"
        needs the recognizer in annotating_components); inference uses the doc's own.
    max_predicted_entities: in "gold+predicted" training, predicted entities kept per
        doc (a random subset beyond it; negative: all), so an untrained recognizer's
        flood of spans cannot swamp the first batches.
    boundary_negatives: per gold entity, how many copies with one boundary moved by a
        token join the training candidates as negatives (0: none).
    """
    return RelationExtractor(
        nlp.vocab,
        model,
        name,
        candidates=candidates,
        threshold=threshold,
        multi_label=multi_label,
        negative_ratio=negative_ratio,
        symmetric_labels=symmetric_labels,
        training_entities=training_entities,
        max_predicted_entities=max_predicted_entities,
        boundary_negatives=boundary_negatives,
        scorer=scorer,
    )
