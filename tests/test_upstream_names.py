"""The upstream internals we rely on (spacy_clinicalbert/transformer/upstream.py) still exist and
still behave as that module says; nothing else in the package reaches for them."""
import re
from importlib import import_module
from pathlib import Path

import pytest
import spacy
import torch

from spacy_clinicalbert.transformer import upstream

PACKAGE = Path(upstream.__file__).resolve().parents[1]

# What only upstream.py may touch (our own classes' `self._model` is fine): private shim fields,
# thinc's forward slot, code objects, instance-forward surgery, undocumented spacy-transformers
# modules and TransformerModel attrs.
INTERNALS = re.compile(
    r"(?<!self)\._model\b|_hfmodel|(?<!self)\._func\b|__code__|shims\[|spacy_transformers\.truncate|layers\.trfs2arrays"
    r"|transformer_model import (forward|init)|__dict__\.pop\(\"forward"
    r"|pipeline_component import .*install_extensions"
    r"|attrs\[\"(has_transformer|get_spans|name|flush_cache_chance|logger)\"\]"
)


@pytest.mark.parametrize("module_name,dotted", upstream.RELIED_ON,
                         ids=[f"{m}:{d}" for m, d in upstream.RELIED_ON])
def test_relied_on_name_exists(module_name, dotted):
    try:
        obj = import_module(module_name)
    except ImportError as err:
        pytest.fail(f"upstream module {module_name} is gone ({err}); see transformer/upstream.py")
    for part in dotted.split("."):
        if not hasattr(obj, part):
            pytest.fail(f"upstream name {module_name}:{dotted} is gone (no '{part}'); "
                        "see spacy_clinicalbert/transformer/upstream.py")
        obj = getattr(obj, part)


def test_missing_names_is_empty():
    assert upstream.missing_names() == []


def test_transformer_model_attrs_and_shim_layout(tiny_bert):
    nlp = spacy.blank("en")
    model = nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}}).model
    missing = [key for key in upstream.TRANSFORMER_MODEL_ATTRS if key not in model.attrs]
    assert not missing, f"TransformerModel.attrs lost {missing}; see transformer/upstream.py"
    assert upstream.has_weights(model) is False
    shim = upstream.encoder_layer(model).shims[0]
    assert hasattr(shim, "_model"), "the HFShim has no `_model`; see upstream.running_module"
    nlp.initialize()
    assert upstream.has_weights(model) is True
    assert upstream.running_module(model) is model.transformer  # the fp32 HF module runs
    with upstream.base_model_name(model, lambda name: name + "-resolved"):
        assert model.attrs["name"] == str(tiny_bert) + "-resolved"
    assert model.attrs["name"] == str(tiny_bert)


def test_stock_pooling_layer_shape():
    from spacy_transformers.layers import trfs2arrays
    from thinc.api import reduce_mean

    stock = trfs2arrays(reduce_mean(), 0.5)
    assert stock.name == upstream.POOLING_LAYER_NAME
    assert stock.attrs[upstream.POOLING_GRAD_FACTOR_ATTR] == 0.5


def test_instance_forward_wins_and_can_be_removed():
    module = torch.nn.Linear(2, 2)
    x = torch.ones(1, 2)
    expected = module(x)
    upstream.set_instance_forward(module, lambda inputs: inputs * 0)
    assert torch.equal(module(x), torch.zeros(1, 2))
    assert torch.equal(upstream.class_forward(module)(x), expected)
    assert set(module.state_dict()) == {"weight", "bias"}
    upstream.clear_instance_forward(module)
    assert torch.equal(module(x), expected)


def test_span_getters_entry_point_group():
    from spacy.util import registry

    assert registry.span_getters.entry_point_namespace == "spacy_span_getters"


def test_only_upstream_module_touches_internals():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "upstream.py" and path.parent.name == "transformer":
            continue
        for number, line in enumerate(path.read_text(encoding="utf8").splitlines(), 1):
            if INTERNALS.search(line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not offenders, "use spacy_clinicalbert.transformer.upstream instead:\n" + "\n".join(offenders)


def test_gradients_in_eval_mode_keeps_dropout_off(tiny_bert):
    """PyTorchShim.begin_update calls train(); inside the context it must not take effect."""
    nlp = spacy.blank("en")
    trf = nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    nlp.initialize()
    module = upstream.running_module(trf.model)
    doc = nlp.make_doc("patient denies chest pain")
    module.train()
    outputs, _ = trf.model.begin_update([doc])
    assert module.training  # the stock begin_update switched dropout on
    with upstream.gradients_in_eval_mode(trf.model):
        first, _ = trf.model.begin_update([doc])
        assert not module.training
        second, _ = trf.model.begin_update([doc])
    assert torch.equal(first.model_output.last_hidden_state, second.model_output.last_hidden_state)
    assert module.training and "train" not in module.__dict__  # restored
