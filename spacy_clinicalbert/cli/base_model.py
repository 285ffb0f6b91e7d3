"""Resolve the workflow's base model once, loudly falling back only when allowed."""
import json
from pathlib import Path

import typer
from wasabi import msg

from . import app


@app.command("base-model")
def base_model_cli(
    name: str = typer.Argument(
        ...,
        help="Base model: hub id (emilyalsentzer/Bio_ClinicalBERT), local folder, or alias "
        "(clinicalbert, minilm-offline).",
    ),
    link: Path = typer.Argument(
        ...,
        help="Path of a symlink to create to the resolved model folder (e.g. models/base); later "
        "steps use this stable path.",
    ),
    on_missing: str = typer.Option(
        "stop",
        "--on-missing",
        help="When the base model cannot be had (offline, not cached): 'stop' with a message that "
        "says how to continue, or 'fallback' to the packaged MiniLM encoder, loudly warned about "
        "and recorded in meta.json.",
    ),
    timeout: float = typer.Option(
        3.0, "--timeout", help="Seconds to wait for the hub before calling it unreachable."
    ),
):
    """Find the base model (local folder, HF cache, hub) and record which one is used.

    Writes LINK (a symlink to the model folder) and LINK.json with the model asked
    for, the model used and whether the packaged encoder stood in for it.
    """
    from ..transformer.model_resolution import (
        OFFLINE_ALIAS,
        BaseModelUnavailable,
        resolve_base_model,
    )

    if on_missing not in ("stop", "fallback"):
        msg.fail(f"--on-missing must be 'stop' or 'fallback', got '{on_missing}'", exits=1)
    record = {"requested": name, "fallback": False}
    try:
        path = resolve_base_model(name, timeout=timeout)
        record["used"] = name
    except BaseModelUnavailable as err:
        if on_missing == "stop":
            msg.fail("Base model unavailable")
            # Printed as is: wasabi would re-wrap the list of places searched into one line.
            print(str(err), flush=True)
            msg.text("In the spaCy project: set a folder with --vars.base_model /path/to/model, or "
                     "allow the packaged encoder with --vars.on_missing_base_model fallback")
            raise typer.Exit(1) from None
        msg.divider("WARNING: FALLING BACK TO THE PACKAGED OFFLINE ENCODER")
        msg.warn(f"'{name}' is not available; using '{OFFLINE_ALIAS}' (all-MiniLM-L6-v2) instead.",
                 str(err).splitlines()[0])
        msg.warn("The resulting pipeline is NOT ClinicalBERT. meta.json will record this.")
        path = resolve_base_model(OFFLINE_ALIAS)
        record.update(used=OFFLINE_ALIAS, fallback=True, reason=str(err).splitlines()[0])
    record["path"] = str(Path(path).absolute())
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path(path).absolute(), target_is_directory=True)
    link.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf8")
    msg.good(f"Base model: {record['used']}", f"{link} -> {record['path']}")
