"""Run domain pretraining end to end with the Hugging Face Trainer.

base model (resolved offline-first) → tokenized corpus (cached) → held-out perplexity
of the base model → Trainer (checkpoints, resume, fp16/bf16, torchrun/accelerate) →
a Hugging Face folder with the weights, the tokenizer (model_max_length set) and a
`pretraining.json` record of what it was trained from, on, and how it scored.
"""
import datetime
import hashlib
import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any, Dict, Optional

from .corpus import CorpusInfo, files_record, load_or_build_corpus
from .models import STOCK_NAMES, load_for_evaluation, load_model, restore_stock_architecture
from .settings import PretrainingSettings, SettingsError

logger = logging.getLogger("spacy_clinicalbert.pretraining")

RECORD_NAME = "pretraining.json"


def load_tokenizer(source: str, settings: PretrainingSettings):
    """The base tokenizer with model_max_length set to what the model can take."""
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(source)
    tokenizer = AutoTokenizer.from_pretrained(source, use_fast=True)
    if not getattr(tokenizer, "is_fast", False):
        raise SettingsError(
            f"Base model {source}: a fast (Rust) tokenizer is needed for pretraining."
        )
    limit = getattr(config, "max_position_embeddings", 512) or 512
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        limit -= 2  # position ids start after the padding index
    if not tokenizer.model_max_length or tokenizer.model_max_length > limit:
        tokenizer.model_max_length = limit  # Bio_ClinicalBERT ships without it
    if settings.max_length > limit:
        raise SettingsError(
            f"max_length {settings.max_length} exceeds what {source} can take ({limit} positions)."
        )
    if settings.whole_word_mask and not any(t.startswith("##") for t in tokenizer.get_vocab()):
        raise SettingsError(
            f"Whole-word masking needs a WordPiece ('##') vocabulary; {source} has none. "
            "Drop --whole-word-mask."
        )
    return tokenizer


def _precision(requested: str) -> str:
    import torch

    cuda = torch.cuda.is_available()
    if requested == "auto":
        if not cuda:
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if requested in ("fp16", "bf16") and not cuda:
        raise SettingsError(
            f"--precision {requested} needs a CUDA GPU and none is visible; use fp32."
        )
    return requested


def training_arguments(settings: PretrainingSettings, precision: str, has_eval: bool):
    import torch
    from transformers import TrainingArguments

    cuda = torch.cuda.is_available()
    eval_steps = settings.eval_steps if (settings.eval_steps and has_eval) else None
    return TrainingArguments(
        output_dir=str(settings.workspace / "checkpoints"),
        max_steps=settings.max_steps if settings.max_steps else -1,
        num_train_epochs=settings.epochs,
        learning_rate=settings.learning_rate,
        warmup_ratio=settings.warmup_ratio if not settings.warmup_steps else 0.0,
        warmup_steps=settings.warmup_steps,
        weight_decay=settings.weight_decay,
        lr_scheduler_type="linear",
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.eval_batch_size,
        gradient_accumulation_steps=settings.grad_accum,
        seed=settings.seed,
        data_seed=settings.seed,
        fp16=precision == "fp16",
        bf16=precision == "bf16",
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=settings.save_total_limit,
        save_safetensors=True,
        logging_strategy="steps",
        logging_steps=settings.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if eval_steps else "no",
        eval_steps=eval_steps,
        prediction_loss_only=True,  # the sparse heads return logits of masked positions only
        report_to=[],
        disable_tqdm=not settings.progress,
        dataloader_num_workers=settings.num_workers,
        dataloader_pin_memory=cuda,
        use_cpu=not cuda,
        remove_unused_columns=False,
    )


def _resume_checkpoint(settings: PretrainingSettings, checkpoint_dir: Path) -> Optional[str]:
    from transformers.trainer_utils import get_last_checkpoint

    if settings.resume_from is not None:
        if not (settings.resume_from / "trainer_state.json").exists():
            raise SettingsError(
                f"--resume-from {settings.resume_from}: not a Trainer checkpoint (no "
                "trainer_state.json)."
            )
        return str(settings.resume_from)
    last = get_last_checkpoint(str(checkpoint_dir)) if checkpoint_dir.is_dir() else None
    if settings.resume:
        if last is None:
            raise SettingsError(f"--resume: no checkpoint found in {checkpoint_dir}.")
        return last
    if last is not None:
        logger.warning(
            "Checkpoints of an earlier run are in %s; this run starts from the base model and will "
            "write over them. Pass --resume to continue that run instead.", checkpoint_dir,
        )
    return None


def _check_resumed_corpus(
    checkpoint_dir: Path, corpus: CorpusInfo, checkpoint: Optional[str], main: bool
) -> None:
    """Remember which tokenized corpus the checkpoints were trained on; warn when a resume
    differs."""
    marker = checkpoint_dir / "corpus.txt"
    if checkpoint is not None and marker.exists():
        previous = marker.read_text(encoding="utf8").strip()
        if previous != corpus.folder.name:
            logger.warning(
                "Resuming from %s, which was trained on corpus %s; this run's inputs or settings "
                "give corpus %s. Training continues on the new corpus.",
                checkpoint,
                previous,
                corpus.folder.name,
            )
    if main:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(corpus.folder.name + "\n", encoding="utf8")


def _checkpoint_step(checkpoint: Optional[str]) -> int:
    if checkpoint is None:
        return 0
    state = json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf8"))
    return int(state.get("global_step", 0))


def _evaluate(
    model, corpus: CorpusInfo, tokenizer, settings: PretrainingSettings
) -> Dict[str, Any]:
    from .evaluation import masked_lm_perplexity, next_sentence_accuracy

    result = masked_lm_perplexity(
        model, corpus.dataset("eval"), tokenizer,
        batch_size=settings.eval_batch_size, mlm_probability=settings.mlm_probability,
    )
    if (
        settings.objective == "mlm+nsp"
        and corpus.has("eval_nsp")
        and len(corpus.dataset("eval_nsp"))
    ):
        result.update(
            next_sentence_accuracy(
                model, corpus.dataset("eval_nsp"), tokenizer, batch_size=settings.eval_batch_size
            )
        )
    return result


def _baseline(model, corpus: CorpusInfo, tokenizer, settings, base_id: str) -> Dict[str, Any]:
    """Perplexity of the base model, computed once per corpus and base model (kept for --resume)."""
    key = hashlib.sha256(
        f"{base_id}|{settings.objective}|{settings.mlm_probability}".encode()
    ).hexdigest()[:12]
    path = corpus.folder / f"baseline_{key}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf8"))
    result = _evaluate(model, corpus, tokenizer, settings)
    path.write_text(json.dumps(result, indent=2), encoding="utf8")
    return result


def _versions() -> Dict[str, str]:
    import platform

    import spacy
    import torch
    import transformers

    from ..about import __version__

    return {
        "spacy_clinicalbert": __version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "spacy": spacy.__version__,
        "python": platform.python_version(),
    }


def _file_sha256(path: Path) -> Optional[str]:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def run_pretraining(settings: PretrainingSettings) -> Dict[str, Any]:
    """Pretrain and save; returns the record also written to `<output_dir>/pretraining.json`."""
    import torch
    from transformers import set_seed
    from transformers.trainer import Trainer  # the package root types it as a dummy

    from ..transformer.model_resolution import resolve_base_model
    from .collator import PretrainingCollator

    started = time.time()
    source = resolve_base_model(settings.base_model)
    precision = _precision(settings.precision)
    set_seed(settings.seed)
    tokenizer = load_tokenizer(source, settings)
    # Arguments first: under torchrun they set up the process group that the
    # main-process-first barriers below rely on.
    args = training_arguments(settings, precision, has_eval=settings.eval_fraction > 0)
    checkpoint = _resume_checkpoint(settings, Path(args.output_dir))
    with args.main_process_first(local=False, desc="tokenizing the corpus"):
        corpus, reused = load_or_build_corpus(settings, tokenizer)
    _check_resumed_corpus(Path(args.output_dir), corpus, checkpoint, args.process_index == 0)
    train_set = corpus.dataset("train")
    has_eval = corpus.has("eval") and len(corpus.dataset("eval")) > 0
    if not has_eval:
        logger.warning(
            "No held-out sequences (eval fraction %s of %s notes): perplexity is not measured. "
            "Raise --eval-fraction.", settings.eval_fraction, corpus.stats["notes"]["train_notes"],
        )
    model, new_weights = load_model(source, settings.objective)
    if type(model).__name__ in STOCK_NAMES:
        # every weight of these heads takes part in the loss
        args.ddp_find_unused_parameters = False
    if new_weights:
        logger.info(
            "Newly initialised weights (absent from the base model): %s", ", ".join(new_weights)
        )
    before = None
    if settings.evaluate and has_eval:
        with args.main_process_first(local=False, desc="baseline perplexity"):
            if args.process_index == 0:
                model.to(args.device)  # the Trainer would move it there anyway
                before = _baseline(model, corpus, tokenizer, settings, source)
                logger.info("Held-out perplexity before: %s", before["perplexity"])
    eval_name = "eval_nsp" if settings.objective == "mlm+nsp" else "eval"
    eval_set = (
        corpus.dataset(eval_name)
        if (settings.eval_steps and has_eval and corpus.has(eval_name))
        else None
    )
    if eval_set is None:
        from transformers.trainer_utils import IntervalStrategy

        args.eval_strategy = IntervalStrategy.NO  # nothing held out after all
    collator = PretrainingCollator(
        tokenizer,
        mlm_probability=settings.mlm_probability,
        whole_word_mask=settings.whole_word_mask,
        pad_to_multiple_of=8 if precision in ("fp16", "bf16") else None,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=collator,
        processing_class=tokenizer,
    )
    train_start = time.time()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.cuda.amp.*")
        output = trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.time() - train_start
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    trainer.save_model(str(settings.output_dir))
    if not trainer.is_world_process_zero():
        return {}
    restore_stock_architecture(settings.output_dir)
    after = None
    if settings.evaluate and has_eval:
        # Score the saved folder, not the in-memory model: this also proves the save.
        saved = load_for_evaluation(str(settings.output_dir), settings.objective)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        after = _evaluate(saved.to(device), corpus, tokenizer, settings)
        logger.info("Held-out perplexity after: %s", after["perplexity"])
    history = trainer.state.log_history
    train_losses = [[h["step"], round(h["loss"], 4)] for h in history if "loss" in h]
    eval_losses = [[h["step"], round(h["eval_loss"], 4)] for h in history if "eval_loss" in h]
    record: Dict[str, Any] = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "base_model": {
            "name": settings.base_model,
            "resolved_path": source,
            "config_sha256": _file_sha256(Path(source) / "config.json"),
            "model_class": STOCK_NAMES.get(type(model).__name__, type(model).__name__),
            "training_class": type(model).__name__,
            "newly_initialised_weights": new_weights,
        },
        "corpus": {
            "files": files_record(settings.inputs),
            "text_field": settings.text_field,
            "txt_mode": settings.txt_mode,
            "cache": str(corpus.folder),
            "cache_reused": reused,
            **corpus.stats,
        },
        "objective": {
            "name": settings.objective,
            "whole_word_mask": settings.whole_word_mask,
            "mlm_probability": settings.mlm_probability,
            "random_next_probability": (
                settings.random_next_probability if settings.objective == "mlm+nsp" else None
            ),
            "max_length": settings.max_length,
        },
        "training": {
            "precision": precision,
            "world_size": args.world_size,
            "effective_batch_size": settings.batch_size * settings.grad_accum * args.world_size,
            "resumed_from": checkpoint,
            "start_step": _checkpoint_step(checkpoint),
            "global_step": trainer.state.global_step,
            "epochs_done": round(trainer.state.epoch or 0.0, 4),
            "train_loss": round(output.training_loss, 5),
            "train_seconds": round(train_seconds, 1),
            "loss_curve": train_losses,
            "eval_loss_curve": eval_losses,
            "settings": settings.to_dict(),
        },
        "evaluation": {
            "held_out_perplexity_before": before,
            "held_out_perplexity_after": after,
            "method": (
                "masked-LM perplexity on held-out notes (hash split of the de-duplicated prepared "
                f"text); {settings.mlm_probability:.0%} of wordpieces replaced by the mask token "
                "with a fixed seed, identical before and after"
            ),
            "vocabulary_fit": corpus.stats.get("vocabulary_fit"),
        },
        "versions": _versions(),
        "total_seconds": round(time.time() - started, 1),
    }
    (settings.output_dir / RECORD_NAME).write_text(json.dumps(record, indent=2), encoding="utf8")
    (settings.output_dir / "README.md").write_text(model_card(record), encoding="utf8")
    if settings.metrics_json is not None:
        Path(settings.metrics_json).parent.mkdir(parents=True, exist_ok=True)
        Path(settings.metrics_json).write_text(
            json.dumps(record["evaluation"], indent=2), encoding="utf8"
        )
    return record


def model_card(record: Dict[str, Any]) -> str:
    """A short human-readable summary of `pretraining.json` for the model folder."""
    corpus, training, ev = record["corpus"], record["training"], record["evaluation"]
    notes = corpus["notes"]
    before, after = ev["held_out_perplexity_before"], ev["held_out_perplexity_after"]
    fit = ev.get("vocabulary_fit") or {}
    files = ", ".join(
        f"`{Path(f['path']).name}` (sha256 {f['sha256'][:12]}…)" for f in corpus["files"]
    )
    lines = [
        "# Domain-pretrained encoder (spacy-clinicalbert)",
        "",
        f"- Base model: `{record['base_model']['name']}` ({record['base_model']['model_class']})",
        f"- Corpus: {files}; {notes['train_notes']} training notes, "
        f"{notes['eval_notes']} held out, {notes['duplicates_skipped']} duplicates and "
        f"{notes['empty_records_skipped'] + notes['empty_after_preparation_skipped']} "
        "empty records skipped",
        f"- Objective: {record['objective']['name']}"
        + (" (whole-word masking)" if record["objective"]["whole_word_mask"] else "")
        + f", sequences of {record['objective']['max_length']} wordpieces",
        f"- Training: steps {training['start_step']} → {training['global_step']}, effective batch "
        f"{training['effective_batch_size']}, {training['precision']}, "
        f"{training['train_seconds']} s",
    ]
    if before and after:
        lines.append(
            f"- Held-out masked-LM perplexity: {before['perplexity']} → {after['perplexity']}"
        )
    if fit:
        lines.append(
            f"- Base vocabulary on this corpus: {fit['unk_share']:.4%} [UNK] wordpieces, "
            f"{fit['wordpieces_per_word']} wordpieces per word"
        )
    lines += [
        "",
        "Use it in spaCy with `[components.clinicalbert.model] name = \"<this folder>\"`.",
        f"Everything above, and more, is in `{RECORD_NAME}`.",
        "",
    ]
    return "\n".join(lines)
