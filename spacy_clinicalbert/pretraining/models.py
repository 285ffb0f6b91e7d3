"""Pretraining models: BERT heads that score only the masked positions.

Stock `BertForMaskedLM` projects every position onto the whole vocabulary and then
ignores 85% of the result. For a small encoder that projection is half the work
(all-MiniLM-L6: about 22 MFLOP per wordpiece in the encoder, 23 MFLOP in a
384 x 30,522 output layer). These subclasses gather the masked positions first; the
loss is the same, the weights and their names are the stock ones, and the saved
folder names the stock class, so nothing downstream knows the difference.
Without labels (inference) they behave exactly as the stock classes.
"""
import json
import warnings
from pathlib import Path
from typing import List, Tuple

import torch
from transformers import (
    AutoModelForMaskedLM,
    AutoModelForPreTraining,
    BertForMaskedLM,
    BertForPreTraining,
)
from transformers.modeling_outputs import MaskedLMOutput
from transformers.models.bert.modeling_bert import BertForPreTrainingOutput

from .settings import SettingsError

IGNORE = -100


def _masked_lm_loss(head, sequence_output: torch.Tensor, labels: torch.Tensor):
    selected = labels != IGNORE
    logits = head(sequence_output[selected])
    targets = labels[selected]
    if targets.numel() == 0:  # nothing masked in this batch: a zero that keeps the graph
        return logits.sum() * 0.0, logits
    return torch.nn.functional.cross_entropy(logits.float(), targets), logits


class SparseBertForMaskedLM(BertForMaskedLM):
    def forward(
        self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs
    ):
        if labels is None:
            return super().forward(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                **kwargs,
            )
        outputs = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        )
        loss, logits = _masked_lm_loss(self.cls.predictions, outputs[0], labels)
        # `logits` holds the masked positions only (flattened), not [batch, length, vocab].
        return MaskedLMOutput(loss=loss, logits=logits)


class SparseBertForPreTraining(BertForPreTraining):
    def forward(
        self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None,
        next_sentence_label=None, **kwargs,
    ):
        if labels is None:
            return super().forward(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                next_sentence_label=next_sentence_label, **kwargs,
            )
        outputs = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        )
        loss, logits = _masked_lm_loss(self.cls.predictions, outputs[0], labels)
        nsp_logits = self.cls.seq_relationship(outputs[1])
        if next_sentence_label is not None:
            loss = loss + torch.nn.functional.cross_entropy(
                nsp_logits.float(), next_sentence_label.view(-1)
            )
        return BertForPreTrainingOutput(
            loss=loss, prediction_logits=logits, seq_relationship_logits=nsp_logits
        )


STOCK_NAMES = {
    SparseBertForMaskedLM.__name__: BertForMaskedLM.__name__,
    SparseBertForPreTraining.__name__: BertForPreTraining.__name__,
}


def load_model(source: str, objective: str) -> Tuple[torch.nn.Module, List[str]]:
    """The model for `objective` and the weights the base model lacked (newly initialised).

    BERT models get the sparse-head classes; other masked-LM models (RoBERTa, ...)
    the stock Auto class, and only `mlm`.
    """
    from transformers import AutoConfig

    model_type = getattr(AutoConfig.from_pretrained(source), "model_type", "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if objective == "mlm+nsp":
            if model_type != "bert":
                raise SettingsError(
                    f"Objective mlm+nsp needs a BERT model (next-sentence head); {source} is "
                    f"'{model_type}'. Use --objective mlm."
                )
            model, info = SparseBertForPreTraining.from_pretrained(source, output_loading_info=True)
        elif model_type == "bert":
            model, info = SparseBertForMaskedLM.from_pretrained(source, output_loading_info=True)
        else:
            model, info = AutoModelForMaskedLM.from_pretrained(source, output_loading_info=True)
    return model, sorted(info.get("missing_keys", []))


def load_for_evaluation(folder: str, objective: str) -> torch.nn.Module:
    """Load a saved folder with the stock classes, as users will."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if objective == "mlm+nsp":
            return AutoModelForPreTraining.from_pretrained(folder)
        return AutoModelForMaskedLM.from_pretrained(folder)


def restore_stock_architecture(folder: Path) -> None:
    """`save_pretrained` writes the class name into config.json: name the stock class."""
    path = Path(folder) / "config.json"
    config = json.loads(path.read_text(encoding="utf8"))
    names = config.get("architectures") or []
    config["architectures"] = [STOCK_NAMES.get(name, name) for name in names]
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf8")
