"""Inference on windows sorted by length, so the encoder does not compute padding.

spacy-transformers encodes all windows of a sub-batch as one tensor padded to the
longest window. Clinical notes end in short windows and their wordpiece counts
vary, so on MTSamples about 30% of the encoded positions were padding. At
inference (no gradient) the windows are run longest first in chunks of similar
length, each trimmed to its own longest window, and the hidden states are put
back in the original, padded layout. Positions that hold real wordpieces get the
same values as before (padding is masked out of attention); padding beyond a
chunk's longest window holds zeros. Training keeps the stock path, whose
gradients spacy-transformers expects.
"""
from functools import partial
from typing import Any, Dict, List, Optional

import torch
from transformers.utils import ModelOutput

from .upstream import class_forward, clear_instance_forward, set_instance_forward

PATCH_ATTR = "_clinicalbert_length_sorted"


def enable_length_sorting(module: torch.nn.Module, chunk_wordpieces: int) -> None:
    """Route `module`'s inference calls through `length_sorted_forward` (idempotent).

    An instance forward, not a wrapper module: the state dict that spaCy saves
    keeps the encoder's own parameter names.
    """
    if getattr(module, PATCH_ATTR, None) == chunk_wordpieces:
        return
    if chunk_wordpieces <= 0:  # switched off: back to the class's own forward
        clear_instance_forward(module)
        module.__dict__.pop(PATCH_ATTR, None)
        return
    set_instance_forward(module, partial(length_sorted_forward, module, chunk_wordpieces))
    setattr(module, PATCH_ATTR, chunk_wordpieces)


def length_sorted_forward(
    module: torch.nn.Module,
    chunk_wordpieces: int,
    input_ids: Optional[torch.Tensor] = None,
    attention_mask: Optional[torch.Tensor] = None,
    token_type_ids: Optional[torch.Tensor] = None,
    **kwargs: Any,
):
    stock = class_forward(module)
    whole = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": token_type_ids,
    }
    if (
        torch.is_grad_enabled()
        or input_ids is None
        or attention_mask is None
        or input_ids.dim() != 2
        or kwargs.get("output_attentions")
    ):
        return stock(**whole, **kwargs)  # not sortable
    rows, width = input_ids.shape
    lengths = [int(n) for n in attention_mask.sum(dim=1).tolist()]
    chunks = plan_chunks(lengths, chunk_wordpieces)
    if len(chunks) == 1 and lengths[chunks[0][0]] == width:
        return stock(**whole, **kwargs)  # one chunk, as long as the batch: nothing to gain
    outputs = []
    for indices in chunks:
        index = torch.tensor(indices, device=input_ids.device)
        longest = lengths[indices[0]]  # chunks are ordered longest first
        part = {
            "input_ids": input_ids[index, :longest],
            "attention_mask": attention_mask[index, :longest],
        }
        if token_type_ids is not None:
            part["token_type_ids"] = token_type_ids[index, :longest]
        outputs.append((index, stock(**part, **kwargs)))
    return _reassemble(outputs, rows, width)


def plan_chunks(lengths: List[int], chunk_wordpieces: int) -> List[List[int]]:
    """Row indices, longest first, grouped so that rows x longest <= chunk_wordpieces."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    chunks: List[List[int]] = []
    current: List[int] = []
    for i in order:
        if current and (len(current) + 1) * lengths[current[0]] > chunk_wordpieces:
            chunks.append(current)
            current = []
        current.append(i)
    if current:
        chunks.append(current)
    return chunks


def _reassemble(outputs, rows: int, width: int):
    """One output of the original shape: sequences padded back with zeros, rows in order."""
    first = outputs[0][1]
    merged: Dict[str, Any] = {}
    for key in first.keys():
        merged[key] = _merge([(index, out[key]) for index, out in outputs], rows, width)
    return type(first)(**merged) if isinstance(first, ModelOutput) else merged


def _merge(parts, rows: int, width: int):
    sample = parts[0][1]
    if isinstance(sample, tuple):
        return tuple(
            _merge([(index, value[k]) for index, value in parts], rows, width)
            for k in range(len(sample))
        )
    if not isinstance(sample, torch.Tensor):
        return sample
    if sample.dim() == 3:  # (rows, positions, hidden)
        full = sample.new_zeros((rows, width) + tuple(sample.shape[2:]))
        for index, value in parts:
            full[index, : value.shape[1]] = value
        return full
    full = sample.new_zeros((rows,) + tuple(sample.shape[1:]))  # per-row: pooler output
    for index, value in parts:
        full[index] = value
    return full
