"""What the threshold tuners share (span categorizer, relations, multi-label categories): the
grid, the record of a choice and the rule that picks the best value.

Each tuner runs the pipeline once over the dev docs that annotate its layer and re-filters
the kept scores per threshold; the rule is the same for all: the best F1, ties broken
towards the current threshold, so a flat curve leaves the value as it was.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Sequence

from spacy.language import Language

DEFAULT_GRID = tuple(round(0.05 * k, 2) for k in range(1, 20))


def check_grid(grid: Sequence[float]) -> None:
    if not grid or any(not 0.0 <= t <= 1.0 for t in grid):
        raise ValueError(f"thresholds must lie in [0, 1], got {list(grid)}")


@dataclass
class ThresholdChoice:
    component: str
    previous: float
    best: float
    scores: Dict[float, Dict[str, float]] = field(default_factory=dict)  # threshold -> P, R, F
    docs: int = 0

    def to_dict(self) -> Dict:
        return {
            "component": self.component,
            "previous": self.previous,
            "best": self.best,
            "docs": self.docs,
            "scores": {str(t): s for t, s in self.scores.items()},
        }

    def choose(self, allowed: Optional[Iterable[float]] = None) -> None:
        """Set `best`: the highest F among `allowed` (default: every threshold scored), ties
        to the value nearest `previous`; nothing allowed keeps `previous`."""
        pool = list(self.scores if allowed is None else allowed)
        if pool:
            self.best = max(pool, key=lambda t: (self.scores[t]["f"], -abs(t - self.previous)))


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
