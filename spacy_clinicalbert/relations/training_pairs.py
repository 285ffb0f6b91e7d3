"""Which candidate pairs a training batch teaches `clinical_relations`.

A registered, versioned policy (`spacy-clinicalbert.relation_training_pairs.v1`, the
`training_pairs` block of the component), as spancat's suggester is: the component
scores whatever pairs it is handed and does not decide which ones those are.

The policy chooses the candidate entities of each training doc (gold, predicted or
both; a cap on predicted ones; gold copies with a boundary moved as negatives), pairs
them with the component's candidate generator, and after the targets are known keeps
a share of the negatives. Inference never uses it: there the doc's own entities are
the candidates.
"""
import logging
import random
from typing import Dict, Iterable, List, Optional, Set, Tuple

import numpy
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import registry

from ..layers import RELATIONS, annotates
from .alignment import align_gold_spans
from .candidates import CandidateGenerator, Pair, TypePair

logger = logging.getLogger("spacy_clinicalbert.relations")

# gold: the reference entities, mapped onto the predicted tokens (the head learns from
# the first step, before `ner` is any good); predicted: the predicted doc's own (needs
# the recognizer in [training] annotating_components); both: pairs over wrongly
# predicted entities then teach the head to say no.
TRAINING_ENTITIES = ("gold", "predicted", "gold+predicted")


class TrainingPairs:
    """The training-pair policy (see the module docstring for why it is its own object).

    entities: "gold", "predicted" or "gold+predicted" candidate entities while training.
    max_predicted_entities: in "gold+predicted", predicted entities kept per doc (a
        random subset beyond it; negative: all), so an untrained recognizer's flood of
        spans cannot swamp the first batches.
    boundary_negatives: per gold entity, how many copies with one boundary moved by a
        token join the candidates (0: none); pairs over them are negatives, so the head
        learns that a relation needs the exact span, as the end-to-end score does.
    negative_ratio: negatives kept per positive pair in a batch (negative: all).
    """

    def __init__(
        self,
        entities: str = "gold+predicted",
        max_predicted_entities: int = 64,
        boundary_negatives: int = 2,
        negative_ratio: float = -1.0,
    ):
        if entities not in TRAINING_ENTITIES:
            raise ValueError(
                f"clinical_relations: training entities (`training_pairs.entities`, formerly "
                f"`training_entities`) must be one of {TRAINING_ENTITIES}, got {entities!r}."
            )
        self.entities = entities
        self.max_predicted_entities = int(max_predicted_entities)
        self.boundary_negatives_per_entity = int(boundary_negatives)
        self.negative_ratio = float(negative_ratio)

    def to_cfg(self) -> Dict:
        """The settings, as the registered function takes them."""
        return {
            "entities": self.entities,
            "max_predicted_entities": self.max_predicted_entities,
            "boundary_negatives": self.boundary_negatives_per_entity,
            "negative_ratio": self.negative_ratio,
        }

    # ---- pairs ------------------------------------------------------------------
    def __call__(
        self,
        examples: Iterable[Example],
        candidates: CandidateGenerator,
        type_pairs: Optional[Set[TypePair]],
    ) -> List[List[Pair]]:
        """Training pairs per example, over its predicted doc. An example whose reference
        does not annotate relations gives none: its missing relations are not "none"."""
        out: List[List[Pair]] = []
        unaligned = 0
        for eg in examples:
            if not annotates(eg.reference, RELATIONS):
                out.append([])
                continue
            ents, skipped = self.candidate_entities(eg, candidates)
            unaligned += skipped
            out.append(candidates.pairs(eg.predicted, ents, type_pairs))
        if unaligned:
            logger.warning(
                "clinical_relations: %d gold entities skipped as candidates: they do not "
                "align with the predicted tokenization.", unaligned
            )
        return out

    def candidate_entities(
        self, example: Example, candidates: CandidateGenerator
    ) -> Tuple[List[Span], int]:
        """Candidate entities of one training example (spans of its predicted doc, sorted,
        deduplicated) and how many gold entities did not align with its tokens."""
        doc = example.predicted
        ents: List[Span] = []
        if self.entities != "gold":
            ents = candidates.entities(doc)
            if self.entities == "gold+predicted":
                ents = self.limit_predicted(ents)
        skipped = 0
        if self.entities != "predicted":
            gold = candidates.entities(example.reference)
            aligned = align_gold_spans(example, gold)
            skipped = len(gold) - len(aligned)
            ents.extend(aligned)
            ents.extend(self.boundary_negatives(doc, aligned))
        unique = {(s.start, s.end, s.label_): s for s in ents}
        return [unique[k] for k in sorted(unique)], skipped

    def limit_predicted(self, ents: List[Span]) -> List[Span]:
        """At most `max_predicted_entities` of `ents`, drawn at random, order kept: an
        untrained spancat can propose hundreds of spans per sentence."""
        cap = self.max_predicted_entities
        if cap < 0 or len(ents) <= cap:
            return ents
        keep = sorted(random.sample(range(len(ents)), cap))
        return [ents[k] for k in keep]

    def boundary_negatives(self, doc: Doc, gold_ents: List[Span]) -> List[Span]:
        """Up to `boundary_negatives` copies of each gold entity with one boundary moved by
        a token, never onto whitespace nor onto another gold entity's extent."""
        n = self.boundary_negatives_per_entity
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

    # ---- negative sampling ------------------------------------------------------
    @property
    def samples_negatives(self) -> bool:
        """Does the policy drop negatives (so the caller must say which pairs are positive)?"""
        return self.negative_ratio >= 0

    def sample_negatives(self, positive: numpy.ndarray) -> Optional[numpy.ndarray]:
        """Sorted row indices to keep: every positive and at most `negative_ratio`
        negatives per positive (at least one). None: keep every row."""
        if not self.samples_negatives or len(positive) == 0:
            return None
        pos_idx = numpy.flatnonzero(positive)
        neg_idx = numpy.flatnonzero(~positive)
        n_keep = min(len(neg_idx), max(1, int(round(self.negative_ratio * max(len(pos_idx), 1)))))
        keep_neg = numpy.asarray(random.sample(list(neg_idx), n_keep), dtype="int64")
        return numpy.sort(numpy.concatenate([pos_idx, keep_neg]).astype("int64"))


def with_legacy_settings(
    policy: TrainingPairs,
    training_entities: Optional[str] = None,
    max_predicted_entities: Optional[int] = None,
    boundary_negatives: Optional[int] = None,
    negative_ratio: Optional[float] = None,
) -> TrainingPairs:
    """`policy` with the component's older top-level settings laid over it.

    Configs and saved pipelines from before the policy existed set these on the
    component itself; a value given there (not null) wins over the `training_pairs`
    block, so they load and train as they did.
    """
    given = {
        "entities": training_entities,
        "max_predicted_entities": max_predicted_entities,
        "boundary_negatives": boundary_negatives,
        "negative_ratio": negative_ratio,
    }
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return policy
    return TrainingPairs(**{**policy.to_cfg(), **given})


@registry.misc("spacy-clinicalbert.relation_training_pairs.v1")
def relation_training_pairs_v1(
    entities: str = "gold+predicted",
    max_predicted_entities: int = 64,
    boundary_negatives: int = 2,
    negative_ratio: float = -1.0,
) -> TrainingPairs:
    """Training-pair policy of `clinical_relations` (defaults: the recommended setup)."""
    return TrainingPairs(
        entities=entities,
        max_predicted_entities=max_predicted_entities,
        boundary_negatives=boundary_negatives,
        negative_ratio=negative_ratio,
    )
