"""The trainable `clinical_relations` component.

Per batch the candidate pairs are computed once (a `PairSet`) and handed from predict
to set_annotations, or used for the whole forward/backward in update. Which pairs a
training batch teaches is not the component's decision: its `training_pairs` policy
(`spacy-clinicalbert.relation_training_pairs.v1`, training_pairs.py) chooses them, as
spancat's suggester chooses its spans. Inference always uses the doc's own entities
(`doc.ents` or a span group). A training doc that does not annotate relations
(`spacy_clinicalbert.layers`) gives no pairs and no loss: its missing relations are not
taught as "no relation".

The recommended setup is the factory default and what `init-config` writes:
RelationModel.v2 (boundary tokens), sigmoid scores, gold + predicted training
entities, two boundary negatives per gold entity: the only setup measured above the
all-pairs floor end to end (ADE, benchmarks/relations.md, run 2).
"""
from itertools import islice
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, cast

import numpy
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate
from thinc.types import Floats2d

from ..layers import RELATIONS, annotates
from .candidates import CandidateGenerator, TypePair, learn_type_pairs, most_frequent_labels
from .data import Relation, get_relations, set_relations
from .loss import (
    NO_RELATION,
    loss_and_gradient,
    output_columns,
    pair_targets,
    positive_rows,
    probabilities,
)
from .pair_set import PairSet
from .reachability import count_reachable, log_reachability
from .relation_model import PairBatch
from .training_pairs import TRAINING_ENTITIES, TrainingPairs, with_legacy_settings

FACTORY = "clinical_relations"
REACHABILITY_SAMPLE = 1000  # training examples the initialize diagnostic looks at

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

__all__ = ["FACTORY", "NO_RELATION", "TRAINING_ENTITIES", "PairSet", "RelationExtractor",
           "make_clinical_relations"]


class RelationExtractor(TrainablePipe):
    """Scores ordered entity pairs and writes `doc._.relations` above a threshold."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = FACTORY,
        *,
        candidates: CandidateGenerator,
        training_pairs: Optional[TrainingPairs] = None,
        threshold: float = 0.5,
        multi_label: bool = False,
        symmetric_labels: Sequence[str] = (),
        scorer: Optional[Callable] = None,
    ):
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"clinical_relations: threshold must lie in [0, 1], got {threshold}.")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.candidates = candidates
        self.training_pairs = training_pairs if training_pairs is not None else TrainingPairs()
        self.scorer = scorer
        self.cfg: Dict[str, Any] = {
            "labels": [],
            "entity_labels": [],
            "type_pairs": [],
            "threshold": float(threshold),
            "multi_label": bool(multi_label),
            "symmetric_labels": list(symmetric_labels),
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
        return output_columns(self.cfg["labels"], self.cfg["multi_label"])

    def type_pairs(self) -> Optional[Set[TypePair]]:
        """The (head label, tail label) pairs candidates are drawn over: the generator's
        `allowed_pairs`, else those learnt at initialize; None (every pair) before it.
        Public because the evaluation's all-pairs floor must use the same pairs."""
        learned = {(h, t) for h, t, _, _ in self.cfg["type_pairs"]}
        return self.candidates.type_pairs(learned if self.cfg["type_pairs"] else None)

    def floor_labels(self) -> Dict[Tuple[str, str], str]:
        """Label the all-pairs floor predicts for each entity-type pair."""
        best = most_frequent_labels(self.cfg["type_pairs"])
        if self.candidates.allowed_pairs is not None:
            for label, pairs in self.candidates.allowed_pairs.items():
                for pair in pairs:
                    best.setdefault((pair[0], pair[1]), label)
        return best

    def _pair_set(self, spans) -> PairSet:
        ent_ids = {label: i + 1 for i, label in enumerate(self.cfg["entity_labels"])}
        return PairSet.from_spans(spans, ent_ids)

    # ---- inference --------------------------------------------------------------
    def predict(self, docs: Iterable[Doc]):
        docs = list(docs)
        type_pairs = self.type_pairs()
        pairs = self._pair_set([self.candidates(doc, type_pairs) for doc in docs])
        logits = self.model.predict((docs, pairs.batch))
        return pairs, probabilities(self.model.ops.to_numpy(logits), self.cfg["multi_label"])

    def set_annotations(self, docs: Iterable[Doc], predictions) -> None:
        pairs, probs = predictions
        columns = self._columns
        symmetric = set(self.cfg["symmetric_labels"])
        threshold = self.cfg["threshold"]
        row = 0
        for doc, doc_pairs in zip(docs, pairs.spans, strict=True):
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
    def _targets(self, examples: List[Example], pairs: PairSet) -> numpy.ndarray:
        return pair_targets(examples, pairs, self._columns, self.cfg["multi_label"],
                            self.cfg["symmetric_labels"])

    def _training_pair_set(self, examples: List[Example]) -> PairSet:
        """The policy's pairs for the batch, negatives sampled when it asks for that."""
        policy = self.training_pairs
        pairs = self._pair_set(policy(examples, self.candidates, self.type_pairs()))
        if policy.samples_negatives:
            positive = positive_rows(self._targets(examples, pairs), self.cfg["multi_label"])
            keep = policy.sample_negatives(positive)
            if keep is not None:
                pairs = pairs.subset(keep)
        return pairs

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
        pairs = self._training_pair_set(examples)
        docs = [eg.predicted for eg in examples]
        # Even a batch without pairs runs forward and backward: the last listener's
        # backprop is what triggers the transformer's update.
        logits, backprop = self.model.begin_update((docs, pairs.batch))
        probs = probabilities(self.model.ops.to_numpy(logits), self.cfg["multi_label"])
        loss, d_logits = self.get_loss(examples, (pairs, probs))
        backprop(self.model.ops.asarray2f(cast(Floats2d, d_logits)))
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(self, examples: Iterable[Example], scores) -> Tuple[float, numpy.ndarray]:
        """Loss of `(pairs, probabilities)` (predict's output) against the gold relations
        of `examples`, and its gradient with respect to the logits. Pairs of docs that do
        not annotate relations carry no loss."""
        examples = list(examples)
        pairs, probs = scores
        keep = numpy.asarray(
            [
                annotates(eg.reference, RELATIONS)
                for eg, doc_pairs in zip(examples, pairs.spans, strict=True)
                for _ in doc_pairs
            ],
            dtype=bool,
        )
        Y = self._targets(examples, pairs)
        loss, grad_kept = loss_and_gradient(probs[keep], Y[keep], self.cfg["multi_label"])
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
        triples: List[Tuple[str, str, str]] = []
        ent_labels: Set[str] = set()
        rel_labels: Set[str] = set()
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
        sample = list(islice(get_examples(), REACHABILITY_SAMPLE))
        reach = count_reachable((eg.reference for eg in sample), self.candidates, self.type_pairs())
        log_reachability(FACTORY, reach, self.candidates.source)
        self.cfg["gold_reachable"] = [reach.reachable, reach.gold]
        docs = [eg.predicted for eg in sample[:10]] or [Doc(self.vocab, words=["x"])]
        Y = numpy.zeros((2, len(self._columns)), dtype="f")
        self.model.initialize(
            X=(docs, PairBatch.from_rows([])), Y=self.model.ops.asarray2f(cast(Floats2d, Y))
        )

    def score(self, examples: Iterable[Example], **kwargs) -> Dict:
        """End-to-end scores plus the all-pairs floor over the same candidates."""
        if self.scorer is None:
            return {}
        settings = dict(
            labels=self.labels,
            symmetric_labels=self.cfg["symmetric_labels"],
            candidates=self.candidates,
            type_pairs=self.type_pairs(),
            floor_labels=self.floor_labels(),
        )
        settings.update(kwargs)
        return self.scorer(examples, **settings)


@Language.factory(
    FACTORY,
    assigns=["doc._.relations"],
    default_config={
        "model": DEFAULT_MODEL_CFG,
        # Sentences ignored: the pipeline trains before any sentence splitter runs, and the
        # rule stage that adds one must not change which pairs the head sees.
        "candidates": {"@misc": "spacy-clinicalbert.relation_candidates.v1", "source": "ents",
                       "max_distance": 100, "sentence_window": -1},
        # The recommended setup (module docstring; README "The clinical_relations component").
        "training_pairs": {"@misc": "spacy-clinicalbert.relation_training_pairs.v1",
                           "entities": "gold+predicted", "max_predicted_entities": 64,
                           "boundary_negatives": 2, "negative_ratio": -1.0},
        "threshold": 0.5,
        "multi_label": True,
        "symmetric_labels": [],
        # Older spellings of the training_pairs settings: null takes the block's value;
        # set (as configs and saved pipelines from before the block do), they win.
        "training_entities": None,
        "max_predicted_entities": None,
        "boundary_negatives": None,
        "negative_ratio": None,
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
    training_pairs: TrainingPairs,
    threshold: float,
    multi_label: bool,
    symmetric_labels: List[str],
    training_entities: Optional[str],
    max_predicted_entities: Optional[int],
    boundary_negatives: Optional[int],
    negative_ratio: Optional[float],
    scorer: Optional[Callable],
) -> RelationExtractor:
    """Trainable relation extractor over entity pairs (see RelationExtractor).

    training_pairs: the training-pair policy (training_pairs.py: training entities, the
        predicted-entity cap, boundary negatives, negative sampling).
    training_entities, max_predicted_entities, boundary_negatives, negative_ratio: the
        same settings under their older, top-level names; each one not null overrides
        the `training_pairs` block.
    """
    policy = with_legacy_settings(
        training_pairs,
        training_entities=training_entities,
        max_predicted_entities=max_predicted_entities,
        boundary_negatives=boundary_negatives,
        negative_ratio=negative_ratio,
    )
    return RelationExtractor(
        nlp.vocab,
        model,
        name,
        candidates=candidates,
        training_pairs=policy,
        threshold=threshold,
        multi_label=multi_label,
        symmetric_labels=symmetric_labels,
        scorer=scorer,
    )
