"""Choose `textcat_multilabel`'s decision threshold on dev data.

spaCy's multi-label text classifier writes a probability per label into `doc.cats`; the
component's `threshold` (0.5 by default) is what its scorer, our `evaluate` and a user's
`doc.cats[label] >= threshold` read as "positive". Where the probabilities are calibrated
depends on the training stream: the layer-balanced reader that init-config writes for
ADE's shape reads each ADE sentence four times, so the positives make up half of the
training examples instead of a fifth, and at 0.5 ADE's category was predicted at precision
64.5 and recall 94.9 on test (800 steps). The workflow therefore chooses the threshold on
the dev docs that annotate categories, by macro F1 (the score the generated config weights),
from one pass whose probabilities are re-thresholded per value. Exclusive `textcat` takes
the argmax and has nothing to tune.
"""
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from ..evaluation.categories import annotates_categories, score_categories
from ..thresholds import ThresholdChoice, check_grid

TEXTCAT_MULTILABEL_FACTORIES = ("textcat_multilabel",)


class NoCategoryDocs(ValueError):
    """No dev doc annotates categories."""


@dataclass
class CategoryThresholdChoice(ThresholdChoice):
    def to_dict(self) -> Dict:
        return {**super().to_dict(), "criterion": "macro F1"}


def choose_category_threshold(
    nlp: Language,
    gold_docs: Sequence[Doc],
    component: str,
    grid: Sequence[float],
    batch_size: int = 32,
) -> CategoryThresholdChoice:
    """The grid's threshold with the best macro F1 on the docs of `gold_docs` that annotate
    categories (ties: the one nearest the current threshold)."""
    check_grid(grid)
    pipe: Any = nlp.get_pipe(component)
    previous = float(pipe.cfg.get("threshold", 0.5))
    golds = [doc for doc in gold_docs if annotates_categories(doc)]
    if not golds:
        raise NoCategoryDocs(f"none of the {len(gold_docs)} docs annotates categories")
    # The pipeline up to this component: what comes after cannot change doc.cats.
    with nlp.select_pipes(enable=nlp.pipe_names[: nlp.pipe_names.index(component) + 1]):
        predicted = list(nlp.pipe((g.text for g in golds), batch_size=batch_size))
    examples = [Example(p, g) for p, g in zip(predicted, golds, strict=True)]
    choice = CategoryThresholdChoice(component, previous, previous, docs=len(golds))
    for t in sorted(set(grid)):
        raw = score_categories(examples, mode="multilabel", threshold=t)
        choice.scores[t] = {k: raw[f"macro_{k}"] for k in ("p", "r", "f")}
    choice.choose()
    return choice


def multilabel_textcats(nlp: Language) -> List[str]:
    """The pipeline's multi-label text classifiers, in order."""
    return [name for name in nlp.pipe_names
            if nlp.get_pipe_meta(name).factory in TEXTCAT_MULTILABEL_FACTORIES]
