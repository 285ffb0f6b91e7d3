"""Int8 CPU inference for the `clinicalbert` encoder through ONNX Runtime.

Chosen by measurement on this project's 2-core CPU (pitfalls.md, Speed): ONNX
Runtime dynamic int8 with per-channel weights ran MiniLM 2.6-3.8x faster than fp32
eager with doc-vector cosine >= 0.99, while `torch.ao` dynamic quantization lost
too much (cosine 0.91). Needs the optional extra `spacy-clinicalbert[cpu-int8]`.

The quantized encoder replaces the module the spacy-transformers shim runs
(`shims[0]._model`); the fp32 module stays as `_hfmodel.transformer`. spaCy saves
the shim's `state_dict()`, so saving a quantized pipeline would store no usable
weights: `nlp.to_disk` refuses with a clear message instead. Save the fp32
pipeline (`dequantize_pipeline` first) and quantize after `spacy.load`, from a
file written once by `export_int8_onnx` (CLI: `python -m spacy_clinicalbert quantize`).
"""
import hashlib
import json
import logging
import time
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

from spacy.language import Language

ONNX_OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


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


def transformer_pipes(nlp: Language) -> List[str]:
    """Names of the pipes that hold a spacy-transformers encoder."""
    from spacy_transformers.pipeline_component import Transformer

    return [name for name, pipe in nlp.pipeline if isinstance(pipe, Transformer)]


def _shim(nlp: Language, pipe_name: Optional[str]):
    names = transformer_pipes(nlp)
    if not names:
        raise QuantizationError(f"The pipeline has no transformer component (pipes: {nlp.pipe_names}).")
    if pipe_name is None:
        if len(names) > 1:
            raise QuantizationError(f"Several transformer pipes {names}: name one with pipe_name.")
        pipe_name = names[0]
    elif pipe_name not in names:
        raise QuantizationError(f"'{pipe_name}' is not a transformer pipe; these are: {names}.")
    model = nlp.get_pipe(pipe_name).model
    if not model.attrs.get("has_transformer"):
        raise QuantizationError(f"'{pipe_name}' has no weights yet: initialize or load the pipeline first.")
    return model.layers[0].shims[0]


def weights_fingerprint(module) -> str:
    """sha256 of the fp32 weights, to tie an int8 file to the encoder it came from."""
    digest = hashlib.sha256()
    for key, tensor in sorted(module.state_dict().items()):
        digest.update(key.encode("utf8"))
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _uses_token_types(module) -> bool:
    return getattr(module.config, "type_vocab_size", 0) > 0 and "token_type_ids" in (
        type(module).forward.__code__.co_varnames  # the class's: the instance may be length-sorted
    )


def export_int8_onnx(module, per_channel: bool = True) -> bytes:
    """Export an fp32 Hugging Face encoder to ONNX and quantize its weights to int8.

    Returns the serialized int8 model. Matrix-multiply weights become int8 (per
    output channel when `per_channel`); activations are quantized on the fly.
    """
    _require_ort()
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = list(INPUT_NAMES if _uses_token_types(module) else INPUT_NAMES[:2])
    dummy = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}

    class _LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            # The class's own forward: what is traced must not depend on length sorting.
            stock = type(self.inner).forward
            return stock(self.inner, **dict(zip(names, args)), return_dict=True).last_hidden_state

    was_training = module.training
    module.eval()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fp32_path, int8_path = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
            with torch.no_grad():
                torch.onnx.export(
                    _LastHidden(module), dummy, str(fp32_path), input_names=names,
                    output_names=["last_hidden_state"], dynamic_axes=axes,
                    opset_version=ONNX_OPSET, dynamo=False,
                )
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # ORT logs a pre-processing hint meant for CNNs
            try:
                quantize_dynamic(
                    str(fp32_path), str(int8_path), per_channel=per_channel,
                    weight_type=QuantType.QInt8,
                )
            finally:
                root.setLevel(level)
            return int8_path.read_bytes()
    finally:
        module.train(was_training)


def _make_wrapper_class():
    import torch
    from transformers.modeling_outputs import BaseModelOutput

    class OnnxInt8Encoder(torch.nn.Module):
        """Stands in for the HF encoder inside the spaCy shim; inference only."""

        def __init__(self, fp32_module, onnx_bytes: bytes, fingerprint: str, threads: int):
            super().__init__()
            ort = _require_ort()
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self.session = ort.InferenceSession(
                onnx_bytes, options, providers=["CPUExecutionProvider"]
            )
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
            raise QuantizationError(
                "This pipeline runs an int8 ONNX Runtime encoder, which spaCy cannot save "
                "(it would store no usable weights). Call "
                "spacy_clinicalbert.transformer.quantization.dequantize_pipeline(nlp) and save "
                "the fp32 pipeline; quantize again after spacy.load with quantize_pipeline(nlp, "
                "onnx_path=...) using a file from `python -m spacy_clinicalbert quantize`."
            )

    return OnnxInt8Encoder


def is_quantized(nlp: Language, pipe_name: Optional[str] = None) -> bool:
    return type(_shim(nlp, pipe_name)._model).__name__ == "OnnxInt8Encoder"


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
    import torch

    shim = _shim(nlp, pipe_name)
    if type(shim._model).__name__ == "OnnxInt8Encoder":
        return nlp
    fp32 = shim._hfmodel.transformer
    if next(fp32.parameters()).device.type != "cpu":
        raise QuantizationError("int8 ONNX Runtime inference is for CPU; the encoder is on a GPU.")
    fingerprint = weights_fingerprint(fp32)
    if onnx_path is not None:
        onnx_bytes = load_int8_onnx(onnx_path, expected_fingerprint=fingerprint)
    else:
        onnx_bytes = export_int8_onnx(fp32, per_channel=per_channel)
    wrapper = _make_wrapper_class()(
        fp32, onnx_bytes, fingerprint, threads or torch.get_num_threads()
    )
    shim._model = wrapper
    return nlp


def dequantize_pipeline(nlp: Language, pipe_name: Optional[str] = None) -> Language:
    """Put the fp32 encoder back (e.g. to save or train the pipeline)."""
    shim = _shim(nlp, pipe_name)
    if type(shim._model).__name__ == "OnnxInt8Encoder":
        shim._model = shim._model.fp32_module
    return nlp


def save_int8_onnx(nlp: Language, path: Union[str, Path], *, pipe_name: Optional[str] = None,
                   per_channel: bool = True) -> Dict:
    """Write the int8 encoder to `path` and `path`.json (fingerprint of the fp32 weights)."""
    shim = _shim(nlp, pipe_name)
    model = shim._model
    if type(model).__name__ == "OnnxInt8Encoder":
        onnx_bytes, fingerprint = model.onnx_bytes, model.fingerprint
    else:
        fingerprint = weights_fingerprint(shim._hfmodel.transformer)
        onnx_bytes = export_int8_onnx(shim._hfmodel.transformer, per_channel=per_channel)
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
        raise QuantizationError(f"{sidecar} is missing: cannot tell which weights {path} came from.")
    info = json.loads(sidecar.read_text(encoding="utf8"))
    if expected_fingerprint is not None and info.get("fp32_fingerprint") != expected_fingerprint:
        raise QuantizationError(
            f"{path} was quantized from other weights than this pipeline's encoder "
            f"(fingerprint {str(info.get('fp32_fingerprint'))[:12]}... vs {expected_fingerprint[:12]}...). "
            "Write it again from this pipeline with `python -m spacy_clinicalbert quantize`."
        )
    return path.read_bytes()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def compare_encoders(nlp: Language, texts: Iterable[str], *, onnx_path=None,
                     pipe_name: Optional[str] = None, batch_size: int = 32) -> Dict:
    """Run the encoder fp32 then int8 on the same windows; agreement and words/s.

    Cosines are between fp32 and int8 hidden states: per wordpiece (mean, 1st
    percentile) and per doc (mean of its wordpieces). Leaves the pipeline int8.
    """
    import numpy

    texts = list(texts)
    names = transformer_pipes(nlp)
    pipe = nlp.get_pipe(pipe_name or names[0])
    docs = [nlp.make_doc(text) for text in texts]
    words = sum(len(doc) for doc in docs)
    batches = [docs[i:i + batch_size] for i in range(0, len(docs), batch_size)]

    def run():
        started = time.perf_counter()
        outputs = [pipe.model.predict(batch) for batch in batches]
        return outputs, time.perf_counter() - started

    dequantize_pipeline(nlp, pipe_name)
    run()  # warm-up
    fp32_out, fp32_s = run()
    quantize_pipeline(nlp, onnx_path=onnx_path, pipe_name=pipe_name)
    run()
    int8_out, int8_s = run()
    piece_cos, doc_cos = [], []
    for a, b in zip(fp32_out, int8_out):
        x = numpy.asarray(a.model_output.last_hidden_state)
        y = numpy.asarray(b.model_output.last_hidden_state)
        mask = numpy.asarray(a.wordpieces.attention_mask).astype(bool)
        xs, ys = x[mask], y[mask]
        piece_cos.extend((xs * ys).sum(-1) / (numpy.linalg.norm(xs, axis=-1) * numpy.linalg.norm(ys, axis=-1) + 1e-9))
        for doc_a, doc_b in zip(a.doc_data, b.doc_data):
            u = numpy.asarray(doc_a.model_output.last_hidden_state).reshape(-1, x.shape[-1]).mean(0)
            v = numpy.asarray(doc_b.model_output.last_hidden_state).reshape(-1, x.shape[-1]).mean(0)
            doc_cos.append(float(u @ v / (numpy.linalg.norm(u) * numpy.linalg.norm(v) + 1e-9)))
    piece_cos = numpy.asarray(piece_cos)
    return {
        "texts": len(texts), "words": words,
        "fp32_words_per_s": words / fp32_s, "int8_words_per_s": words / int8_s,
        "speedup": fp32_s / int8_s,
        "wordpiece_cosine_mean": float(piece_cos.mean()),
        "wordpiece_cosine_p01": float(numpy.percentile(piece_cos, 1)),
        "doc_cosine_min": float(min(doc_cos)), "doc_cosine_mean": float(numpy.mean(doc_cos)),
    }
