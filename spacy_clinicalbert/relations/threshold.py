"""Choose `clinical_relations`' decision threshold on dev data, end to end.

The threshold trades recall for precision: at 0 every candidate pair gets its labels,
which on corpora such as ADE (mostly one drug and one effect per sentence) is close to
the all-pairs floor; at 0.5, the trained default, a pair the model is unsure of is
dropped. Which side wins depends on the corpus and the training budget, so the
workflow measures it on dev. The pipeline runs once, every candidate's scores kept,
and each threshold of the grid re-filters them: no second pass of the encoder, unlike
`spacy find-threshold`, which reloads and re-runs the pipeline per trial.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from ..thresholds import DEFAULT_GRID, ThresholdChoice, check_grid
from .data import get_relations, set_relations
from .scorer import annotated_examples, score_relations, scorer_settings


class NothingToTune(ValueError):
    """No dev doc annotates relations."""


@dataclass
class RelationThresholdChoice(ThresholdChoice):
    floor: Optional[Dict[str, float]] = None  # the all-pairs floor over the same entities

    def to_dict(self) -> Dict:
        return {**super().to_dict(), "floor_micro": self.floor}


def choose_threshold(
    nlp: Language,
    gold_docs: Sequence[Doc],
    component: str = "clinical_relations",
    grid: Sequence[float] = DEFAULT_GRID,
    batch_size: int = 64,
) -> RelationThresholdChoice:
    """The grid's threshold with the best end-to-end micro F1 on the docs of `gold_docs`
    that annotate relations (ties: the one nearest the current threshold)."""
    check_grid(grid)
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
    choice = RelationThresholdChoice(component, previous, previous, docs=len(golds))
    for t in sorted(set(grid)):
        for doc, relations in zip(predicted, everything, strict=True):
            set_relations(doc, [r for r in relations if r.score >= t])
        raw = score_relations(
            [Example(p, g) for p, g in zip(predicted, golds, strict=True)], **settings
        )
        choice.scores[t] = {k: raw[f"rel_micro_{k}"] for k in ("p", "r", "f")}
        if choice.floor is None and "rel_floor_micro_f" in raw:
            choice.floor = {k: raw[f"rel_floor_micro_{k}"] for k in ("p", "r", "f")}
    choice.choose()
    return choice


def gold_docs_of(path: Path, nlp: Language) -> List[Doc]:
    from spacy.tokens import DocBin

    return list(DocBin().from_disk(path).get_docs(nlp.vocab))
