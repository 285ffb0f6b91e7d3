"""Int8 (ONNX Runtime, per-channel dynamic) against fp32 for the clinicalbert encoder on CPU.

Speed, interleaved on the same MTSamples windows and thread count:
  raw_fp32        HF tokenizer + AutoModel forward (torch.inference_mode), the reference, on
                  the pipeline's windows sorted into the pipeline's chunks (as in bench_speed)
  raw_int8        HF tokenizer + the int8 ONNX session on the same windows and chunks
  pipe_fp32/int8  nlp.pipe of the whole pipeline with the fp32 / int8 encoder
Agreement: wordpiece and doc-vector cosine between fp32 and int8 hidden states.
Accuracy (with --pipeline trained on ADE and --test): entity F1, relation F1 and ADE-category F1
on the test split, fp32 then int8, and the difference. Target: int8 >= 1.5x raw_fp32, <= 1 F1 point lost,
printed for the encoder alone (raw_int8) and for the whole int8 pipeline (pipe_int8). Ratios are
medians of per-repetition ratios; N threads run pinned to N CPUs, loaded objects frozen out of GC
(as in bench_speed).

    python benchmarks/bench_quantization.py --quick                       # ~3 min, untrained pipeline
    python benchmarks/bench_quantization.py --pipeline training/model-best --test corpus/test.spacy
Writes benchmarks/results/quantization.json (or --output).
"""
import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if __package__ in (None, ""):  # run as `python benchmarks/bench_quantization.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_speed import build_pipeline, encode_in_chunks, speed_ratio, trf_pipe_name, window_texts  # noqa: E402
from benchmarks.common import (  # noqa: E402
    REPO, count_words, freeze_loaded_objects, load1, mtsamples_texts, pin_to_cpus,
)


def evaluate(nlp, test_path: str, limit: int):
    from spacy.tokens import DocBin
    from spacy.training import Example

    docs = list(DocBin().from_disk(test_path).get_docs(nlp.vocab))[: limit or None]
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in docs]
    scores = nlp.evaluate(examples)
    cats = scores.get("cats_f_per_type") or {}
    return {
        "docs": len(docs),
        "ents_f": scores.get("ents_f"),
        "rel_micro_f": scores.get("rel_micro_f"),
        "ade_sentence_f": (cats.get("ADE") or {}).get("f"),
        "ents_per_type": {k: v["f"] for k, v in (scores.get("ents_per_type") or {}).items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", help="saved pipeline (default: configs/cpu.cfg on MiniLM, untrained)")
    parser.add_argument("--test", help="test .spacy for the F1 cost (needs a trained --pipeline)")
    parser.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test docs (0: all)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--mtsamples", type=int, default=60)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-batch-items", type=int, default=None,
                        help="override the transformer pipe's max_batch_items (spaCy tokens per encoder call)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "quantization.json"))
    args = parser.parse_args()
    if args.quick:
        args.mtsamples, args.reps, args.test_limit = 10, 2, args.test_limit or 200
    import numpy
    import spacy
    import torch
    from transformers import AutoModel, AutoTokenizer

    from spacy_clinicalbert.cli.quantize import hidden_state_agreement
    from spacy_clinicalbert.transformer.model_resolution import resolve_base_model
    from spacy_clinicalbert.transformer.quantization import (
        dequantize_pipeline,
        quantize_pipeline,
        save_int8_onnx,
        weights_fingerprint,
    )
    import tempfile

    tmp_dir = tempfile.mkdtemp(prefix="bench_int8_")

    t0 = time.perf_counter()
    nlp = spacy.load(args.pipeline) if args.pipeline else build_pipeline("minilm-offline")
    trf = trf_pipe_name(nlp)
    if args.max_batch_items is not None:
        nlp.get_pipe(trf).cfg["max_batch_items"] = args.max_batch_items
    chunk = nlp.get_pipe(trf).model.attrs.get("inference_chunk_wordpieces", 0)
    fp32_module = nlp.get_pipe(trf).model.transformer
    started = time.perf_counter()
    int8_file = Path(tmp_dir) / "encoder.int8.onnx"
    save_int8_onnx(nlp, int8_file)
    onnx_bytes = int8_file.read_bytes()
    export_s = time.perf_counter() - started
    texts = mtsamples_texts(args.mtsamples)
    words = count_words(nlp, texts)
    docs = [nlp.make_doc(t) for t in texts]
    batches = window_texts(nlp, texts, args.batch_size)
    tokenizer = nlp.get_pipe(trf).model.tokenizer
    if args.pipeline is None:
        tokenizer = AutoTokenizer.from_pretrained(resolve_base_model("minilm-offline"), model_max_length=512)
    encoder = AutoModel.from_config(fp32_module.config)
    encoder.load_state_dict(fp32_module.state_dict())
    encoder.eval()
    import onnxruntime as ort

    result = {"pipeline": args.pipeline or "configs/cpu.cfg on minilm-offline, initialized only (untrained)",
              "command": " ".join(sys.argv), "export_seconds": round(export_s, 1),
              "int8_bytes": len(onnx_bytes), "fp32_fingerprint": weights_fingerprint(fp32_module)[:16],
              "mtsamples": {"notes": len(texts), "words": words}, "threads": {},
              "inference_chunk_wordpieces": chunk,
              "max_batch_items": nlp.get_pipe(trf).cfg.get("max_batch_items")}

    freeze_loaded_objects()
    all_cpus = sorted(os.sched_getaffinity(0))
    for n_threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(n_threads)
        pin_to_cpus(n_threads, all_cpus)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = n_threads, 1
        session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        inputs = [i.name for i in session.get_inputs()]

        def raw_fp32():
            with torch.inference_mode():
                encode_in_chunks(tokenizer, batches, chunk, lambda enc: encoder(**enc))

        def int8_forward(enc):
            ids = enc["input_ids"].astype("int64")
            given = {"input_ids": ids, "attention_mask": enc["attention_mask"].astype("int64"),
                     "token_type_ids": numpy.zeros_like(ids)}
            session.run(None, {k: given[k] for k in inputs})

        def raw_int8():
            encode_in_chunks(tokenizer, batches, chunk, int8_forward, tensors="np")

        def switch(name):  # outside the timer
            if name == "pipe_int8":
                dequantize_pipeline(nlp)
                quantize_pipeline(nlp, onnx_path=int8_file, threads=n_threads)
            elif name == "pipe_fp32":
                dequantize_pipeline(nlp)

        def run_pipe():
            for _ in nlp.pipe(texts, batch_size=args.batch_size):
                pass

        systems = {"raw_fp32": raw_fp32, "raw_int8": raw_int8, "pipe_fp32": run_pipe, "pipe_int8": run_pipe}
        for name, fn in systems.items():
            switch(name)
            fn()
        times = {n: [] for n in systems}
        loads = {n: [] for n in systems}
        names = list(systems)
        for r in range(args.reps):
            for name in names[r % 4:] + names[:r % 4]:
                switch(name)
                s = time.perf_counter()
                systems[name]()
                times[name].append(time.perf_counter() - s)
                loads[name].append(load1())
        fig = {n: {"words_per_s": words / statistics.median(t), "seconds": t, "load1": loads[n]}
               for n, t in times.items()}
        ratios = {"raw_int8_vs_raw_fp32": speed_ratio(fig, "raw_int8", "raw_fp32", 1.5),
                  "pipe_int8_vs_raw_fp32": speed_ratio(fig, "pipe_int8", "raw_fp32", 1.5),
                  "pipe_int8_vs_pipe_fp32": speed_ratio(fig, "pipe_int8", "pipe_fp32", 1.0),
                  "pipe_fp32_vs_raw_fp32": speed_ratio(fig, "pipe_fp32", "raw_fp32", 0.9)}
        speedup = ratios["raw_int8_vs_raw_fp32"]["ratio"]
        pipe_vs_raw = ratios["pipe_int8_vs_raw_fp32"]["ratio"]
        result["threads"][str(n_threads)] = {
            "figures": fig,
            "cpus": sorted(os.sched_getaffinity(0)),
            "ratios": ratios,  # median of per-repetition ratios (ratio_of_medians beside it)
            "raw_int8_vs_raw_fp32": speedup,
            "pipe_int8_vs_raw_fp32": pipe_vs_raw,
            "pipe_int8_vs_pipe_fp32": ratios["pipe_int8_vs_pipe_fp32"]["ratio"],
            "target_1_5x_holds": speedup >= 1.5,  # the encoder: int8 vs the fp32 raw forward
            "target_1_5x_pipeline_holds": pipe_vs_raw >= 1.5,  # what a user runs: the int8 pipeline
        }
        print(f"\n{n_threads} thread(s): {'system':<10} {'words/s':>8} load1")
        for n, f in fig.items():
            print(f"{'':15}{n:<10} {f['words_per_s']:>8.0f} {min(f['load1']):.1f}-{max(f['load1']):.1f}")
        print(f"  encoder int8 / fp32 raw forward {speedup:.2f}x (target >= 1.5x: "
              f"{'HOLDS' if speedup >= 1.5 else 'FAILS'}); int8 pipeline / fp32 raw {pipe_vs_raw:.2f}x "
              f"({'HOLDS' if pipe_vs_raw >= 1.5 else 'FAILS'}); fp32 pipeline / fp32 raw "
              f"{ratios['pipe_fp32_vs_raw_fp32']['ratio']:.2f}x")

    # Agreement of hidden states on the same windows.
    pin_to_cpus(len(all_cpus), all_cpus)
    dequantize_pipeline(nlp)
    pipe_obj = nlp.get_pipe(trf)
    a = [pipe_obj.model.predict(docs[i:i + 16]) for i in range(0, len(docs), 16)]
    quantize_pipeline(nlp, onnx_path=int8_file)
    b = [pipe_obj.model.predict(docs[i:i + 16]) for i in range(0, len(docs), 16)]
    result["agreement"] = hidden_state_agreement(a, b)
    print("agreement:", {k: round(v, 4) for k, v in result["agreement"].items()})

    if args.test:
        torch.set_num_threads(int(args.threads.split(",")[-1]))
        dequantize_pipeline(nlp)
        fp32 = evaluate(nlp, args.test, args.test_limit)
        quantize_pipeline(nlp, onnx_path=int8_file)
        int8 = evaluate(nlp, args.test, args.test_limit)
        dequantize_pipeline(nlp)
        cost = {k: (fp32[k] - int8[k]) * 100 for k in ("ents_f", "rel_micro_f", "ade_sentence_f")
                if fp32.get(k) is not None and int8.get(k) is not None}
        result["accuracy"] = {"test": args.test, "fp32": fp32, "int8": int8, "f1_points_lost": cost,
                              "target_le_1_point_holds": all(v <= 1.0 for v in cost.values())}
        print(f"ADE test ({fp32['docs']} docs) fp32 / int8 / points lost:")
        for k, v in cost.items():
            print(f"  {k:<16} {fp32[k] * 100:6.2f} {int8[k] * 100:6.2f} {v:+.2f}")
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(f"wrote {args.output} ({result['wall_seconds']} s)")


if __name__ == "__main__":
    main()
