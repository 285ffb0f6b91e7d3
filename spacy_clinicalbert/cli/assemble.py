"""Add rule components (medspaCy wrappers) to a trained pipeline, after its last component."""
from pathlib import Path

import typer
from wasabi import msg

from . import app


@app.command("add-rules")
def add_rules_cli(
    model_dir: Path = typer.Argument(..., help="Trained pipeline folder (e.g. training/model-best).", exists=True, file_okay=False),
    rules_config: Path = typer.Argument(..., help="Config whose [nlp] pipeline lists the rule components to add, each with a [components.NAME] block (e.g. configs/rules.cfg); [initialize.components.NAME] settings are passed to their initialize.", exists=True, dir_okay=False),
    output_dir: Path = typer.Argument(..., help="Folder to save the combined pipeline to."),
):
    """Append the rule components of RULES_CONFIG to the trained pipeline and save it.

    The trained tokenizer and components stay as they are (medspacy.load would
    replace the tokenizer); only the new components are initialized.
    """
    from ..packaging.rules import add_rule_components

    added = add_rule_components(model_dir, rules_config, output_dir)
    msg.good(f"Saved {output_dir}", f"added: {', '.join(added)}")
