"""Package a trained pipeline as a pip wheel, and smoke-test the wheel offline."""
import json
import tempfile
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from . import app


@app.command("package")
def package_cli(
    model_dir: Path = typer.Argument(
        ...,
        help="Trained pipeline folder (e.g. training/model-best).",
        exists=True,
        file_okay=False,
    ),
    output_dir: Path = typer.Argument(..., help="Folder for the package; created if missing."),
    name: str = typer.Option(
        "en_clinicalbert", "--name", help="Package name, language prefix included."
    ),
    version: str = typer.Option("0.1.0", "--version", help="Package version."),
    base_info: Optional[Path] = typer.Option(
        None, "--base-info", help="JSON written by `base-model` (which base model was used)."
    ),
    corpus_stats: Optional[Path] = typer.Option(
        None,
        "--corpus-stats",
        help="stats.json written by `convert-corpus` (the data the model saw).",
    ),
    pretrain_info: Optional[Path] = typer.Option(
        None,
        "--pretrain-info",
        help="JSON record written by `domain-pretrain` (pretraining.json in its output folder), if "
        "the encoder was domain-pretrained.",
    ),
    deid_info: Optional[Path] = typer.Option(
        None,
        "--deid-info",
        help="deid.json written by the workflow's `deid prepare` step (whether the pretraining "
        "notes were de-identified); a path that does not exist is recorded as 'no deid step ran'.",
    ),
):
    """Build a wheel with `spacy package`, recording provenance in meta.json.

    The wheel requires spacy-clinicalbert, whose entry points let spacy.load find
    every component, so no --code is needed and nothing is downloaded at load.
    """
    from spacy.cli.package import package

    from ..packaging.meta import build_meta

    meta = build_meta(model_dir, name=name, version=version, base_info=base_info,
                      corpus_stats=corpus_stats, pretrain_info=pretrain_info, deid_info=deid_info)
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        meta_path = Path(tmp) / "meta.json"
        meta_path.write_text(json.dumps(meta, indent=2), encoding="utf8")
        package(model_dir, output_dir, meta_path=meta_path, create_sdist=False,
                create_wheel=True, force=True, silent=False)
    used = meta["clinicalbert"]["base_model_used"]
    msg.good(f"Packaged {meta['lang']}_{meta['name']}-{version}", f"base model: {used}")


@app.command("smoke-test")
def smoke_test_cli(
    packages_dir: Path = typer.Argument(
        ...,
        help="Folder holding the built wheel (searched recursively).",
        exists=True,
        file_okay=False,
    ),
    name: str = typer.Option("en_clinicalbert", "--name", help="Package name to install and load."),
    text: Optional[str] = typer.Option(
        None, "--text", help="Note to annotate (default: a short synthetic note)."
    ),
    install: bool = typer.Option(
        True,
        "--install/--no-install",
        help="pip install the newest wheel first (no index, no dependencies).",
    ),
):
    """Install the wheel and run spacy.load(NAME) on a note in a fresh, offline process."""
    from ..packaging.smoke import NOTE, annotate_offline, find_wheel, install_wheel

    if install:
        wheel = find_wheel(packages_dir, name)
        msg.info(f"Installing {wheel.name}")
        install_wheel(wheel)
    try:
        result = annotate_offline(name, text or NOTE)
    except RuntimeError as err:
        msg.fail(str(err), exits=1)
    msg.good(f"spacy.load('{name}') works offline", f"pipeline: {', '.join(result['pipeline'])}")
    info = result["meta"].get("clinicalbert") or {}
    msg.text(f"base model used: {info.get('base_model_used')}")
    entity_rows = [
        (text, label, f"{start}-{end}", ", ".join(flags) or "-")
        for text, label, start, end, flags in result["entities"]
    ]
    msg.table(entity_rows, header=("entity", "label", "chars", "assertions"), divider=True)
    msg.table([tuple(r) for r in result["relations"]] or [("-", "-", "-", "-")],
              header=("head", "relation", "tail", "score"), divider=True)
    msg.table(sorted(result["cats"].items()) or [("-", "-")], header=("category", "score"),
              divider=True)
