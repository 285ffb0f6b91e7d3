"""`quantize`: write a pipeline's encoder as int8 ONNX for fast CPU inference, and check it.

The check (`compare_encoders`) is a measurement, so it lives here with the command, not in
the library: it switches the encoder back and forth and leaves it as it found it.
"""
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import typer
from wasabi import msg

from . import app


@app.command("quantize")
def quantize_cli(
    pipeline: Path = typer.Argument(
        ...,
        help="A saved spaCy pipeline folder with a clinicalbert (or transformer) component.",
        exists=True,
        file_okay=False,
    ),
    output: Path = typer.Argument(
        ...,
        help="File to write the int8 ONNX encoder to (e.g. encoder.int8.onnx); OUTPUT.json records "
        "which fp32 weights it came from.",
    ),
    pipe_name: Optional[str] = typer.Option(
        None, "--pipe", help="Transformer pipe to quantize when the pipeline has several."
    ),
    per_channel: bool = typer.Option(
        True,
        "--per-channel/--per-tensor",
        help="Int8 scales per output channel (keeps accuracy, measured) or one per weight matrix.",
    ),
    check_texts: Optional[Path] = typer.Option(
        None,
        "--check-texts",
        help="Plain text file, one text per line: compare int8 with fp32 on them (token-vector "
        "cosine, words/s).",
    ),
    threads: int = typer.Option(
        0, "--threads", help="Threads for the speed check (0: torch's current setting)."
    ),
):
    """Export the encoder to ONNX, quantize its weights to int8 and save it.

    Load the pipeline as usual and switch the encoder at run time:
    `quantize_pipeline(nlp, onnx_path=OUTPUT)` from
    spacy_clinicalbert.transformer.quantization. spaCy cannot save an int8 encoder
    as weights; to ship one, write OUTPUT inside the fp32 pipeline folder
    (PIPELINE/encoder.int8.onnx) and quantize after loading with
    `onnx_path=nlp.path / "encoder.int8.onnx"`.
    """
    import spacy

    from ..transformer.quantization import QuantizationError, save_int8_onnx

    nlp = spacy.load(pipeline)
    try:
        started = time.perf_counter()
        info = save_int8_onnx(nlp, output, pipe_name=pipe_name, per_channel=per_channel)
    except QuantizationError as err:
        msg.fail("Cannot quantize", str(err), exits=1)
    msg.good(
        f"Wrote {output} ({info['bytes'] / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s",
        f"fp32 fingerprint {info['fp32_fingerprint'][:12]}... in {output.name}.json",
    )
    if check_texts is None:
        return
    texts = [
        line.strip() for line in check_texts.read_text(encoding="utf8").splitlines() if line.strip()
    ]
    if not texts:
        msg.fail(f"{check_texts} has no non-empty lines", exits=1)
    if threads:
        import torch

        torch.set_num_threads(threads)
    result = compare_encoders(nlp, texts, onnx_path=output, pipe_name=pipe_name)
    msg.table(
        [(k, f"{v:.4g}" if isinstance(v, float) else v) for k, v in result.items()],
        header=("check", "value"),
        divider=True,
    )


def compare_encoders(nlp, texts: Iterable[str], *, onnx_path=None,
                     pipe_name: Optional[str] = None, batch_size: int = 32) -> Dict:
    """Run the encoder fp32 then int8 on the same windows; agreement and words/s.

    Cosines are between fp32 and int8 hidden states: per wordpiece (mean, 1st
    percentile) and per doc (mean of its wordpieces). The encoder is left as it was.
    """
    from ..transformer.quantization import (
        dequantize_pipeline,
        is_quantized,
        quantize_pipeline,
        transformer_pipes,
    )

    texts = list(texts)
    pipe = nlp.get_pipe(pipe_name or transformer_pipes(nlp)[0])
    docs = [nlp.make_doc(text) for text in texts]
    batches = [docs[i:i + batch_size] for i in range(0, len(docs), batch_size)]

    def run():
        started = time.perf_counter()
        outputs = [pipe.model.predict(batch) for batch in batches]
        return outputs, time.perf_counter() - started

    was_quantized = is_quantized(nlp, pipe_name)
    try:
        dequantize_pipeline(nlp, pipe_name)
        run()  # warm-up
        fp32_out, fp32_s = run()
        quantize_pipeline(nlp, onnx_path=onnx_path, pipe_name=pipe_name)
        run()
        int8_out, int8_s = run()
    finally:
        if not was_quantized:
            dequantize_pipeline(nlp, pipe_name)
    words = sum(len(doc) for doc in docs)
    return {
        "texts": len(texts), "words": words,
        "fp32_words_per_s": words / fp32_s, "int8_words_per_s": words / int8_s,
        "speedup": fp32_s / int8_s,
        **hidden_state_agreement(fp32_out, int8_out),
    }


def hidden_state_agreement(reference: List, other: List) -> Dict[str, float]:
    """Cosine of two runs' hidden states (FullTransformerBatch lists over the same windows):
    per real wordpiece (mean, 1st percentile) and per doc (mean of its wordpieces)."""
    import numpy

    piece_cos: List[float] = []
    doc_cos: List[float] = []
    for a, b in zip(reference, other, strict=False):
        x = numpy.asarray(a.model_output.last_hidden_state)
        y = numpy.asarray(b.model_output.last_hidden_state)
        mask = numpy.asarray(a.wordpieces.attention_mask).astype(bool)
        xs, ys = x[mask], y[mask]
        norms = numpy.linalg.norm(xs, axis=-1) * numpy.linalg.norm(ys, axis=-1)
        piece_cos.extend((xs * ys).sum(-1) / (norms + 1e-9))
        for doc_a, doc_b in zip(a.doc_data, b.doc_data, strict=False):
            u = numpy.asarray(doc_a.model_output.last_hidden_state).reshape(-1, x.shape[-1]).mean(0)
            v = numpy.asarray(doc_b.model_output.last_hidden_state).reshape(-1, x.shape[-1]).mean(0)
            doc_cos.append(float(u @ v / (numpy.linalg.norm(u) * numpy.linalg.norm(v) + 1e-9)))
    pieces = numpy.asarray(piece_cos)
    return {
        "wordpiece_cosine_mean": float(pieces.mean()),
        "wordpiece_cosine_p01": float(numpy.percentile(pieces, 1)),
        "doc_cosine_min": float(min(doc_cos)), "doc_cosine_mean": float(numpy.mean(doc_cos)),
    }
