"""Int8 ONNX Runtime encoder: close to fp32, refuses to be saved, files tied to their weights."""
import numpy
import pytest
import spacy
import torch

from spacy_clinicalbert.cli.quantize import compare_encoders
from spacy_clinicalbert.transformer.quantization import (
    QuantizationError,
    dequantize_pipeline,
    is_quantized,
    quantize_pipeline,
    save_int8_onnx,
)

TEXTS = [
    "patient denies chest pain and fever after taking aspirin 81 mg daily",
    "mother with breast cancer . ct scan showed left lung mass",
    "developed rash and nausea after warfarin , admitted for bleeding",
]


@pytest.fixture(scope="module")
def nlp(tiny_bert):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    nlp.initialize()
    nlp.remove_pipe("clinicalbert_cleanup")  # keep trf_data to compare
    return nlp


@pytest.fixture(scope="module")
def int8_file(nlp, tmp_path_factory):
    """Export once; the tests then switch the encoder from this file (fast)."""
    path = tmp_path_factory.mktemp("int8") / "encoder.int8.onnx"
    save_int8_onnx(nlp, path)
    return path


def _hidden(nlp):
    return [doc._.trf_data.model_output.last_hidden_state for doc in nlp.pipe(TEXTS)]


def test_int8_close_to_fp32_and_reversible(nlp):
    fp32 = _hidden(nlp)
    quantize_pipeline(nlp)  # exports on the fly
    assert is_quantized(nlp)
    int8 = _hidden(nlp)
    for x, y in zip(fp32, int8):
        x, y = numpy.asarray(x).reshape(-1, x.shape[-1]), numpy.asarray(y).reshape(-1, y.shape[-1])
        assert x.shape == y.shape
        cos = (x * y).sum(-1) / (numpy.linalg.norm(x, axis=-1) * numpy.linalg.norm(y, axis=-1))
        assert cos.min() > 0.98
        assert not numpy.allclose(x, y)  # really a different (int8) computation
    dequantize_pipeline(nlp)
    assert not is_quantized(nlp)
    again = _hidden(nlp)
    assert all(numpy.allclose(a, b, atol=1e-5) for a, b in zip(fp32, again))


def test_quantized_pipeline_refuses_to_save_then_saves_fp32(nlp, tmp_path, int8_file):
    quantize_pipeline(nlp, onnx_path=int8_file)
    with pytest.raises(QuantizationError, match="dequantize_pipeline"):
        nlp.to_disk(tmp_path / "int8")
    dequantize_pipeline(nlp)
    nlp.to_disk(tmp_path / "fp32")
    loaded = spacy.load(tmp_path / "fp32")
    assert "clinicalbert" in loaded.pipe_names
    a = nlp.get_pipe("clinicalbert").model.predict([nlp.make_doc(TEXTS[0])])
    b = loaded.get_pipe("clinicalbert").model.predict([loaded.make_doc(TEXTS[0])])
    assert numpy.allclose(a.model_output.last_hidden_state, b.model_output.last_hidden_state, atol=1e-5)


def test_training_a_quantized_encoder_is_refused(nlp, int8_file):
    from spacy.training import Example

    quantize_pipeline(nlp, onnx_path=int8_file)
    example = Example(nlp.make_doc(TEXTS[0]), nlp.make_doc(TEXTS[0]))
    with pytest.raises(QuantizationError, match="inference only"):
        nlp.update([example], sgd=None)
    dequantize_pipeline(nlp)


def test_saved_int8_file_loads_only_for_its_weights(nlp, tmp_path, tiny_bert, int8_file):
    path = int8_file
    assert path.stat().st_size > 1000 and path.with_name(path.name + ".json").exists()
    loaded = spacy.load(_saved(nlp, tmp_path))
    quantize_pipeline(loaded, onnx_path=path)
    assert is_quantized(loaded)
    dequantize_pipeline(loaded)
    other = spacy.blank("en")
    other.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    import torch

    torch.manual_seed(1)
    other.initialize()
    shim = other.get_pipe("clinicalbert").model.layers[0].shims[0]
    with torch.no_grad():
        next(shim._model.parameters()).add_(0.5)  # other weights than the file's
    with pytest.raises(QuantizationError, match="other weights"):
        quantize_pipeline(other, onnx_path=path)
    with pytest.raises(QuantizationError, match="No int8 encoder"):
        quantize_pipeline(loaded, onnx_path=tmp_path / "missing.onnx")


def test_compare_encoders_reports_agreement(nlp, int8_file):
    result = compare_encoders(nlp, TEXTS * 4, onnx_path=int8_file, batch_size=4)
    dequantize_pipeline(nlp)
    assert result["texts"] == 12 and result["words"] > 100
    assert 0.98 < result["doc_cosine_min"] <= 1.0 + 1e-6
    assert result["fp32_words_per_s"] > 0 and result["int8_words_per_s"] > 0


def test_int8_file_ships_inside_the_fp32_pipeline_folder(nlp, tmp_path, int8_file):
    """The supported way to ship int8 (README): fp32 weights plus the int8 file in one folder."""
    import shutil

    folder = _saved(nlp, tmp_path)
    for source in (int8_file, int8_file.with_name(int8_file.name + ".json")):
        shutil.copy(source, folder / source.name.replace(int8_file.name, "encoder.int8.onnx"))
    loaded = spacy.load(folder)
    quantize_pipeline(loaded, onnx_path=loaded.path / "encoder.int8.onnx")
    assert is_quantized(loaded)
    assert isinstance(loaded.get_pipe("clinicalbert").model.transformer, torch.nn.Module)
    int8 = loaded(TEXTS[0])._.trf_data.model_output.last_hidden_state
    dequantize_pipeline(loaded)
    fp32 = loaded(TEXTS[0])._.trf_data.model_output.last_hidden_state
    assert int8.shape == fp32.shape and not numpy.allclose(int8, fp32)


def test_export_leaves_the_root_logger_alone(nlp):
    import logging

    from spacy_clinicalbert.transformer.quantization import export_int8_onnx

    root = logging.getLogger()
    level, filters = root.level, list(root.filters)
    root.setLevel(logging.INFO)
    try:
        export_int8_onnx(nlp.get_pipe("clinicalbert").model.transformer)
        assert root.level == logging.INFO and root.filters == filters
    finally:
        root.setLevel(level)


def test_pipeline_without_transformer_is_named_in_error():
    with pytest.raises(QuantizationError, match="no transformer"):
        quantize_pipeline(spacy.blank("en"))


def _saved(nlp, tmp_path):
    dequantize_pipeline(nlp)
    nlp.to_disk(tmp_path / "pipe")
    return tmp_path / "pipe"
