"""Domain pretraining of the encoder on clinical notes (masked LM, optionally with
next-sentence prediction) with the Hugging Face Trainer.

Importing this package is cheap; torch and transformers load when a run starts.
"""
from .readers import CorpusError, RawNote, ReadStats, expand_inputs, iter_notes
from .settings import OBJECTIVES, PretrainingSettings, SettingsError


def run_pretraining(settings: PretrainingSettings):
    """Pretrain and save the model folder; see `train.run_pretraining`."""
    from .train import run_pretraining as run

    return run(settings)


__all__ = [
    "CorpusError",
    "OBJECTIVES",
    "PretrainingSettings",
    "RawNote",
    "ReadStats",
    "SettingsError",
    "expand_inputs",
    "iter_notes",
    "run_pretraining",
]
