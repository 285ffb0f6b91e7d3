"""Every knob of a pretraining run in one dataclass: the CLI fills it, tests build it."""
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

OBJECTIVES = ("mlm", "mlm+nsp")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")


class SettingsError(ValueError):
    """A pretraining setting is invalid; the message says which and why."""


@dataclass
class PretrainingSettings:
    inputs: List[Path]
    output_dir: Path
    base_model: str = "emilyalsentzer/Bio_ClinicalBERT"
    # input
    text_field: str = "text"
    txt_mode: str = "file"
    prepare_text: bool = True
    dedupe: bool = True
    max_notes: Optional[int] = None
    eval_fraction: float = 0.05
    max_eval_sequences: int = 1000
    # objective
    objective: str = "mlm"
    whole_word_mask: bool = False
    mlm_probability: float = 0.15
    random_next_probability: float = 0.5
    max_length: int = 128
    # training
    max_steps: Optional[int] = None
    epochs: float = 1.0
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.06
    warmup_steps: int = 0
    weight_decay: float = 0.01
    batch_size: int = 32
    grad_accum: int = 1
    seed: int = 0
    precision: str = "auto"
    save_steps: int = 500
    save_total_limit: int = 2
    logging_steps: int = 50
    eval_steps: int = 0
    eval_batch_size: int = 64
    num_workers: int = 0
    resume: bool = False
    resume_from: Optional[Path] = None
    work_dir: Optional[Path] = None
    progress: bool = True
    evaluate: bool = True
    metrics_json: Optional[Path] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.inputs = [Path(p) for p in self.inputs]
        self.output_dir = Path(self.output_dir)
        if self.work_dir is not None:
            self.work_dir = Path(self.work_dir)
        if self.resume_from is not None:
            self.resume_from = Path(self.resume_from)
        self.validate()

    @property
    def workspace(self) -> Path:
        """Checkpoints and the tokenized corpus live here (not in the model folder)."""
        return self.work_dir if self.work_dir is not None else self.output_dir / "work"

    def validate(self) -> None:
        def bad(name: str, why: str) -> None:
            raise SettingsError(f"Invalid {name}: {why}.")

        if self.objective not in OBJECTIVES:
            bad("objective", f"'{self.objective}', use one of {', '.join(OBJECTIVES)}")
        if self.precision not in PRECISIONS:
            bad("precision", f"'{self.precision}', use one of {', '.join(PRECISIONS)}")
        if not 0.0 < self.mlm_probability < 1.0:
            bad("mlm_probability", f"{self.mlm_probability} is not between 0 and 1")
        if not 0.0 <= self.random_next_probability <= 1.0:
            bad("random_next_probability", f"{self.random_next_probability} is not in [0, 1]")
        if not 0.0 <= self.eval_fraction < 1.0:
            bad("eval_fraction", f"{self.eval_fraction} is not in [0, 1)")
        if self.max_length < (5 if self.objective == "mlm+nsp" else 3):
            bad("max_length", f"{self.max_length} is too short")
        if self.max_steps is not None and self.max_steps < 1:
            bad("max_steps", f"{self.max_steps} must be positive")
        if self.max_steps is None and self.epochs <= 0:
            bad("epochs", f"{self.epochs} must be positive")
        for name in ("batch_size", "grad_accum", "eval_batch_size", "save_steps", "logging_steps"):
            if getattr(self, name) < 1:
                bad(name, f"{getattr(self, name)} must be at least 1")
        if self.max_notes is not None and self.max_notes < 1:
            bad("max_notes", f"{self.max_notes} must be positive")
        if self.resume and self.resume_from is not None:
            bad("resume", "give either --resume or --resume-from, not both")

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        for key, value in list(data.items()):
            if isinstance(value, Path):
                data[key] = str(value)
            elif isinstance(value, list):
                data[key] = [str(v) if isinstance(v, Path) else v for v in value]
        return data
