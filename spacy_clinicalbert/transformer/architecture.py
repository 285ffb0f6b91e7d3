"""The `spacy-clinicalbert.ClinicalBertTransformer.v1` architecture.

A spacy-transformers `TransformerModel` with three clinical defaults: the base
model is resolved offline-first (see model_resolution), the tokenizer always gets
`model_max_length`, and windows are checked against that limit in wordpieces.
Its forward aligns tokens to wordpieces batch-wide (alignment) and, at inference,
runs windows sorted by length (length_sorting).
"""
import warnings
from typing import Dict, Optional

from spacy.util import registry
from spacy_transformers.data_classes import FullTransformerBatch, WordpieceBatch
from spacy_transformers.layers.transformer_model import TransformerModel
from spacy_transformers.truncate import truncate_oversize_splits
from thinc.api import CupyOps, get_current_ops
from transformers import PreTrainedTokenizerFast

from .alignment import align_windows, wordpiece_strings
from .length_sorting import enable_length_sorting
from .model_resolution import resolve_base_model
from .windows import WordpieceWindows

# thinc 8.2 calls torch.cuda.amp.autocast on every forward pass, even on CPU, and
# torch warns each time; the warning is about thinc's code, not the user's.
warnings.filterwarnings(
    "ignore", message=r".*torch\.cuda\.amp\.autocast.*", category=FutureWarning
)


def _gpu_in_use() -> bool:
    return isinstance(get_current_ops(), CupyOps)


@registry.architectures("spacy-clinicalbert.ClinicalBertTransformer.v1")
def clinicalbert_transformer_v1(
    name: str = "emilyalsentzer/Bio_ClinicalBERT",
    max_length: int = 512,
    window: int = 96,
    stride: int = 72,
    tokenizer_config: Dict = {"use_fast": True},
    transformer_config: Dict = {},
    mixed_precision: Optional[bool] = None,
    grad_scaler_config: Dict = {},
    inference_chunk_wordpieces: int = 2048,
) -> TransformerModel:
    """Build the encoder. `mixed_precision = null` turns it on when a GPU is in use.

    At inference, windows run longest first in chunks of at most
    `inference_chunk_wordpieces` (rows x longest window), without padding to the
    longest window of the whole batch; 0 keeps spacy-transformers' single call.
    """
    if mixed_precision is None:
        mixed_precision = _gpu_in_use()
    tok_cfg = dict(tokenizer_config)
    tok_cfg["model_max_length"] = max_length  # Bio_ClinicalBERT's files lack it
    tok_cfg.setdefault("use_fast", True)
    windows = WordpieceWindows(window, stride, max_length)
    model = TransformerModel(
        name,
        get_spans=windows,
        tokenizer_config=tok_cfg,
        transformer_config=dict(transformer_config),
        mixed_precision=mixed_precision,
        grad_scaler_config=dict(grad_scaler_config),
    )
    windows.get_tokenizer = lambda: model.tokenizer if model.attrs["has_transformer"] else None
    model.attrs["max_length"] = max_length
    model.attrs["inference_chunk_wordpieces"] = inference_chunk_wordpieces
    _resolve_name_at_init(model)
    _use_clinicalbert_forward(model)
    return model


def _use_clinicalbert_forward(model: TransformerModel) -> None:
    """Replace the forward: batch-wide alignment, and the encoder the shim calls (fp32 or
    int8) patched for length sorting once it exists (see alignment, length_sorting)."""
    stock_forward = model._func

    def forward(model: TransformerModel, docs, is_train: bool):
        if not is_train and model.attrs["has_transformer"]:
            enable_length_sorting(model.layers[0].shims[0]._model, model.attrs["inference_chunk_wordpieces"])
        if "logger" in model.attrs or model.attrs.get("flush_cache_chance", 0):
            return stock_forward(model, docs, is_train)  # spacy-transformers' set_logger and flushing
        return _encode_windows(model, docs, is_train, stock_forward)

    model._func = forward


def _encode_windows(model: TransformerModel, docs, is_train: bool, stock_forward):
    """spacy-transformers' TransformerModel forward (tokenize the windows, align, truncate,
    encode) with the alignment and wordpiece strings computed batch-wide as arrays."""
    tokenizer = model.tokenizer
    nested_spans = model.attrs["get_spans"](docs)
    flat_spans = [span for doc_spans in nested_spans for span in doc_spans]
    if not flat_spans or not isinstance(tokenizer, PreTrainedTokenizerFast):
        return stock_forward(model, docs, is_train)  # no offsets to align by, or nothing to encode
    doc_texts = {id(doc): doc.text for doc in docs}  # a slice of it is span.text, built once
    encoding = tokenizer(
        [doc_texts[id(span.doc)][span.start_char:span.end_char] for span in flat_spans],
        add_special_tokens=True,
        return_attention_mask=True,
        return_offsets_mapping=True,
        return_tensors="np",
        return_token_type_ids=None,
        padding="longest",
    )
    encoding["input_texts"] = wordpiece_strings(tokenizer, encoding["input_ids"])
    encoding["pad_token"] = tokenizer.pad_token
    wordpieces = WordpieceBatch.from_batch_encoding(encoding)
    align = align_windows(flat_spans, encoding["offset_mapping"])
    wordpieces, align = truncate_oversize_splits(wordpieces, align, tokenizer.model_max_length)
    model_output, backprop_tensors = model.layers[0](wordpieces, is_train)
    output = FullTransformerBatch(
        spans=nested_spans, wordpieces=wordpieces, model_output=model_output, align=align
    )

    def backprop(d_output: FullTransformerBatch):
        backprop_tensors(d_output.model_output)
        return docs

    return output, backprop


def _resolve_name_at_init(model: TransformerModel) -> None:
    """Resolve the base model only when weights are first needed.

    Building the model (spacy.load, add_pipe) must never touch the network; a
    saved pipeline brings its own weights, so only `initialize` resolves.
    """
    stock_init = model.init

    def init(model: TransformerModel, X=None, Y=None):
        if model.attrs["has_transformer"]:
            return stock_init(model, X=X, Y=Y)
        requested = model.attrs["name"]
        model.attrs["name"] = resolve_base_model(requested)
        try:
            return stock_init(model, X=X, Y=Y)
        finally:
            model.attrs["name"] = requested

    model.init = init
