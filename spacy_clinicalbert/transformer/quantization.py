"""Int8 CPU inference for the `clinicalbert` encoder through ONNX Runtime.

Chosen by measurement on this project's 2-core CPU (pitfalls.md, Speed): ONNX
Runtime dynamic int8 with per-channel weights ran MiniLM 2.6-3.8x faster than fp32
eager with doc-vector cosine >= 0.99, while `torch.ao` dynamic quantization lost
too much (cosine 0.91). Needs the optional extra `spacy-clinicalbert[cpu-int8]`.

The quantized encoder (`OnnxInt8Encoder`) replaces the module the spacy-transformers
shim runs (see upstream: `running_module`); the fp32 module stays as
`model.transformer`. spaCy saves the running module's `state_dict()`, so saving a
quantized pipeline would store no usable weights: `nlp.to_disk` refuses with a clear
message instead. The one supported way to ship int8: save the fp32 pipeline, write the
int8 file beside its weights once (`save_int8_onnx`; CLI `python -m spacy_clinicalbert
quantize PIPELINE PIPELINE/encoder.int8.onnx`) and call `quantize_pipeline(nlp,
onnx_path=nlp.path / "encoder.int8.onnx")` after `spacy.load`.
"""
import hashlib
import inspect
import json
import logging
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Union, cast

import torch
from spacy.language import Language
from transformers.modeling_outputs import BaseModelOutput

from . import upstream

if TYPE_CHECKING:
    from spacy_transformers.layers.transformer_model import TransformerModel
    from spacy_transformers.pipeline_component import Transformer

ONNX_OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
SAVE_REFUSAL = (
    "This pipeline runs an int8 ONNX Runtime encoder, which spaCy cannot save "
    "(it would store no usable weights). Call "
    "spacy_clinicalbert.transformer.quantization.dequantize_pipeline(nlp) and save "
    "the fp32 pipeline; quantize again after spacy.load with quantize_pipeline(nlp, "
    "onnx_path=...) using a file from `python -m spacy_clinicalbert quantize`."
)


class QuantizationError(RuntimeError):
    """Quantization is unavailable, mismatched, or used where it cannot work."""


def _require_ort():
    try:
        import onnxruntime  # noqa: F401
        from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: F401
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise QuantizationError(
            "int8 quantization needs ONNX Runtime and onnx: "
            "pip install 'spacy-clinicalbert[cpu-int8]'"
        ) from err
    import onnxruntime

    return onnxruntime


class OnnxInt8Encoder(torch.nn.Module):
    """Stands in for the Hugging Face encoder inside the spaCy shim; inference only.

    It keeps the fp32 module (to restore it, and as the source of the fingerprint)
    and refuses `state_dict()`, which is what spaCy would save.
    """

    def __init__(
        self, fp32_module: torch.nn.Module, onnx_bytes: bytes, fingerprint: str, threads: int
    ):
        super().__init__()
        ort = _require_ort()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.onnx_bytes = onnx_bytes
        self.fingerprint = fingerprint
        # A plain attribute, not a submodule: the fp32 weights must not leak into state_dict().
        self.__dict__["fp32_module"] = fp32_module
        self.config = fp32_module.config

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **_):
        if torch.is_grad_enabled() and self.training:
            raise QuantizationError(
                "The int8 encoder is for inference only; dequantize_pipeline(nlp) before training."
            )
        given = {"input_ids": input_ids, "attention_mask": attention_mask,
                 "token_type_ids": token_type_ids}
        if given["attention_mask"] is None:
            given["attention_mask"] = torch.ones_like(input_ids)
        if given["token_type_ids"] is None:
            given["token_type_ids"] = torch.zeros_like(input_ids)
        feed = {name: given[name].cpu().long().numpy() for name in self.input_names}
        (hidden,) = self.session.run(["last_hidden_state"], feed)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))

    def state_dict(self, *args, **kwargs):
        raise QuantizationError(SAVE_REFUSAL)


def transformer_pipes(nlp: Language) -> List[str]:
    """Names of the pipes that hold a spacy-transformers encoder."""
    from spacy_transformers.pipeline_component import Transformer

    return [name for name, pipe in nlp.pipeline if isinstance(pipe, Transformer)]


def _encoder_model(nlp: Language, pipe_name: Optional[str]) -> "TransformerModel":
    """The TransformerModel of the named (or only) transformer pipe, with weights."""
    names = transformer_pipes(nlp)
    if not names:
        raise QuantizationError(
            f"The pipeline has no transformer component (pipes: {nlp.pipe_names})."
        )
    if pipe_name is None:
        if len(names) > 1:
            raise QuantizationError(f"Several transformer pipes {names}: name one with pipe_name.")
        pipe_name = names[0]
    elif pipe_name not in names:
        raise QuantizationError(f"'{pipe_name}' is not a transformer pipe; these are: {names}.")
    # A spacy-transformers Transformer (transformer_pipes); spaCy types pipes as callables
    # and spacy-transformers types the pipe's model as any Model.
    pipe = cast("Transformer", nlp.get_pipe(pipe_name))
    model = cast("TransformerModel", pipe.model)
    if not upstream.has_weights(model):
        raise QuantizationError(
            f"'{pipe_name}' has no weights yet: initialize or load the pipeline first."
        )
    return model


def weights_fingerprint(module) -> str:
    """sha256 of the fp32 weights, to tie an int8 file to the encoder it came from."""
    digest = hashlib.sha256()
    for key, tensor in sorted(module.state_dict().items()):
        digest.update(key.encode("utf8"))
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _uses_token_types(module) -> bool:
    # The class's forward: the instance's may be the length-sorted one (length_sorting).
    parameters = inspect.signature(upstream.class_forward(module)).parameters
    return getattr(module.config, "type_vocab_size", 0) > 0 and "token_type_ids" in parameters


class _LastHidden(torch.nn.Module):
    """What is exported: the encoder's own forward, positional inputs, last hidden state."""

    def __init__(self, inner: torch.nn.Module, names: List[str]):
        super().__init__()
        self.inner = inner
        self.names = names

    def forward(self, *args):
        # The class's forward: what is traced must not depend on length sorting.
        stock = upstream.class_forward(self.inner)
        return stock(
            **dict(zip(self.names, args, strict=False)), return_dict=True
        ).last_hidden_state


class _DropOrtQuantizerHints(logging.Filter):
    """ONNX Runtime's quantizer logs hints (pre-processing, meant for CNNs) on the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        from_quantizer = "onnxruntime" in record.pathname and "quantization" in record.pathname
        return not (from_quantizer and record.levelno < logging.ERROR)


@contextmanager
def _quiet_ort_quantizer() -> Iterator[None]:
    """Drop the quantizer's hints only; the root logger's level and handlers stay as they are."""
    root = logging.getLogger()
    quiet = _DropOrtQuantizerHints()
    root.addFilter(quiet)
    try:
        yield
    finally:
        root.removeFilter(quiet)


def export_int8_onnx(module, per_channel: bool = True) -> bytes:
    """Export an fp32 Hugging Face encoder to ONNX and quantize its weights to int8.

    Returns the serialized int8 model. Matrix-multiply weights become int8 (per
    output channel when `per_channel`); activations are quantized on the fly.
    """
    _require_ort()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = list(INPUT_NAMES if _uses_token_types(module) else INPUT_NAMES[:2])
    dummy = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    was_training = module.training
    module.eval()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fp32_path, int8_path = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
            with torch.no_grad():
                torch.onnx.export(
                    _LastHidden(module, names), dummy, str(fp32_path), input_names=names,
                    output_names=["last_hidden_state"], dynamic_axes=axes,
                    opset_version=ONNX_OPSET, dynamo=False,
                )
            with _quiet_ort_quantizer():
                quantize_dynamic(
                    str(fp32_path), str(int8_path), per_channel=per_channel,
                    weight_type=QuantType.QInt8,
                )
            return int8_path.read_bytes()
    finally:
        module.train(was_training)


def is_quantized(nlp: Language, pipe_name: Optional[str] = None) -> bool:
    return isinstance(upstream.running_module(_encoder_model(nlp, pipe_name)), OnnxInt8Encoder)


def quantize_pipeline(
    nlp: Language,
    *,
    onnx_path: Optional[Union[str, Path]] = None,
    pipe_name: Optional[str] = None,
    threads: Optional[int] = None,
    per_channel: bool = True,
) -> Language:
    """Run the pipeline's encoder as int8 on CPU (in place; returns `nlp`).

    With `onnx_path` (from `save_int8_onnx`), the file is checked against the
    encoder's fp32 weights and refused if it came from other weights; without it
    the encoder is exported and quantized now (a few seconds for MiniLM).
    """
    model = _encoder_model(nlp, pipe_name)
    if isinstance(upstream.running_module(model), OnnxInt8Encoder):
        return nlp
    fp32 = model.transformer
    if next(fp32.parameters()).device.type != "cpu":
        raise QuantizationError("int8 ONNX Runtime inference is for CPU; the encoder is on a GPU.")
    fingerprint = weights_fingerprint(fp32)
    if onnx_path is not None:
        onnx_bytes = load_int8_onnx(onnx_path, expected_fingerprint=fingerprint)
    else:
        onnx_bytes = export_int8_onnx(fp32, per_channel=per_channel)
    encoder = OnnxInt8Encoder(fp32, onnx_bytes, fingerprint, threads or torch.get_num_threads())
    upstream.set_running_module(model, encoder)
    return nlp


def dequantize_pipeline(nlp: Language, pipe_name: Optional[str] = None) -> Language:
    """Put the fp32 encoder back (e.g. to save or train the pipeline)."""
    model = _encoder_model(nlp, pipe_name)
    running = upstream.running_module(model)
    if isinstance(running, OnnxInt8Encoder):
        upstream.set_running_module(model, running.fp32_module)
    return nlp


def save_int8_onnx(nlp: Language, path: Union[str, Path], *, pipe_name: Optional[str] = None,
                   per_channel: bool = True) -> Dict:
    """Write the int8 encoder to `path` and `path`.json (fingerprint of the fp32 weights)."""
    model = _encoder_model(nlp, pipe_name)
    running = upstream.running_module(model)
    if isinstance(running, OnnxInt8Encoder):
        onnx_bytes, fingerprint = running.onnx_bytes, running.fingerprint
    else:
        fingerprint = weights_fingerprint(model.transformer)
        onnx_bytes = export_int8_onnx(model.transformer, per_channel=per_channel)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(onnx_bytes)
    info = {"format": "onnx-int8-dynamic", "per_channel": per_channel, "opset": ONNX_OPSET,
            "fp32_fingerprint": fingerprint, "bytes": len(onnx_bytes)}
    _sidecar(path).write_text(json.dumps(info, indent=2) + "\n", encoding="utf8")
    return info


def load_int8_onnx(path: Union[str, Path], expected_fingerprint: Optional[str] = None) -> bytes:
    path = Path(path)
    if not path.exists():
        raise QuantizationError(f"No int8 encoder file at {path}.")
    sidecar = _sidecar(path)
    if not sidecar.exists():
        raise QuantizationError(
            f"{sidecar} is missing: cannot tell which weights {path} came from."
        )
    info = json.loads(sidecar.read_text(encoding="utf8"))
    if expected_fingerprint is not None and info.get("fp32_fingerprint") != expected_fingerprint:
        raise QuantizationError(
            f"{path} was quantized from other weights than this pipeline's encoder "
            f"(fingerprint {str(info.get('fp32_fingerprint'))[:12]}... vs "
            f"{expected_fingerprint[:12]}...). "
            "Write it again from this pipeline with `python -m spacy_clinicalbert quantize`."
        )
    return path.read_bytes()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")
