"""`spacy-clinicalbert.LayerBalancedCorpus.v1`: repeat the docs of a sparsely annotated layer.

A corpus whose layers are annotated in different docs trains each layer only on its share
of every batch. ADE annotates entities and relations in 20 % of its training sentences
(the ADE-NEG sentences annotate only their category), so four batches in five teach the
recognizer and the relation head nothing, and the README's 800 steps see about a fifth
of an epoch of entity data. This reader repeats every doc that annotates a listed layer
a whole number of times, the least that brings those docs to `min_layer_share` of the
examples. Nothing is dropped; the category prior of the training stream moves towards the
docs that annotate the layer, which is logged with the counts.

    [corpora.train]
    @readers = "spacy-clinicalbert.LayerBalancedCorpus.v1"
    path = ${paths.train}

    [corpora.train.min_layer_share]
    entities = 0.5

spaCy's training loop lists the reader once (`max_epochs >= 0`) and shuffles that list
every epoch; the reader shuffles its output too (with `random`, which `spacy train` seeds),
so a streamed corpus (`max_epochs = -1`) does not read the repeats back to back either.
`Language.update` copies the examples it trains on, so one Example object may appear more
than once.
"""
import math
import random
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple, Union

from spacy.language import Language
from spacy.training import Example
from spacy.util import registry
from wasabi import msg

from ..layers import annotates, check_layers
from .reader import ClinicalCorpus

# spacy train reads the corpus at initialization and again to train: say it once.
_REPORTED: Set[Tuple[str, str, int, int]] = set()


def check_share(share: float) -> None:
    if not 0.0 < share < 1.0:
        raise ValueError(f"min_layer_share values must lie strictly between 0 and 1, got {share}")


def repeat_factor(n_with: int, n_without: int, share: float) -> int:
    """The least whole k with k*n_with / (k*n_with + n_without) >= share (1 if already so)."""
    check_share(share)
    if n_with == 0 or n_without == 0:
        return 1
    return max(1, math.ceil(share * n_without / ((1.0 - share) * n_with) - 1e-9))


class LayerBalancedCorpus:
    def __init__(self, corpus: ClinicalCorpus, min_layer_share: Dict[str, float]) -> None:
        check_layers(min_layer_share)
        for share in min_layer_share.values():
            check_share(share)
        self.corpus = corpus
        self.min_layer_share = dict(min_layer_share)

    def __call__(self, nlp: Language) -> Iterator[Example]:
        examples = list(self.corpus(nlp))
        repeats = [1] * len(examples)
        for layer, share in sorted(self.min_layer_share.items()):
            marked = [annotates(eg.reference, layer) for eg in examples]
            n_with = sum(marked)
            factor = repeat_factor(n_with, len(examples) - n_with, share)
            for i, has in enumerate(marked):
                if has:
                    repeats[i] = max(repeats[i], factor)
            n_read = sum(r for r, has in zip(repeats, marked, strict=True) if has)
            key = (str(self.corpus.path), layer, n_with, len(examples))
            if key not in _REPORTED:
                _REPORTED.add(key)
                msg.info(
                    f"{self.corpus.path}: {n_with} of {len(examples)} docs annotate {layer} "
                    f"({100.0 * n_with / max(1, len(examples)):.1f} %); each is read {factor} "
                    f"time(s), so they make up {100.0 * n_read / max(1, sum(repeats)):.1f} % of "
                    f"the {sum(repeats)} examples (min_layer_share {share:.2f})"
                )
        stream = [eg for eg, times in zip(examples, repeats, strict=True) for _ in range(times)]
        if len(stream) > len(examples):
            random.shuffle(stream)
        yield from stream


@registry.readers("spacy-clinicalbert.LayerBalancedCorpus.v1")
def create_layer_balanced_corpus(
    path: Optional[Union[str, Path]],
    min_layer_share: Dict[str, float],
    *,
    gold_preproc: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Callable[[Language, Example], Iterable[Example]]] = None,
) -> Callable[[Language], Iterable[Example]]:
    corpus = ClinicalCorpus(
        path,  # type: ignore[arg-type]
        gold_preproc=gold_preproc,
        max_length=max_length,
        limit=limit,
        augmenter=augmenter,
    )
    return LayerBalancedCorpus(corpus, min_layer_share)


__all__: List[str] = ["LayerBalancedCorpus", "create_layer_balanced_corpus", "repeat_factor"]
