"""`python -m spacy_clinicalbert domain-pretrain`: continue masked-LM (+NSP) pretraining of
the encoder on clinical notes (domain-adaptive pretraining).

Not `pretrain`: `spacy pretrain` trains a tok2vec layer to predict word vectors, which is
another thing; `pretrain` stays as a hidden alias for scripts written before the rename.
"""
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer
from wasabi import msg

from . import app, hidden_alias

OBJECTIVE_HELP = (
    "Training objective: 'mlm' (masked language modelling, 15% of wordpieces) or 'mlm+nsp' "
    "(BERT's recipe: masked LM plus next-sentence prediction on sentence pairs, half of them real "
    "continuations and half random segments from another note; needs a BERT model)."
)


COMMAND_SETTINGS: Dict[str, Any] = {
    "context_settings": {"help_option_names": ["-h", "--help"]},
    "no_args_is_help": True,
}


@app.command("domain-pretrain", **COMMAND_SETTINGS)
def domain_pretrain_cli(
    inputs: List[Path] = typer.Argument(
        ...,
        help="Corpus: .txt files (one note per file, or per blank-line block with --txt-notes "
        "blank-line), .jsonl files (one object per line, text in --text-field), .csv files (text "
        "in the column --text-field, e.g. TEXT for MIMIC NOTEEVENTS, transcription for MTSamples), "
        "or folders searched recursively for these. Read as a stream: the corpus may exceed "
        "memory.",
        show_default=False,
    ),
    output_dir: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="Folder for the pretrained model (config, safetensors weights, tokenizer with "
        "model_max_length, pretraining.json record). Use it as [components.clinicalbert.model] "
        "name.",
        show_default=False,
    ),
    base_model: str = typer.Option(
        "emilyalsentzer/Bio_ClinicalBERT",
        "--base-model",
        "-m",
        help="Model to start from: a Hugging Face id, a local folder, or the alias "
        "'minilm-offline' (the packaged MiniLM encoder). Resolved offline-first like everywhere in "
        "this package.",
    ),
    text_field: str = typer.Option(
        "text",
        "--text-field",
        "-f",
        help="JSONL key or CSV column holding the note text (CSV columns also match "
        "case-insensitively).",
    ),
    txt_notes: str = typer.Option(
        "file",
        "--txt-notes",
        help="How .txt files hold notes: 'file' (one note per file) or 'blank-line' (notes "
        "separated by blank lines).",
    ),
    prepare_text: bool = typer.Option(
        True,
        "--prepare/--no-prepare",
        help="Apply the shared clinical text preparation (de-identification placeholders, line "
        "breaks, whitespace) before tokenizing.",
    ),
    dedupe: bool = typer.Option(
        True,
        "--dedupe/--no-dedupe",
        help="Skip notes whose text repeats an earlier note (up to whitespace); the count is "
        "reported.",
    ),
    max_notes: Optional[int] = typer.Option(
        None,
        "--max-notes",
        help="Use at most this many distinct notes (quick trials); 0 or unset: all.",
        show_default=False,
    ),
    eval_fraction: float = typer.Option(
        0.05,
        "--eval-fraction",
        help="Share of distinct notes held out for perplexity, chosen by a hash of the text "
        "(stable across runs; duplicates never straddle the split). 0 disables the evaluation.",
    ),
    max_eval_sequences: int = typer.Option(
        1000,
        "--max-eval-sequences",
        help="At most this many held-out sequences are scored.",
    ),
    objective: str = typer.Option("mlm", "--objective", help=OBJECTIVE_HELP),
    whole_word_mask: bool = typer.Option(
        False,
        "--whole-word-mask",
        help="Mask all wordpieces of a word together (WordPiece '##' vocabularies only).",
    ),
    mlm_probability: float = typer.Option(
        0.15,
        "--mlm-probability",
        help="Share of wordpieces masked (80% [MASK], 10% random, 10% kept).",
    ),
    random_next_probability: float = typer.Option(
        0.5,
        "--random-next-probability",
        help="mlm+nsp only: share of pairs whose second segment comes from another note.",
    ),
    max_length: int = typer.Option(
        128,
        "--max-length",
        help="Wordpieces per sequence, special tokens included (ClinicalBERT used 128).",
    ),
    max_steps: Optional[int] = typer.Option(
        None,
        "--max-steps",
        help="Optimizer steps to train for (total, counting steps done before --resume); overrides "
        "--epochs.",
        show_default=False,
    ),
    epochs: float = typer.Option(
        1.0, "--epochs", help="Passes over the training sequences, when --max-steps is not set."
    ),
    learning_rate: float = typer.Option(
        5e-5, "--learning-rate", "--lr", help="Peak learning rate (AdamW, linear decay)."
    ),
    warmup_ratio: float = typer.Option(
        0.06, "--warmup-ratio", help="Share of the steps spent warming up the learning rate."
    ),
    warmup_steps: int = typer.Option(
        0, "--warmup-steps", help="Warm-up in steps; when > 0 it replaces --warmup-ratio."
    ),
    weight_decay: float = typer.Option(0.01, "--weight-decay", help="AdamW weight decay."),
    batch_size: int = typer.Option(32, "--batch-size", "-b", help="Sequences per device per step."),
    grad_accum: int = typer.Option(
        1,
        "--grad-accum",
        help="Gradient accumulation: effective batch = batch size x this x number of GPUs.",
    ),
    seed: int = typer.Option(
        0, "--seed", help="Seed for masking, shuffling, sentence pairs and initialisation."
    ),
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="'auto' (bf16 where the GPU supports it, else fp16; fp32 on CPU), 'fp32', 'fp16' or "
        "'bf16' (the last two need a CUDA GPU).",
    ),
    save_steps: int = typer.Option(
        500, "--save-steps", help="Write a checkpoint every this many steps."
    ),
    save_total_limit: int = typer.Option(
        2, "--save-total-limit", help="Keep at most this many checkpoints."
    ),
    logging_steps: int = typer.Option(
        50, "--logging-steps", help="Log the training loss every this many steps."
    ),
    eval_steps: int = typer.Option(
        0,
        "--eval-steps",
        help="Also log the held-out loss every this many steps (0: only before and after).",
    ),
    eval_batch_size: int = typer.Option(
        64, "--eval-batch-size", help="Sequences per batch when evaluating."
    ),
    num_workers: int = typer.Option(
        0, "--num-workers", help="DataLoader worker processes (masking runs there)."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue from the last checkpoint in the work folder (same inputs and settings).",
    ),
    resume_from: Optional[Path] = typer.Option(
        None,
        "--resume-from",
        help="Continue from this checkpoint folder.",
        show_default=False,
    ),
    work_dir: Optional[Path] = typer.Option(
        None,
        "--work-dir",
        help="Folder for checkpoints and the tokenized corpus cache [default: <output>/work].",
        show_default=False,
    ),
    metrics_json: Optional[Path] = typer.Option(
        None,
        "--metrics-json",
        help="Also write the evaluation (perplexity before/after, vocabulary fit) here.",
        show_default=False,
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    verbose: bool = typer.Option(
        False, "--verbose", "-V", help="Log details (newly initialised weights, timings)."
    ),
):
    """Continue pretraining an encoder on clinical notes with the Hugging Face Trainer.

    Masked-LM (optionally whole-word) or masked-LM plus next-sentence prediction, as
    ClinicalBERT was built. Notes are prepared, de-duplicated, split into a training and a
    held-out part, cut into sentences and packed into sequences of --max-length wordpieces.
    The held-out masked-LM perplexity is measured before and after training and the base
    tokenizer's fit to the corpus ([UNK] share, wordpieces per word) is reported. The result
    is a Hugging Face folder for the clinicalbert component. Several GPUs: launch with
    `torchrun --nproc_per_node N -m spacy_clinicalbert domain-pretrain ...` or `accelerate launch`.
    (Not spaCy's `spacy pretrain`, which pretrains a tok2vec layer on word vectors.)
    """
    import logging

    from ..pretraining import CorpusError, PretrainingSettings, SettingsError, run_pretraining
    from ..transformer.model_resolution import BaseModelUnavailable

    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("spacy_clinicalbert").setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        settings = PretrainingSettings(
            inputs=inputs,
            output_dir=output_dir,
            base_model=base_model,
            text_field=text_field,
            txt_mode=txt_notes,
            prepare_text=prepare_text,
            dedupe=dedupe,
            max_notes=max_notes or None,
            eval_fraction=eval_fraction,
            max_eval_sequences=max_eval_sequences,
            objective=objective,
            whole_word_mask=whole_word_mask,
            mlm_probability=mlm_probability,
            random_next_probability=random_next_probability,
            max_length=max_length,
            max_steps=max_steps,
            epochs=epochs,
            learning_rate=learning_rate,
            warmup_ratio=warmup_ratio,
            warmup_steps=warmup_steps,
            weight_decay=weight_decay,
            batch_size=batch_size,
            grad_accum=grad_accum,
            seed=seed,
            precision=precision,
            save_steps=save_steps,
            save_total_limit=save_total_limit,
            logging_steps=logging_steps,
            eval_steps=eval_steps,
            eval_batch_size=eval_batch_size,
            num_workers=num_workers,
            resume=resume,
            resume_from=resume_from,
            work_dir=work_dir,
            progress=progress,
            metrics_json=metrics_json,
        )
        record = run_pretraining(settings)
    except (CorpusError, SettingsError, BaseModelUnavailable) as err:
        msg.fail(str(err), exits=1)
    if not record:  # not the main process of a multi-GPU run
        return
    print_summary(record, output_dir)


hidden_alias("pretrain", "domain-pretrain", domain_pretrain_cli, **COMMAND_SETTINGS)


def print_summary(record: dict, output_dir: Path) -> None:
    notes = record["corpus"]["notes"]
    training = record["training"]
    evaluation = record["evaluation"]
    fit = evaluation.get("vocabulary_fit") or {}
    msg.divider("Pretraining")
    rows = [
        ("notes read", notes["notes_read"]),
        ("duplicates skipped", notes["duplicates_skipped"]),
        (
            "empty skipped",
            notes["empty_records_skipped"] + notes["empty_after_preparation_skipped"],
        ),
        ("train notes / held out", f"{notes['train_notes']} / {notes['eval_notes']}"),
        ("train sequences", record["corpus"]["train_sequences"]),
        ("steps", f"{training['start_step']} -> {training['global_step']}"),
        ("train loss", training["train_loss"]),
        ("train seconds", training["train_seconds"]),
        ("[UNK] share", fit.get("unk_share")),
        ("wordpieces per word", fit.get("wordpieces_per_word")),
    ]
    before, after = (
        evaluation.get("held_out_perplexity_before"),
        evaluation.get("held_out_perplexity_after"),
    )
    if before and after:
        rows.append(("held-out perplexity", f"{before['perplexity']} -> {after['perplexity']}"))
        if "nsp_accuracy" in after:
            rows.append(
                (
                    "next-sentence accuracy",
                    f"{before.get('nsp_accuracy')} -> {after['nsp_accuracy']}",
                )
            )
    msg.table(rows)
    msg.good(f"Saved the model to {output_dir}", f"Record: {output_dir / 'pretraining.json'}")
