"""`quantize`: write a pipeline's encoder as int8 ONNX for fast CPU inference."""
import time
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from . import app


@app.command("quantize")
def quantize_cli(
    pipeline: Path = typer.Argument(..., help="A saved spaCy pipeline folder with a clinicalbert (or transformer) component.", exists=True, file_okay=False),
    output: Path = typer.Argument(..., help="File to write the int8 ONNX encoder to (e.g. encoder.int8.onnx); OUTPUT.json records which fp32 weights it came from."),
    pipe_name: Optional[str] = typer.Option(None, "--pipe", help="Transformer pipe to quantize when the pipeline has several."),
    per_channel: bool = typer.Option(True, "--per-channel/--per-tensor", help="Int8 scales per output channel (keeps accuracy, measured) or one per weight matrix."),
    check_texts: Optional[Path] = typer.Option(None, "--check-texts", help="Plain text file, one text per line: compare int8 with fp32 on them (token-vector cosine, words/s)."),
    threads: int = typer.Option(0, "--threads", help="Threads for the speed check (0: torch's current setting)."),
):
    """Export the encoder to ONNX, quantize its weights to int8 and save it.

    Load the pipeline as usual and switch the encoder at run time:
    `quantize_pipeline(nlp, onnx_path=OUTPUT)` from
    spacy_clinicalbert.transformer.quantization. The pipeline folder is not
    changed: spaCy cannot save an ONNX encoder inside it.
    """
    import spacy

    from ..transformer.quantization import (
        QuantizationError,
        dequantize_pipeline,
        save_int8_onnx,
    )

    nlp = spacy.load(pipeline)
    try:
        started = time.perf_counter()
        info = save_int8_onnx(nlp, output, pipe_name=pipe_name, per_channel=per_channel)
    except QuantizationError as err:
        msg.fail("Cannot quantize", str(err), exits=1)
    msg.good(f"Wrote {output} ({info['bytes'] / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s",
             f"fp32 fingerprint {info['fp32_fingerprint'][:12]}... in {output.name}.json")
    if check_texts is None:
        return
    texts = [line.strip() for line in check_texts.read_text(encoding="utf8").splitlines() if line.strip()]
    if not texts:
        msg.fail(f"{check_texts} has no non-empty lines", exits=1)
    if threads:
        import torch

        torch.set_num_threads(threads)
    from ..transformer.quantization import compare_encoders

    result = compare_encoders(nlp, texts, onnx_path=output, pipe_name=pipe_name)
    dequantize_pipeline(nlp, pipe_name)
    msg.table(
        [(k, f"{v:.4g}" if isinstance(v, float) else v) for k, v in result.items()],
        header=("check", "value"),
        divider=True,
    )
