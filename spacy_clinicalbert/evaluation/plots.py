"""PNG plots for the report, drawn on matplotlib's Agg canvas directly (no pyplot
state, no display needed, no global backend switch)."""
from pathlib import Path
from typing import Dict, List, Sequence

import numpy


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _annotate(ax, matrix: numpy.ndarray) -> None:
    high = matrix.max() if matrix.size else 0
    for (i, j), value in numpy.ndenumerate(matrix):
        ax.text(j, i, str(int(value)), ha="center", va="center",
                color="white" if high and value > high / 2 else "black", fontsize=9)


def confusion_png(
    matrix: Sequence[Sequence[int]], labels: List[str], path: Path, title: str
) -> Path:
    """Gold rows against predicted columns, with counts in the cells."""
    counts = numpy.asarray(matrix)
    size = max(4.0, 0.6 * len(labels) + 2.5)
    fig = _figure(size, size)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(counts, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(len(labels)), labels=labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    _annotate(ax, counts)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def multilabel_confusion_png(
    per_label: Dict[str, Sequence[Sequence[int]]], path: Path, title: str
) -> Path:
    """One 2x2 matrix (rows gold no/yes, columns predicted no/yes) per label, in a grid."""
    labels = list(per_label)
    cols = min(4, max(1, len(labels)))
    rows = (len(labels) + cols - 1) // cols
    fig = _figure(3.0 * cols, 3.0 * rows + 0.6)
    for k, label in enumerate(labels):
        ax = fig.add_subplot(rows, cols, k + 1)
        matrix = numpy.asarray(per_label[label])
        ax.imshow(matrix, cmap="Blues", vmin=0)
        ax.set_xticks([0, 1], labels=["no", "yes"])
        ax.set_yticks([0, 1], labels=["no", "yes"])
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(label, fontsize=10)
        _annotate(ax, matrix)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def f1_bars_png(per_type: Dict[str, Dict], path: Path, title: str) -> Path:
    """Horizontal bars of per-label F1, labelled with the gold support."""
    labels = sorted(per_type)
    values = [per_type[lab]["f"] for lab in labels]
    fig = _figure(6.5, max(2.0, 0.4 * len(labels) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.barh(range(len(labels)), values, color="#4c72b0")
    names = [f"{lab} (n={per_type[lab].get('support', '?')})" for lab in labels]
    ax.set_yticks(range(len(labels)), labels=names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(title)
    for i, value in enumerate(values):
        ax.text(min(value + 0.01, 0.93), i, f"{value:.2f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
