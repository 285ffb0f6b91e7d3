"""`python -m spacy_clinicalbert add-rules`: add the rule components (medspaCy wrappers) to
a trained pipeline, after its last component; the workflow step of the same name runs it.

Not `assemble`: `spacy assemble` builds a pipeline from a config without training, which
the README uses for something else (sourcing a frozen encoder). The Python function is
`packaging.rules.add_rule_components`, "components" because each rule component's own
`add_rules()` method adds rules to that one component.
"""
from pathlib import Path

import typer
from wasabi import msg

from . import app


@app.command("add-rules")
def add_rules_cli(
    model_dir: Path = typer.Argument(
        ...,
        help="Trained pipeline folder (e.g. training/model-best).",
        exists=True,
        file_okay=False,
    ),
    rules_config: Path = typer.Argument(
        ...,
        help="Config whose [nlp] pipeline lists the rule components to add, each with a "
        "[components.NAME] block (e.g. configs/rules.cfg); [initialize.components.NAME] settings "
        "are passed to their initialize.",
        exists=True,
        dir_okay=False,
    ),
    output_dir: Path = typer.Argument(..., help="Folder to save the combined pipeline to."),
):
    """Add the rule components of RULES_CONFIG (sentences, target rules, sections,
    ConText) after the trained components and save the combined pipeline.

    The trained tokenizer and components stay as they are (medspacy.load would
    replace the tokenizer); only the new components are initialized, and the
    rules they are given are saved with them.
    """
    from ..packaging.rules import add_rule_components

    try:
        added = add_rule_components(model_dir, rules_config, output_dir)
    except (ValueError, OSError) as err:  # a bad rules config or pipeline folder: say which
        msg.fail("Adding the rule components failed", str(err), exits=1)
    msg.good(f"Saved {output_dir}", f"added: {', '.join(added)}")
