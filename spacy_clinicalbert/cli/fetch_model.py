"""Copy a base model into a local folder, for machines without the hub."""
from pathlib import Path

import typer
from wasabi import msg

from . import app


@app.command("fetch-model")
def fetch_model_cli(
    name: str = typer.Argument(
        ..., help="Hugging Face id (emilyalsentzer/Bio_ClinicalBERT), alias or folder."
    ),
    output_dir: Path = typer.Argument(
        ..., help="Folder to write the model to (config, tokenizer, weights)."
    ),
    max_length: int = typer.Option(
        512, "--max-length", help="model_max_length written into the tokenizer files."
    ),
):
    """Save a base model as a self-contained folder, with model_max_length set.

    Run it on a machine that can reach the hub, then copy the folder to the offline
    machine and use its path as the model name.
    """
    from transformers import AutoModel, AutoTokenizer

    from ..transformer.model_resolution import BaseModelUnavailable, resolve_base_model

    try:
        source = resolve_base_model(name)
    except BaseModelUnavailable as err:
        msg.fail(str(err), exits=1)
    tokenizer = AutoTokenizer.from_pretrained(source, model_max_length=max_length)
    model = AutoModel.from_pretrained(source)
    output_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(output_dir)
    model.save_pretrained(output_dir)
    msg.good(f"Saved {name} to {output_dir}", f"Use it with name = \"{output_dir.absolute()}\"")
