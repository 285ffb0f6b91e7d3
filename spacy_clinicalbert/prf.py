"""Precision, recall and F1 from counts: the one implementation every scorer in the package uses."""
from typing import Dict, Iterable


def prf(tp: int, fp: int, fn: int) -> Dict[str, float]:
    """P, R and F1; 0.0 where a ratio has nothing to divide by."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f}


def macro(
    per_type: Dict[str, Dict[str, float]], keys: Iterable[str] = ("p", "r", "f")
) -> Dict[str, float]:
    """Unweighted mean over labels (0.0 when there are no labels)."""
    n = len(per_type)
    return {k: (sum(s[k] for s in per_type.values()) / n if n else 0.0) for k in keys}
