"""Choose `clinical_relations`' decision threshold on dev data, end to end.

The threshold trades recall for precision: at 0 every candidate pair gets its labels,
which on corpora such as ADE (mostly one drug and one effect per sentence) is close to
the all-pairs floor; at 0.5, the trained default, a pair the model is unsure of is
dropped. Which side wins depends on the corpus and the training budget, so the
workflow measures it on dev. The pipeline runs once, every candidate's scores kept,
and each threshold of the grid re-filters them: no second pass of the encoder, unlike
`spacy find-threshold`, which reloads and re-runs the pipeline per trial.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from .data import get_relations, set_relations
from .scorer import annotated_examples, score_relations, scorer_settings

DEFAULT_GRID = tuple(round(0.05 * k, 2) for k in range(1, 20))


class NothingToTune(ValueError):
    """No dev doc annotates relations."""


@dataclass
class ThresholdChoice:
    component: str
    previous: float
    best: float
    scores: Dict[float, Dict[str, float]] = field(default_factory=dict)  # threshold -> P, R, F
    floor: Optional[Dict[str, float]] = None
    docs: int = 0

    def to_dict(self) -> Dict:
        return {
            "component": self.component,
            "previous": self.previous,
            "best": self.best,
            "docs": self.docs,
            "floor_micro": self.floor,
            "scores": {str(t): s for t, s in self.scores.items()},
        }


def choose_threshold(
    nlp: Language,
    gold_docs: Sequence[Doc],
    component: str = "clinical_relations",
    grid: Sequence[float] = DEFAULT_GRID,
    batch_size: int = 64,
) -> ThresholdChoice:
    """The grid's threshold with the best end-to-end micro F1 on the docs of `gold_docs`
    that annotate relations (ties: the one nearest the current threshold)."""
    if not grid or any(not 0.0 <= t <= 1.0 for t in grid):
        raise ValueError(f"thresholds must lie in [0, 1], got {list(grid)}")
    pipe: Any = nlp.get_pipe(component)
    previous = float(pipe.cfg["threshold"])
    golds = [eg.reference for eg in annotated_examples(Example(g, g) for g in gold_docs)]
    if not golds:
        raise NothingToTune(
            f"none of the {len(gold_docs)} docs annotates relations: nothing to tune on"
        )
    # Keep every label any threshold of the grid could keep (not all: at 0 a barely trained
    # head over many candidate pairs holds one Relation per pair and label), with its score.
    pipe.cfg["threshold"] = min(grid)
    try:
        predicted = list(nlp.pipe((g.text for g in golds), batch_size=batch_size))
    finally:
        pipe.cfg["threshold"] = previous
    everything = [list(get_relations(doc)) for doc in predicted]
    settings = scorer_settings(pipe)
    choice = ThresholdChoice(component, previous, previous, docs=len(golds))
    for t in sorted(set(grid)):
        for doc, relations in zip(predicted, everything, strict=True):
            set_relations(doc, [r for r in relations if r.score >= t])
        raw = score_relations(
            [Example(p, g) for p, g in zip(predicted, golds, strict=True)], **settings
        )
        choice.scores[t] = {k: raw[f"rel_micro_{k}"] for k in ("p", "r", "f")}
        if choice.floor is None and "rel_floor_micro_f" in raw:
            choice.floor = {k: raw[f"rel_floor_micro_{k}"] for k in ("p", "r", "f")}
    choice.best = max(choice.scores, key=lambda t: (choice.scores[t]["f"], -abs(t - previous)))
    return choice


def save_with_threshold(nlp: Language, choice: ThresholdChoice, output: Path) -> None:
    """Write the pipeline with the chosen threshold, in the component and in config.cfg."""
    nlp.meta.setdefault("clinicalbert", {})["relation_threshold"] = choice.to_dict()
    save_with_thresholds(nlp, {choice.component: choice.best}, output)


def save_with_thresholds(nlp: Language, thresholds: Dict[str, float], output: Path) -> None:
    """Write the pipeline with each component's threshold set, in the component and in
    config.cfg (which `spacy.load` reads back first)."""
    from spacy.util import load_config

    for component, value in thresholds.items():
        pipe: Any = nlp.get_pipe(component)
        pipe.cfg["threshold"] = value
    nlp.to_disk(output)
    config = load_config(output / "config.cfg", interpolate=False)
    for component, value in thresholds.items():
        config["components"][component]["threshold"] = value
    config.to_disk(output / "config.cfg")


def gold_docs_of(path: Path, nlp: Language) -> List[Doc]:
    from spacy.tokens import DocBin

    return list(DocBin().from_disk(path).get_docs(nlp.vocab))
