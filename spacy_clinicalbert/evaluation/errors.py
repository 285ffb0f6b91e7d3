"""The one error type of the evaluation: the CLI turns it into a clear message."""


class EvaluationError(ValueError):
    """A missing or unreadable model or data file, or data the pipeline cannot be scored on."""
