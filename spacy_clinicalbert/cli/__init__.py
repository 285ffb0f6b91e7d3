"""`python -m spacy_clinicalbert ...`: one module per command, collected here."""
import typer

app = typer.Typer(
    name="spacy_clinicalbert",
    help="ClinicalBERT for spaCy: fetch models, convert corpora, pretrain, evaluate.",
    no_args_is_help=True,
    add_completion=False,
)

# Each command module registers itself on `app` when imported.
from . import fetch_model  # noqa: E402,F401
from . import pretrain  # noqa: E402,F401
from . import table  # noqa: E402,F401
from . import convert  # noqa: E402,F401
from . import base_model  # noqa: E402,F401
from . import package  # noqa: E402,F401
from . import assemble  # noqa: E402,F401
from . import evaluate  # noqa: E402,F401
from . import quantize  # noqa: E402,F401
from . import init_config  # noqa: E402,F401
from . import check_data  # noqa: E402,F401
