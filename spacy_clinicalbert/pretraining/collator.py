"""Batch pretraining sequences: pad, mask, and keep every input the model needs.

In transformers 4.53 `DataCollatorForWholeWordMask` returns only `input_ids` and
`labels`: the attention mask and token type ids are dropped, so padded positions would
be attended to and sentence-pair segments would look like one segment. We pad
ourselves, build `attention_mask` and `token_type_ids`, and borrow only the masking
steps from the Hugging Face collators (whole-word choice, then 80/10/10 replacement).
"""
from typing import Dict, List, Optional

import torch
from transformers import DataCollatorForLanguageModeling, DataCollatorForWholeWordMask


class PretrainingCollator:
    def __init__(
        self,
        tokenizer,
        *,
        mlm_probability: float = 0.15,
        whole_word_mask: bool = False,
        pad_to_multiple_of: Optional[int] = None,
    ):
        if tokenizer.mask_token is None:
            raise ValueError("The tokenizer has no mask token: masked-LM pretraining needs one.")
        self.tokenizer = tokenizer
        self.whole_word_mask = whole_word_mask
        self.pad_to_multiple_of = pad_to_multiple_of
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.special_ids = torch.tensor(sorted(set(tokenizer.all_special_ids)), dtype=torch.long)
        self._token_level = DataCollatorForLanguageModeling(
            tokenizer, mlm=True, mlm_probability=mlm_probability
        )
        self._whole_word = DataCollatorForWholeWordMask(tokenizer, mlm_probability=mlm_probability)

    def _pad(self, rows: List[torch.Tensor], value: int, length: int) -> torch.Tensor:
        out = torch.full((len(rows), length), value, dtype=torch.long)
        for i, row in enumerate(rows):
            out[i, : len(row)] = row
        return out

    def __call__(self, features: List[Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
        rows = [torch.as_tensor(f["input_ids"], dtype=torch.long) for f in features]
        length = max(len(r) for r in rows)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            length = ((length + m - 1) // m) * m
        input_ids = self._pad(rows, self.pad_id, length)
        attention_mask = self._pad([torch.ones(len(r), dtype=torch.long) for r in rows], 0, length)
        token_types = [
            torch.as_tensor(f["token_type_ids"], dtype=torch.long)
            if "token_type_ids" in f
            else torch.zeros(len(r), dtype=torch.long)
            for f, r in zip(features, rows, strict=True)
        ]
        token_type_ids = self._pad(token_types, 0, length)
        if self.whole_word_mask:
            convert = self.tokenizer.convert_ids_to_tokens
            chosen = [
                torch.tensor(
                    self._whole_word._whole_word_mask(convert(r.tolist())), dtype=torch.long
                )
                for r in rows
            ]
            mask_labels = self._pad(chosen, 0, length)
            inputs, labels = self._whole_word.torch_mask_tokens(input_ids, mask_labels)
        else:
            special = torch.isin(input_ids, self.special_ids) | (attention_mask == 0)
            inputs, labels = self._token_level.torch_mask_tokens(
                input_ids, special_tokens_mask=special
            )
        batch = {
            "input_ids": inputs,
            "attention_mask": attention_mask,
            "token_type_ids": token_type_ids,
            "labels": labels,
        }
        if "next_sentence_label" in features[0]:
            batch["next_sentence_label"] = torch.stack(
                [torch.as_tensor(f["next_sentence_label"], dtype=torch.long) for f in features]
            )
        return batch
