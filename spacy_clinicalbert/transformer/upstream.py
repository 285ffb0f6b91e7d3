"""Every place this package relies on internals of spacy-transformers, thinc, transformers or torch.

Internals are underscore-prefixed names, undocumented module functions and the layout of
upstream objects (which attrs a model holds, which layer holds the shim). Nothing else in
`spacy_clinicalbert` reaches for them: callers use the small functions below. Each touch says
what it stands for and the version it was checked against:

    spacy-transformers 1.4.0, thinc 8.2.5, transformers 4.53.2, torch 2.13.0 (spaCy 3.7.5)

`RELIED_ON` lists the names; tests/test_upstream_names.py fails, naming the missing one,
when an upgrade removes or moves any of them. Publicly documented API (the `Transformer`
component, `TransformerModel`, the data classes, `TransformerListener`, the span getter
registry, Hugging Face tokenizers and model outputs) is imported where it is used.
"""
from contextlib import contextmanager
from functools import partial
from typing import Callable, Iterator, List, Optional, Tuple

from spacy_transformers.layers import TransformerListener

# spacy-transformers 1.4.0: `TransformerModel`'s own forward and init, module functions of
# spacy_transformers.layers.transformer_model (not exported). Our forward falls back to the
# stock one for what it does not reimplement (logger, cache flushing, slow tokenizers), and
# our init wraps the stock one. Imported by name so we never read thinc's `Model._func`.
from spacy_transformers.layers.transformer_model import forward as stock_transformer_forward
from spacy_transformers.layers.transformer_model import init as stock_transformer_init

# spacy-transformers 1.4.0: the stock wordpiece-to-token pooling forward of the
# `trfs2arrays` layer (spacy_transformers.layers.trfs2arrays.forward, not exported); our
# listener runs it for every pooling but mean on CPU.
from spacy_transformers.layers.trfs2arrays import forward as stock_pooling_forward

# spacy-transformers 1.4.0: sets `doc._.trf_data`; undocumented, called by the stock
# `Transformer.pipe` which `ClinicalBert.pipe` replaces.
from spacy_transformers.pipeline_component import install_extensions

# spacy-transformers 1.4.0: cuts windows longer than the model maximum and their alignment
# (spacy_transformers.truncate, undocumented); our forward applies it as the stock one does.
from spacy_transformers.truncate import truncate_oversize_splits
from thinc.api import Model

# (module, dotted attribute) pairs that the functions below and the imports above rely on.
RELIED_ON: List[Tuple[str, str]] = [
    ("spacy_transformers.layers.transformer_model", "forward"),
    ("spacy_transformers.layers.transformer_model", "init"),
    ("spacy_transformers.layers.transformer_model", "TransformerModel.tokenizer"),
    ("spacy_transformers.layers.transformer_model", "TransformerModel.transformer"),
    ("spacy_transformers.layers.trfs2arrays", "forward"),
    ("spacy_transformers.layers.trfs2arrays", "trfs2arrays"),
    ("spacy_transformers.pipeline_component", "install_extensions"),
    ("spacy_transformers.truncate", "truncate_oversize_splits"),
    ("spacy_transformers.data_classes", "WordpieceBatch.from_batch_encoding"),
    ("spacy_transformers.util", "registry"),
    ("thinc.api", "Model.replace_callbacks"),
    ("thinc.shims.pytorch", "PyTorchShim"),
    ("spacy_transformers.layers.hf_shim", "HFShim"),
    ("transformers.tokenization_utils_fast", "PreTrainedTokenizerFast"),
    ("transformers.utils", "ModelOutput"),
    ("transformers.modeling_outputs", "BaseModelOutput"),
    ("torch.nn", "Module.__call__"),
    ("thinc.shims.pytorch", "PyTorchShim.begin_update"),
    ("spacy_transformers.layers.listener", "TransformerListener.receive"),
]

# spacy-transformers 1.4.0 keys of `TransformerModel.attrs` that we read or write (set in
# TransformerModel.__init__ and set_pytorch_transformer; undocumented).
TRANSFORMER_MODEL_ATTRS = ("name", "get_spans", "has_transformer", "flush_cache_chance")

# spacy-transformers 1.4.0: name and attribute of the stock pooling layer (`trfs2arrays`);
# our listener's layer copies both so pipelines saved with either listener load with the other.
POOLING_LAYER_NAME = "trfs2arrays"
POOLING_GRAD_FACTOR_ATTR = "grad_factor"


def missing_names() -> List[str]:
    """The entries of RELIED_ON that cannot be found, as 'module:attribute'."""
    from importlib import import_module

    missing = []
    for module_name, dotted in RELIED_ON:
        try:
            obj = import_module(module_name)
        except ImportError:
            missing.append(f"{module_name} (module)")
            continue
        for part in dotted.split("."):
            if not hasattr(obj, part):
                missing.append(f"{module_name}:{dotted}")
                break
            obj = getattr(obj, part)
    return missing


# --- TransformerModel: callbacks and attrs -------------------------------------------------

def replace_callbacks(model: Model, forward: Callable, init: Callable) -> None:
    """Give a spacy-transformers `TransformerModel` our forward and init.

    thinc 8.2.5 `Model.replace_callbacks` (public, undocumented) replaces the pair; the
    stock functions stay reachable as `stock_transformer_forward` / `stock_transformer_init`.
    """
    model.replace_callbacks(forward, init=init)


def has_weights(model: Model) -> bool:
    """spacy-transformers 1.4.0 `attrs["has_transformer"]`: True once the HF model is set."""
    return bool(model.attrs["has_transformer"])


def span_getter(model: Model) -> Callable:
    """spacy-transformers 1.4.0 `attrs["get_spans"]`: the window function the model calls."""
    return model.attrs["get_spans"]


def uses_stock_only_features(model: Model) -> bool:
    """spacy-transformers 1.4.0 `set_logger` puts `attrs["logger"]` (memory logging) and
    `attrs["flush_cache_chance"]` flushes torch's cache: only the stock forward does either."""
    return "logger" in model.attrs or bool(model.attrs.get("flush_cache_chance", 0))


@contextmanager
def base_model_name(model: Model, resolve: Callable[[str], str]) -> Iterator[None]:
    """spacy-transformers 1.4.0's init loads `attrs["name"]`: let it load `resolve(name)` (a
    local folder) while the config keeps the name the user wrote."""
    requested = model.attrs["name"]
    model.attrs["name"] = resolve(requested)
    try:
        yield
    finally:
        model.attrs["name"] = requested


def encoder_layer(model: Model) -> Model:
    """spacy-transformers 1.4.0: `TransformerModel.layers[0]` is the HFWrapper (WordpieceBatch
    in, ModelOutput out) whose only shim is the HFShim."""
    return model.layers[0]


# --- HFShim: the torch module the shim runs -------------------------------------------------

def running_module(model: Model):
    """The torch module the shim calls: thinc 8.2.5 `PyTorchShim._model` (private) of the
    spacy-transformers 1.4.0 HFShim, set from `_hfmodel.transformer` at init and load.
    `model.transformer` (public) keeps pointing at the fp32 Hugging Face module."""
    return encoder_layer(model).shims[0]._model


def set_running_module(model: Model, module) -> None:
    """Make the shim call `module` instead (int8 encoder, or the fp32 one back). HFShim.to_bytes
    saves `_model.state_dict()`, so whatever runs here is what spaCy would save."""
    encoder_layer(model).shims[0]._model = module


@contextmanager
def gradients_in_eval_mode(model: Model) -> Iterator[None]:
    """Let `model.begin_update` record gradients with the encoder in eval mode (dropout off).

    thinc 8.2.5 `PyTorchShim.begin_update` calls `_model.train()` before every forward, so a
    training-mode forward always has dropout on. An instance `train` that keeps the module in
    eval mode (torch 2.13 `Module.train` is an ordinary method, so the instance attribute wins)
    gives the exact, deterministic function of the weights that attributions need; the
    class's `train` is back, and the mode restored, on exit."""
    module = running_module(model)
    was_training = module.training
    module.eval()
    module.train = lambda mode=True: module
    try:
        yield
    finally:
        module.__dict__.pop("train", None)
        module.train(was_training)


# --- torch.nn.Module: an instance forward ---------------------------------------------------

def set_instance_forward(module, forward: Callable) -> None:
    """torch 2.13 `Module.__call__` calls `self.forward`, so an instance attribute wins over
    the class's method while `state_dict()` keeps the module's own parameter names."""
    module.forward = forward


def clear_instance_forward(module) -> None:
    """Undo `set_instance_forward`: the class's forward runs again."""
    module.__dict__.pop("forward", None)


def class_forward(module) -> Callable:
    """The module class's own forward bound to `module`, whatever instance forward is set."""
    return partial(type(module).forward, module)


def received_outputs(listener: "TransformerListener") -> Optional[List]:
    """What spacy-transformers 1.4.0 `TransformerListener.receive` stored (`_outputs`, private):
    the per-doc `TransformerData` of the batch `Transformer.update` just encoded, until the
    listener's backprop clears it; None when nothing was received."""
    return listener._outputs


def pooling_layer(forward: Callable, pooling: Model, grad_factor: float) -> Model:
    """A layer shaped as spacy-transformers 1.4.0 `trfs2arrays` (name, sublayer, attr)."""
    return Model(POOLING_LAYER_NAME, forward, layers=[pooling],
                 attrs={POOLING_GRAD_FACTOR_ATTR: grad_factor})


__all__ = [
    "RELIED_ON", "TRANSFORMER_MODEL_ATTRS", "POOLING_LAYER_NAME", "base_model_name",
    "class_forward", "clear_instance_forward", "encoder_layer", "gradients_in_eval_mode",
    "has_weights",
    "install_extensions", "missing_names", "pooling_layer", "received_outputs", "replace_callbacks",
    "running_module", "set_instance_forward", "set_running_module", "span_getter",
    "stock_pooling_forward", "stock_transformer_forward", "stock_transformer_init",
    "truncate_oversize_splits", "uses_stock_only_features",
]
