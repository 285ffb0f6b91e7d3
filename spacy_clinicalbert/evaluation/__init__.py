"""Evaluation of a trained pipeline on a gold DocBin: entities, relations, categories,
ConText attributes and speed, written as metrics.json, report.md and PNG plots.

Importing this package is cheap; scikit-learn and matplotlib load only when the
category scores and plots are computed.
"""
from .errors import EvaluationError
from .run import evaluate_pipeline

__all__ = ["EvaluationError", "evaluate_pipeline"]
