"""Gold-entity evaluation: put the gold entities on the predicted docs.

`spacy train` and `spacy evaluate` build each example's predicted doc from the raw
text, so a pipeline without `ner` (relations over given entities) would see no
entity at all. This augmenter copies `doc.ents` and chosen span groups from the
reference onto the predicted doc, so the relation component is scored with gold
entities (the "gold entities" setting of the benchmarks).
"""
from typing import Callable, Iterator, List, Sequence

from spacy.language import Language
from spacy.tokens import Span, SpanGroup
from spacy.training import Example
from spacy.util import registry


def copy_gold_entities(example: Example, span_keys: Sequence[str] = ("entities",)) -> Example:
    """A copy of `example` whose predicted doc carries the reference entities."""
    ref = example.reference
    pred = example.predicted.copy()
    same_tokens = len(pred) == len(ref) and all(
        a.idx == b.idx and len(a) == len(b) for a, b in zip(pred, ref)
    )

    def mapped(span: Span) -> Span:
        if same_tokens:
            return Span(pred, span.start, span.end, label=span.label_)
        out = pred.char_span(span.start_char, span.end_char, label=span.label_,
                             alignment_mode="expand")
        if out is None:
            raise ValueError(
                f"copy_gold_entities: gold span '{span.text}' ({span.start_char}-"
                f"{span.end_char}) cannot be mapped onto the predicted tokens."
            )
        return out

    pred.ents = [mapped(s) for s in ref.ents]
    for key in span_keys:
        if key in ref.spans:
            pred.spans[key] = SpanGroup(pred, name=key, spans=[mapped(s) for s in ref.spans[key]])
    return Example(pred, ref)


@registry.augmenters("spacy-clinicalbert.gold_entities.v1")
def gold_entities_augmenter_v1(
    span_keys: List[str] = ["entities"],
) -> Callable[[Language, Example], Iterator[Example]]:
    """Corpus augmenter that copies gold `doc.ents` and `span_keys` groups onto the
    predicted docs (use it on the dev corpus for gold-entity relation scores)."""

    def augment(nlp: Language, example: Example) -> Iterator[Example]:
        yield copy_gold_entities(example, span_keys)

    return augment
