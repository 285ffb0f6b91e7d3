"""Held-out masked-LM perplexity (and next-sentence accuracy), comparable before/after.

The masks are drawn from a fixed seed and every chosen wordpiece is replaced by
[MASK] (no 10% random / 10% kept), so the before and after figures score exactly the
same prediction problems. Logits are computed only at masked positions: with a
30k-word vocabulary the output layer would otherwise cost as much as a small encoder.
"""
import math
import time
from typing import Dict, Optional

import torch

from .store import TokenDataset


def _encoder_and_head(model):
    """The BERT-style encoder and its masked-LM prediction head."""
    encoder = getattr(model, model.base_model_prefix, None)
    cls = getattr(model, "cls", None)
    head = getattr(cls, "predictions", None) if cls is not None else None
    if encoder is None or head is None:
        lm_head = getattr(model, "lm_head", None)  # RoBERTa-style models
        if encoder is None or lm_head is None:
            raise TypeError(f"{type(model).__name__} has no masked-LM head to evaluate.")
        head = lm_head
    return encoder, head


def _batches(dataset: TokenDataset, batch_size: int, pad_id: int):
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        length = max(len(item["input_ids"]) for item in items)
        ids = torch.full((len(items), length), pad_id, dtype=torch.long)
        types = torch.zeros((len(items), length), dtype=torch.long)
        attention = torch.zeros((len(items), length), dtype=torch.long)
        for i, item in enumerate(items):
            n = len(item["input_ids"])
            ids[i, :n] = item["input_ids"]
            types[i, :n] = item["token_type_ids"]
            attention[i, :n] = 1
        labels = (
            torch.stack([item["next_sentence_label"] for item in items])
            if "next_sentence_label" in items[0]
            else None
        )
        yield ids, types, attention, labels


@torch.no_grad()
def masked_lm_perplexity(
    model,
    dataset: TokenDataset,
    tokenizer,
    *,
    batch_size: int = 64,
    mlm_probability: float = 0.15,
    seed: int = 1234,
    device: Optional[torch.device] = None,
) -> Dict[str, float]:
    """exp(mean cross-entropy) over masked wordpieces of the held-out sequences."""
    if len(dataset) == 0:
        raise ValueError("No held-out sequences to evaluate.")
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    encoder, head = _encoder_and_head(model)
    generator = torch.Generator().manual_seed(seed)
    special = torch.tensor(sorted(set(tokenizer.all_special_ids)), dtype=torch.long)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    total_loss = 0.0
    total_masked = 0
    correct = 0
    start = time.time()
    for ids, types, attention, _ in _batches(dataset, batch_size, pad_id):
        candidates = ~torch.isin(ids, special) & attention.bool()
        draw = torch.rand(ids.shape, generator=generator) < mlm_probability
        masked = candidates & draw
        if not masked.any():
            continue
        inputs = ids.clone()
        inputs[masked] = tokenizer.mask_token_id
        out = encoder(
            input_ids=inputs.to(device), attention_mask=attention.to(device),
            token_type_ids=types.to(device),
        )
        hidden = out[0][masked.to(device)]
        logits = head(hidden).float()
        targets = ids[masked].to(device)
        total_loss += torch.nn.functional.cross_entropy(logits, targets, reduction="sum").item()
        correct += int((logits.argmax(-1) == targets).sum().item())
        total_masked += int(masked.sum().item())
    if was_training:
        model.train()
    if total_masked == 0:
        raise ValueError(
            "No wordpiece was masked in the held-out sequences (too few or too short)."
        )
    loss = total_loss / total_masked
    return {
        "perplexity": round(math.exp(loss), 4),
        "loss": round(loss, 5),
        "masked_accuracy": round(correct / total_masked, 4),
        "masked_wordpieces": total_masked,
        "sequences": len(dataset),
        "seconds": round(time.time() - start, 1),
    }


@torch.no_grad()
def next_sentence_accuracy(
    model,
    dataset: TokenDataset,
    tokenizer,
    *,
    batch_size: int = 64,
    device: Optional[torch.device] = None,
) -> Dict[str, float]:
    """Accuracy of the next-sentence head on held-out sentence pairs (unmasked)."""
    if len(dataset) == 0:
        raise ValueError("No held-out sentence pairs to evaluate.")
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    correct = total = 0
    for ids, types, attention, labels in _batches(dataset, batch_size, pad_id):
        out = model(
            input_ids=ids.to(device),
            attention_mask=attention.to(device),
            token_type_ids=types.to(device),
        )
        predicted = out.seq_relationship_logits.argmax(-1).cpu()
        correct += int((predicted == labels).sum().item())
        total += len(labels)
    if was_training:
        model.train()
    return {"nsp_accuracy": round(correct / total, 4), "pairs": total}
