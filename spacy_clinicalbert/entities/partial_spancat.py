"""`clinical_spancat`: spaCy's span categorizer that learns nothing from a doc whose
entity layer is missing.

spaCy's `ner` reads a missing `ENT_IOB` as "unknown" and computes no loss there, but
`spancat` has no missing value: a doc without gold spans teaches that every suggested
span is no entity. Corpora with overlapping entities that annotate only some documents
(ADE annotates entities only in its ADE sentences) need both, so this subclass zeroes
the gradient rows of docs that do not annotate entities.

It also starts its output bias at the logit of `SPAN_PRIOR` (1 %) instead of 0. With a zero
bias an untrained spancat scores every suggested span about 0.5, so at the first dev
evaluation (step 0) every n-gram is an entity: on Chia's criteria (about 3,000 suggested spans
a document) the relation candidates over them did not finish in 6 minutes. Few suggested
spans are entities, so a small prior is also the better start (as in detection models).
Everything else, including the config and the saved format, is spaCy's `spancat`.
"""
from typing import Callable, Iterable, List, Optional, Tuple, cast

import numpy
from spacy.language import Language
from spacy.pipeline.spancat import DEFAULT_SPANCAT_MODEL, SpanCategorizer, Suggester
from spacy.training import Example
from thinc.api import Model
from thinc.types import Floats2d, Ragged

from ..layers import ENTITIES, annotates

FACTORY = "clinical_spancat"
SPAN_PRIOR = 0.01  # initial probability of each label for a suggested span


class PartialSpanCategorizer(SpanCategorizer):
    # spaCy annotates the gradient that SpanCategorizer.get_loss returns as a float.
    def get_loss(  # type: ignore[override]
        self, examples: Iterable[Example], spans_scores: Tuple[Ragged, Floats2d]
    ) -> Tuple[float, Floats2d]:
        """spancat's loss and gradient, with the rows of docs that do not annotate
        entities set to zero."""
        examples = list(examples)
        loss, d_scores = cast(Tuple[float, Floats2d], super().get_loss(examples, spans_scores))
        spans, _ = spans_scores
        keep = [annotates(eg.reference, ENTITIES) for eg in examples]
        if all(keep):
            return loss, d_scores
        lengths = self.model.ops.to_numpy(spans.lengths).astype("int64")
        mask = numpy.repeat(numpy.asarray(keep, dtype="f"), lengths)
        d_scores = d_scores * self.model.ops.asarray2f(cast(Floats2d, mask[:, None]))
        # thinc's Floats2d.sum stubs lack the no-axis overload (a scalar).
        return float((d_scores**2).sum()), d_scores  # type: ignore[call-overload]

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        """spancat's initialize, then the output bias set to the logit of SPAN_PRIOR."""
        super().initialize(get_examples, nlp=nlp, labels=labels)
        # spacy.SpanCategorizer.v1: Linear >> Logistic
        output = self.model.get_ref("scorer").layers[0]
        bias = output.get_param("b")
        prior_logit = numpy.log(SPAN_PRIOR / (1 - SPAN_PRIOR))
        output.set_param("b", self.model.ops.xp.full(bias.shape, prior_logit, dtype=bias.dtype))



@Language.factory(
    FACTORY,
    assigns=["doc.spans"],
    default_config={
        "threshold": 0.5,
        "spans_key": "entities",
        "max_positive": 1,
        "model": DEFAULT_SPANCAT_MODEL,
        "suggester": {"@misc": "spacy.ngram_range_suggester.v1", "min_size": 1, "max_size": 10},
        "scorer": {"@scorers": "spacy.spancat_scorer.v1"},
    },
    default_score_weights={
        "spans_entities_f": 1.0, "spans_entities_p": 0.0, "spans_entities_r": 0.0
    },
)
def make_clinical_spancat(
    nlp: Language,
    name: str,
    suggester: Suggester,
    model: Model[Tuple[list, Ragged], Floats2d],
    spans_key: str,
    scorer: Optional[Callable],
    threshold: float,
    max_positive: Optional[int],
) -> PartialSpanCategorizer:
    """spaCy's spancat (same settings) that skips docs whose entity layer is missing;
    spans go to `doc.spans[spans_key]` ("entities", as the converters write them)."""
    return PartialSpanCategorizer(
        nlp.vocab, model=model, suggester=suggester, name=name, spans_key=spans_key,
        negative_weight=None, allow_overlap=True, max_positive=max_positive, threshold=threshold,
        scorer=scorer, add_negative_label=False,
    )

