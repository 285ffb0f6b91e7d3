"""The `spacy-clinicalbert.ClinicalBertTransformer` architectures.

A spacy-transformers `TransformerModel` with clinical defaults: the base model is
resolved offline-first (model_resolution), the tokenizer always gets
`model_max_length`, and the forward aligns tokens to wordpieces batch-wide and runs
windows length-sorted at inference (forward). v2 takes its windows as `get_spans`,
as spacy-transformers' `TransformerModel.v3` does, so a config can swap them; v1
builds the wordpiece-checked windows from `window` and `stride` (saved pipelines and
the shipped configs use it) and gives the same model as v2 with
`spacy-clinicalbert.wordpiece_windows.v1`.
"""
import warnings
from typing import Callable, Dict, List, Optional

from spacy.tokens import Doc, Span
from spacy.util import registry
from spacy_transformers.layers.transformer_model import TransformerModel
from thinc.api import CupyOps, get_current_ops

from . import upstream
from .forward import use_clinicalbert_callbacks
from .windows import WordpieceWindows

# thinc 8.2 calls torch.cuda.amp.autocast on every forward pass, even on CPU, and
# torch warns each time; the warning is about thinc's code, not the user's.
warnings.filterwarnings(
    "ignore", message=r".*torch\.cuda\.amp\.autocast.*", category=FutureWarning
)


def _gpu_in_use() -> bool:
    return isinstance(get_current_ops(), CupyOps)


# The dict defaults below stay dicts (B006 ignored): spaCy writes a registered
# function's defaults into filled configs, as spacy-transformers' own do, and the
# functions only ever copy them.
@registry.architectures("spacy-clinicalbert.ClinicalBertTransformer.v2")
def clinicalbert_transformer_v2(
    name: str,
    get_spans: Callable[[List[Doc]], List[List[Span]]],
    max_length: int = 512,
    tokenizer_config: Dict = {"use_fast": True},  # noqa: B006
    transformer_config: Dict = {},  # noqa: B006
    mixed_precision: Optional[bool] = None,
    grad_scaler_config: Dict = {},  # noqa: B006
    inference_chunk_wordpieces: int = 2048,
) -> TransformerModel:
    """Build the encoder over the windows `get_spans` makes.

    `spacy-clinicalbert.wordpiece_windows.v1` keeps every window within `max_length`
    wordpieces; other span getters (spacy-transformers' `strided_spans.v1`, ...) work,
    and windows over `max_length` are then truncated as spacy-transformers does.
    `mixed_precision = null` turns it on when a GPU is in use. At inference, windows
    run longest first in chunks of at most `inference_chunk_wordpieces` (rows x
    longest window) instead of one call padded to the longest window; 0 keeps
    spacy-transformers' single call.
    """
    if mixed_precision is None:
        mixed_precision = _gpu_in_use()
    tok_cfg = dict(tokenizer_config)
    tok_cfg["model_max_length"] = max_length  # Bio_ClinicalBERT's files lack it
    tok_cfg.setdefault("use_fast", True)
    model = TransformerModel(
        name,
        get_spans=get_spans,
        tokenizer_config=tok_cfg,
        transformer_config=dict(transformer_config),
        mixed_precision=mixed_precision,
        grad_scaler_config=dict(grad_scaler_config),
    )
    if isinstance(get_spans, WordpieceWindows):
        get_spans.bind_tokenizer(lambda: model.tokenizer if upstream.has_weights(model) else None)
    model.attrs["max_length"] = max_length
    model.attrs["inference_chunk_wordpieces"] = inference_chunk_wordpieces
    use_clinicalbert_callbacks(model)
    return model


@registry.architectures("spacy-clinicalbert.ClinicalBertTransformer.v1")
def clinicalbert_transformer_v1(
    name: str = "emilyalsentzer/Bio_ClinicalBERT",
    max_length: int = 512,
    window: int = 96,
    stride: int = 72,
    tokenizer_config: Dict = {"use_fast": True},  # noqa: B006
    transformer_config: Dict = {},  # noqa: B006
    mixed_precision: Optional[bool] = None,
    grad_scaler_config: Dict = {},  # noqa: B006
    inference_chunk_wordpieces: int = 2048,
) -> TransformerModel:
    """v2 over wordpiece-checked windows of `window` tokens every `stride` tokens, each
    within `max_length` wordpieces. Kept for saved pipelines and the shipped configs."""
    return clinicalbert_transformer_v2(
        name,
        get_spans=WordpieceWindows(window, stride, max_length),
        max_length=max_length,
        tokenizer_config=tokenizer_config,
        transformer_config=transformer_config,
        mixed_precision=mixed_precision,
        grad_scaler_config=grad_scaler_config,
        inference_chunk_wordpieces=inference_chunk_wordpieces,
    )
