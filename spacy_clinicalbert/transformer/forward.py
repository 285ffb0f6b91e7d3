"""The forward and init our encoder architectures give a spacy-transformers TransformerModel.

The forward does what spacy-transformers' does (window, tokenize, align, truncate, encode)
with the alignment and wordpiece strings computed batch-wide as arrays (alignment), and at
inference runs the windows length-sorted (length_sorting). The init resolves the base model
offline-first, only when weights are first needed (model_resolution).
"""
from typing import List

from spacy.tokens import Doc
from spacy_transformers.data_classes import FullTransformerBatch, WordpieceBatch
from spacy_transformers.layers.transformer_model import TransformerModel

# The class `transformers.PreTrainedTokenizerFast` is; the package root types it as a dummy.
from transformers.tokenization_utils_fast import PreTrainedTokenizerFast

from . import upstream
from .alignment import align_windows, wordpiece_strings
from .length_sorting import enable_length_sorting
from .model_resolution import resolve_base_model


def use_clinicalbert_callbacks(model: TransformerModel) -> None:
    """Install `clinicalbert_forward` and `clinicalbert_init` on a TransformerModel."""
    upstream.replace_callbacks(model, clinicalbert_forward, clinicalbert_init)


def clinicalbert_forward(model: TransformerModel, docs: List[Doc], is_train: bool):
    if not is_train and upstream.has_weights(model):
        enable_length_sorting(
            upstream.running_module(model), model.attrs["inference_chunk_wordpieces"]
        )
    if upstream.uses_stock_only_features(model):
        return upstream.stock_transformer_forward(model, docs, is_train)
    return _encode_windows(model, docs, is_train)


def _encode_windows(model: TransformerModel, docs: List[Doc], is_train: bool):
    tokenizer = model.tokenizer
    nested_spans = upstream.span_getter(model)(docs)
    flat_spans = [span for doc_spans in nested_spans for span in doc_spans]
    if not flat_spans or not isinstance(tokenizer, PreTrainedTokenizerFast):
        # No offsets to align by, or nothing to encode: the stock path handles both.
        return upstream.stock_transformer_forward(model, docs, is_train)
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
    wordpieces, align = upstream.truncate_oversize_splits(
        wordpieces, align, tokenizer.model_max_length
    )
    model_output, backprop_tensors = upstream.encoder_layer(model)(wordpieces, is_train)
    output = FullTransformerBatch(
        spans=nested_spans, wordpieces=wordpieces, model_output=model_output, align=align
    )

    def backprop(d_output: FullTransformerBatch):
        backprop_tensors(d_output.model_output)
        return docs

    return output, backprop


def clinicalbert_init(model: TransformerModel, X=None, Y=None):
    """Resolve the base model only when weights are first needed.

    Building the model (spacy.load, add_pipe) must never touch the network; a saved
    pipeline brings its own weights, so only `initialize` resolves.
    """
    if upstream.has_weights(model):
        return upstream.stock_transformer_init(model, X=X, Y=Y)
    with upstream.base_model_name(model, resolve_base_model):
        return upstream.stock_transformer_init(model, X=X, Y=Y)
