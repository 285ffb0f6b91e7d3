"""Gold-entity evaluation: put the gold entities on the predicted docs.

`spacy train` and `spacy evaluate` build each example's predicted doc from the raw
text, so a pipeline without `ner` (relations over given entities) would see no
entity at all. This augmenter copies `doc.ents` and chosen span groups from the
reference onto the predicted doc, so the relation component is scored with gold
entities (the "gold entities" setting of the benchmarks).
"""
import logging
from typing import Callable, Iterator, List, Sequence

from spacy.language import Language
from spacy.tokens import Span, SpanGroup
from spacy.training import Example
from spacy.util import registry

from .alignment import align_gold_spans

logger = logging.getLogger("spacy_clinicalbert.relations")


def copy_gold_entities(example: Example, span_keys: Sequence[str] = ("entities",)) -> Example:
    """A copy of `example` whose predicted doc carries the reference entities.

    Spans are mapped by `align_gold_spans` (spaCy's alignment, as the training
    candidates are); one the predicted tokens cut differently is left out and counted
    in a warning, as an entity no recognizer could predict exactly.
    """
    ref = example.reference
    pred = example.predicted.copy()
    aligned = Example(pred, ref)
    skipped = 0

    def mapped(spans: Sequence[Span]) -> List[Span]:
        nonlocal skipped
        out = align_gold_spans(aligned, spans)
        skipped += len(spans) - len(out)
        return out

    pred.ents = mapped(list(ref.ents))
    for key in span_keys:
        if key in ref.spans:
            pred.spans[key] = SpanGroup(pred, name=key, spans=mapped(list(ref.spans[key])))
    if skipped:
        logger.warning(
            "copy_gold_entities: %d gold spans left off the predicted doc: they do not align "
            "with its tokens.", skipped
        )
    return aligned


@registry.augmenters("spacy-clinicalbert.gold_entities.v1")
def gold_entities_augmenter_v1(
    span_keys: List[str] = ["entities"],  # noqa: B006  (read only; the default shows in filled configs)
) -> Callable[[Language, Example], Iterator[Example]]:
    """Corpus augmenter that copies gold `doc.ents` and `span_keys` groups onto the
    predicted docs (use it on the dev corpus for gold-entity relation scores)."""

    def augment(nlp: Language, example: Example) -> Iterator[Example]:
        yield copy_gold_entities(example, span_keys)

    return augment
