"""`python -m spacy_clinicalbert init-config CORPUS_DIR OUTPUT.cfg`: a training config that
follows the corpus."""

from pathlib import Path

import typer
from wasabi import msg

from . import app


@app.command("init-config")
def init_config_cli(
    corpus_dir: Path = typer.Argument(
        ...,
        help="A `convert-corpus` output folder: train.spacy, dev.spacy, test.spacy and stats.json.",
    ),
    output: Path = typer.Argument(
        ..., help="Where to write the training config (.cfg); '-' prints it."
    ),
    hardware: str = typer.Option(
        "cpu",
        "--hardware",
        "-H",
        help="cpu (fp32, batches by words) or gpu (mixed precision, padded batches, longer "
        "schedule); set --gpu-id in spacy train too.",
    ),
    base_model: str = typer.Option(
        "models/pretrained",
        "--base-model",
        "-m",
        help="paths.base_model in the config: a Hugging Face id, a local folder or an alias "
        "(clinicalbert, minilm-offline); spacy train can override it with --paths.base_model.",
    ),
    encoder: str = typer.Option(
        "auto",
        "--encoder",
        "-e",
        help="auto (default: frozen on a CPU when document categories are all the corpus "
        "annotates, fine-tuned otherwise), fine-tune (the encoder trains with the heads) or frozen "
        "(only the heads train, on forward-only encoder features, at a higher learning rate).",
    ),
    check: bool = typer.Option(
        True,
        "--check/--no-check",
        help="Run the corpus checks of check-data against the written config and print their "
        "warnings; errors stop (exit 1).",
    ),
):
    """Write a spaCy training config with exactly the components CORPUS_DIR has gold data for.

    ner (or clinical_spancat where entities overlap) when the training split annotates
    entities, clinical_relations when it holds relations, textcat (exclusive) or
    textcat_multilabel as the categories are; score weights over the tasks present; the
    encoder fine-tuned, or frozen where that trains better on this hardware (--encoder).
    """
    from ..corpus import CorpusError
    from ..training import init_config, profile_corpus

    try:
        profile = profile_corpus(corpus_dir)
        text = init_config(
            corpus_dir,
            None if str(output) == "-" else output,
            hardware=hardware,
            base_model=base_model,
            encoder=encoder,
        )
    except (CorpusError, ValueError) as err:
        msg.fail("Cannot write a training config", str(err), exits=1)
    if str(output) == "-":
        print(text)
        return
    from thinc.api import Config

    config = Config().from_str(text, interpolate=False)
    pipeline = config["nlp"]["pipeline"]
    frozen = config["training"]["frozen_components"]
    encoder_line = f"\nencoder: frozen ({', '.join(frozen)})" if frozen else "\nencoder: fine-tuned"
    msg.good(
        f"Wrote {output}", f"{profile.summary()}\npipeline: {' -> '.join(pipeline)}{encoder_line}"
    )
    if check:
        _run_checks(corpus_dir, output)


def _run_checks(corpus_dir: Path, config_path: Path) -> None:
    """The check-data checks against the new config: warnings printed, errors exit 1."""
    from ..corpus.checks import check_corpus

    result = check_corpus(corpus_dir, config_path)
    for warning in result.warnings:
        msg.warn(warning)
    for error in result.errors:
        msg.fail(error)
    if result.errors:
        raise typer.Exit(1)
