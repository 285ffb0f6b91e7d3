"""`python -m spacy_clinicalbert ...`: one module per command, collected here.

Command names never repeat one of spaCy's own (`spacy convert`, `spacy pretrain` and
`spacy assemble` do other things), and each workflow step in project.yml has the name
of the command it runs. Renamed commands keep their old name as a hidden alias.
"""
import functools
import inspect
from typing import Any, Callable

import typer

app = typer.Typer(
    name="spacy_clinicalbert",
    help="ClinicalBERT for spaCy: fetch models, convert corpora, continue pretraining the encoder "
    "on clinical text, check data, add rules, evaluate, package.",
    no_args_is_help=True,
    add_completion=False,
)


def hidden_alias(old: str, new: str, command: Callable[..., Any], **settings: Any) -> None:
    """Register `command` again as `old`, left out of --help, so scripts written before
    the rename keep working; it notes the new name on stderr. `settings` are those of
    the `app.command` call of `new` (context settings, no_args_is_help)."""

    @functools.wraps(command)
    def alias(*args: Any, **kwargs: Any) -> Any:
        typer.echo(f"Note: `{old}` is now called `{new}`; the old name still works.", err=True)
        return command(*args, **kwargs)

    doc = inspect.cleandoc(command.__doc__ or "")
    app.command(
        old, hidden=True, help=f"Old name of `{new}`, kept for scripts.\n\n{doc}", **settings
    )(alias)


# Each command module registers itself on `app` when imported (after `app` exists).
# isort: off
from . import fetch_model  # noqa: E402,F401
from . import domain_pretrain  # noqa: E402,F401
from . import table  # noqa: E402,F401
from . import convert_corpus  # noqa: E402,F401
from . import base_model  # noqa: E402,F401
from . import package  # noqa: E402,F401
from . import add_rules  # noqa: E402,F401
from . import evaluate  # noqa: E402,F401
from . import quantize  # noqa: E402,F401
from . import init_config  # noqa: E402,F401
from . import check_data  # noqa: E402,F401
from . import deid  # noqa: E402,F401
from . import render  # noqa: E402,F401
from . import explain  # noqa: E402,F401
from . import annotate  # noqa: E402,F401
from . import tune_threshold  # noqa: E402,F401
# isort: on
