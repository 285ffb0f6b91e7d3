"""Speed and memory of the pipeline against the raw encoder and Hugging Face's pipeline.

Systems, all on the same texts, with the same torch thread count:
  full         nlp.pipe: clinicalbert + ner + clinical_relations + textcat_multilabel (configs/cpu.cfg)
  full+rules   the same plus clinical_sentences and clinical_context (the medspaCy stage)
  transformer  nlp.pipe with only clinicalbert (+ its trf_data clean-up)
  raw          HF tokenizer + AutoModel forward (torch.inference_mode) on the very windows
               the pipeline makes (window texts computed outside the timer), same batches,
               sorted by length into the same chunks as the pipeline's encoder
  transformer_padded, raw_padded
               the same two without length sorting: every batch padded to its longest window
               (spacy-transformers' stock behaviour; shown when the pipeline sorts)
  hf_tokcls    transformers.pipeline("token-classification", aggregation_strategy="simple")
               with a fresh token-classification head on the same encoder (HF's own windows)
  deid         the de-identification stage alone (clinical_deid's patterns and context rules on
               the clinical tokenizer), the step a workflow runs before convert/pretrain: its
               time over `full`'s, per repetition, is the deid share (target <= 20 %)
Repetitions are interleaved (system order rotates) so load changes hit every system alike; the
median words/s is reported with the 1-minute load average seen during each system's runs. While
N threads are measured the process is pinned to N CPUs (--no-pin: not): on this 2-vCPU machine
an unpinned 1-thread run migrated between CPUs and its repetitions spread over 30 %.

A pipeline's speed does not depend on how well it is trained: without --pipeline the script builds
configs/cpu.cfg on the packaged MiniLM encoder and initializes it on a few ADE docs (untrained).

    python benchmarks/bench_speed.py --quick            # ~5 min: smoke figures
    python benchmarks/bench_speed.py                    # ~25 min on 2 idle cores
Writes benchmarks/results/speed.json (or --output).
"""
import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

if __package__ in (None, ""):  # run as `python benchmarks/bench_speed.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    REPO, RESULTS, count_words, freeze_loaded_objects, load1, mtsamples_texts, pin_to_cpus, rss_mb, sentences,
    quiet_offline, synthetic_note,
)

quiet_offline()

ADE_LABELS = {"ner": ["AE", "DOSE", "DRUG"], "rel": ["DRUG-AE", "DRUG-DOSE"], "cats": ["ADE"]}


# ---------------------------------------------------------------- pipelines
def build_pipeline(base_model: str):
    """configs/cpu.cfg on `base_model`, initialized (not trained) with ADE labels."""
    import spacy
    from spacy.tokens import Doc
    from spacy.training import Example

    from spacy_clinicalbert.relations import add_relation

    config = spacy.util.load_config(REPO / "configs" / "cpu.cfg", overrides={"paths.base_model": base_model}, interpolate=True)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)

    def examples():
        words = "Patient developed severe rash after 20 mg of lisinopril daily .".split()
        doc = Doc(nlp.vocab, words=words)
        doc.ents = [doc.char_span(18, 29, "AE"), doc.char_span(36, 41, "DOSE"), doc.char_span(45, 55, "DRUG")]
        ae, dose, drug = doc.ents
        add_relation(doc, drug, ae, "DRUG-AE")
        add_relation(doc, drug, dose, "DRUG-DOSE")
        doc.cats = {"ADE": 1.0}
        neg = Doc(nlp.vocab, words="No adverse events were reported .".split())
        neg.cats = {"ADE": 0.0}
        return [Example(nlp.make_doc(doc.text), doc), Example(nlp.make_doc(neg.text), neg)]

    nlp.initialize(examples)
    return nlp


def add_rules_stage(nlp):
    """The medspaCy stage: sentence splitter before, ConText after the last listener."""
    nlp.add_pipe("clinical_sentences", first=True)
    nlp.add_pipe("clinical_context", last=True)
    return nlp


def trf_pipe_name(nlp) -> str:
    from spacy_clinicalbert.transformer.quantization import transformer_pipes

    return transformer_pipes(nlp)[0]


# ---------------------------------------------------------------- memory
def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- systems
def window_texts(nlp, texts: List[str], batch_size: int) -> List[List[str]]:
    """The pipeline's windows (span texts), grouped per nlp.pipe batch, computed untimed."""
    pipe = nlp.get_pipe(trf_pipe_name(nlp))
    get_spans = pipe.model.attrs["get_spans"]
    docs = [nlp.make_doc(t) for t in texts]
    return [
        [s.text for doc_spans in get_spans(docs[i:i + batch_size]) for s in doc_spans]
        for i in range(0, len(docs), batch_size)
    ]


def encode_in_chunks(tokenizer, window_batches: List[List[str]], chunk: int, forward: Callable,
                     tensors: str = "pt") -> None:
    """The work the pipeline's encoder does, done by hand: per batch, the windows longest
    first in chunks of at most `chunk` padded wordpieces (one padded call when chunk is 0),
    each chunk passed to `forward` as a dict of `tensors` ("pt" or "np")."""
    from spacy_clinicalbert.transformer.length_sorting import plan_chunks

    tokenizer.deprecation_warnings["Asking-to-pad-a-fast-tokenizer"] = True  # padding ids is the point
    for spans in window_batches:
        ids = tokenizer(spans, truncation=True, max_length=512)["input_ids"]
        groups = plan_chunks([len(x) for x in ids], chunk) if chunk else [list(range(len(ids)))]
        for group in groups:
            forward(tokenizer.pad({"input_ids": [ids[i] for i in group]}, return_tensors=tensors))


def make_systems(nlp, nlp_rules, texts: List[str], batch_size: int, with_hf: bool) -> Dict[str, Callable]:
    import torch
    from transformers import AutoModel, AutoModelForTokenClassification, AutoTokenizer, pipeline

    trf = trf_pipe_name(nlp)
    pipe = nlp.get_pipe(trf)
    # The pipeline's own encoder and tokenizer, so raw and HF runs use the very same weights.
    import tempfile

    model_dir = tempfile.mkdtemp(prefix="bench_speed_encoder_")
    pipe.model.transformer.save_pretrained(model_dir)
    pipe.model.tokenizer.save_pretrained(model_dir)
    cleanup = [n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory == "clinicalbert_cleanup"]

    window_batches = window_texts(nlp, texts, batch_size)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, use_fast=True, model_max_length=512)
    encoder = AutoModel.from_pretrained(model_dir).eval()

    def run_full():
        for _ in nlp.pipe(texts, batch_size=batch_size):
            pass

    def run_rules():
        for _ in nlp_rules.pipe(texts, batch_size=batch_size):
            pass

    def run_transformer():
        with nlp.select_pipes(enable=[trf] + cleanup):
            for _ in nlp.pipe(texts, batch_size=batch_size):
                pass

    chunk = pipe.model.attrs.get("inference_chunk_wordpieces", 0)

    def run_transformer_padded():
        pipe.model.attrs["inference_chunk_wordpieces"] = 0
        try:
            run_transformer()
        finally:
            pipe.model.attrs["inference_chunk_wordpieces"] = chunk

    def run_raw():
        with torch.inference_mode():
            encode_in_chunks(tokenizer, window_batches, chunk, lambda enc: encoder(**enc))

    def run_raw_padded():
        with torch.inference_mode():
            encode_in_chunks(tokenizer, window_batches, 0, lambda enc: encoder(**enc))

    from spacy_clinicalbert.text.tokenizer import blank_clinical

    nlp_deid = blank_clinical()
    nlp_deid.add_pipe("clinical_deid", config={"model": ""})

    def run_deid():
        for _ in nlp_deid.pipe(texts, batch_size=batch_size):
            pass

    systems = {"full": run_full, "full+rules": run_rules, "transformer": run_transformer, "raw": run_raw,
               "deid": run_deid}
    if chunk:
        systems.update({"transformer_padded": run_transformer_padded, "raw_padded": run_raw_padded})
    if with_hf:
        n_labels = 1 + 4 * len(ADE_LABELS["ner"])
        tc_model = AutoModelForTokenClassification.from_pretrained(model_dir, num_labels=n_labels).eval()
        hf = pipeline("token-classification", model=tc_model, tokenizer=tokenizer,
                      aggregation_strategy="simple", stride=128, device=-1)

        def run_hf():
            for _ in hf(texts, batch_size=8):
                pass

        systems["hf_tokcls"] = run_hf
    return systems


def measure(systems: Dict[str, Callable], words: int, reps: int) -> Dict[str, Dict]:
    names = list(systems)
    for name in names:  # warm-up: first call pays allocations and lazy loads
        systems[name]()
    times = {n: [] for n in names}
    loads = {n: [] for n in names}
    peaks = {n: 0.0 for n in names}
    for r in range(reps):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            reset_peak_rss()
            started = time.perf_counter()
            systems[name]()
            times[name].append(time.perf_counter() - started)
            loads[name].append(load1())
            peaks[name] = max(peaks[name], rss_mb("VmHWM"))
    return {
        n: {
            "words_per_s": words / statistics.median(times[n]),
            "seconds": times[n],
            "load1": loads[n],
            "peak_rss_mb": round(peaks[n], 1),
        }
        for n in names
    }


def length_scaling(nlp, pool: List[str], sizes: List[int], words_per_size: int, reps: int, batch_size: int):
    """Full pipeline time per word on synthetic notes of each size (interleaved sizes)."""
    rng = random.Random(1)
    sets = {}
    for size in sizes:
        n = max(1, words_per_size // size)
        notes = [synthetic_note(pool, size, rng) for _ in range(n)]
        sets[size] = (notes, count_words(nlp, notes))
    for notes, _ in sets.values():
        for _ in nlp.pipe(notes[:1]):
            pass
    per_word = {s: [] for s in sizes}
    loads = {s: [] for s in sizes}
    for r in range(reps):
        order = sizes[r % len(sizes):] + sizes[:r % len(sizes)]
        for size in order:
            notes, words = sets[size]
            started = time.perf_counter()
            for _ in nlp.pipe(notes, batch_size=batch_size):
                pass
            per_word[size].append((time.perf_counter() - started) / words * 1e3)
            loads[size].append(load1())
    med = {s: statistics.median(v) for s, v in per_word.items()}
    ref = med[sizes[0]]
    return {
        "ms_per_word": med,
        "relative_to_smallest": {s: med[s] / ref for s in sizes},
        "notes_per_size": {s: len(sets[s][0]) for s in sizes},
        "words_per_size": {s: sets[s][1] for s in sizes},
        "load1": loads,
    }


def memory_run(nlp, pool: List[str], n_docs: int, batch_size: int, doc_words: int, every: int = 500):
    """Stream n_docs short notes through the full pipeline; RSS high-water every `every` docs."""
    rng = random.Random(2)
    texts = (synthetic_note(pool, doc_words, rng) for _ in range(n_docs))
    marks = []
    started = time.perf_counter()
    for i, _ in enumerate(nlp.pipe(texts, batch_size=batch_size), start=1):
        if i % every == 0:
            marks.append({"docs": i, "rss_mb": round(rss_mb(), 1), "peak_rss_mb": round(rss_mb("VmHWM"), 1),
                          "seconds": round(time.perf_counter() - started, 1)})
            print(f"  memory: {i} docs, rss {marks[-1]['rss_mb']} MB, {marks[-1]['seconds']} s", file=sys.stderr)
    base = next(m["peak_rss_mb"] for m in marks if m["docs"] >= min(1000, n_docs))
    final = marks[-1]["peak_rss_mb"]
    return {"docs": n_docs, "doc_words_at_least": doc_words, "marks": marks, "peak_after_1000_mb": base, "peak_final_mb": final,
            "growth_after_1000": (final - base) / base}


# ---------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", help="a saved pipeline folder (default: build configs/cpu.cfg untrained)")
    parser.add_argument("--base-model", default="minilm-offline", help="encoder for the built pipeline")
    parser.add_argument("--threads", default="1,2", help="torch thread counts to measure, comma-separated")
    parser.add_argument("--mtsamples", type=int, default=120, help="MTSamples notes (de-duplicated, shuffled)")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions per system")
    parser.add_argument("--sizes", default="200,500,1000,2000,5000",
                        help="synthetic note sizes in words ('' skips the length-scaling check)")
    parser.add_argument("--systems", default="",
                        help="measure only these systems, comma-separated (e.g. full,raw for a longer look at "
                             "that ratio); default all")
    parser.add_argument("--words-per-size", type=int, default=10000, help="words per synthetic size")
    parser.add_argument("--memory-docs", type=int, default=10000, help="docs streamed for the memory check (0: skip)")
    parser.add_argument("--memory-doc-words", type=int, default=12, help="words per memory-check doc (at least)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--inference-chunk", type=int, default=None,
                        help="override the encoder's inference_chunk_wordpieces (0: stock padded batches)")
    parser.add_argument("--max-batch-items", type=int, default=None,
                        help="override the transformer pipe's max_batch_items (spaCy tokens per encoder call)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the process to N CPUs while measuring N threads (pinned runs spread far less)")
    parser.add_argument("--no-gc-freeze", action="store_true",
                        help="leave the loaded objects to Python's full garbage collections (see the README)")
    parser.add_argument("--no-hf-pipeline", action="store_true", help="skip the HF token-classification pipeline")
    parser.add_argument("--quick", action="store_true", help="small smoke run (~5 min)")
    parser.add_argument("--output", default=str(RESULTS / "speed.json"))
    args = parser.parse_args()
    if args.quick:
        args.mtsamples, args.reps, args.words_per_size, args.memory_docs = 12, 2, 2500, 1500
        args.sizes = "200,1000,2500"
    import spacy
    import torch

    threads = [int(t) for t in args.threads.split(",")]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    t0 = time.perf_counter()
    nlp = spacy.load(args.pipeline) if args.pipeline else build_pipeline(args.base_model)
    nlp_rules = spacy.load(args.pipeline) if args.pipeline else build_pipeline(args.base_model)
    add_rules_stage(nlp_rules)
    for pipeline in (nlp, nlp_rules):
        trf_pipe = pipeline.get_pipe(trf_pipe_name(pipeline))
        if args.inference_chunk is not None:
            trf_pipe.model.attrs["inference_chunk_wordpieces"] = args.inference_chunk
        if args.max_batch_items is not None:
            trf_pipe.cfg["max_batch_items"] = args.max_batch_items
    trf_pipe = nlp.get_pipe(trf_pipe_name(nlp))  # the settings the table's "full" ran with
    texts = mtsamples_texts(args.mtsamples)
    pool = sentences(mtsamples_texts(2000))
    words = count_words(nlp, texts)
    print(f"pipeline {nlp.pipe_names} built in {time.perf_counter() - t0:.0f}s; "
          f"{len(texts)} MTSamples notes, {words} words", file=sys.stderr)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__},
        "pipeline": args.pipeline or f"configs/cpu.cfg on {args.base_model}, initialized only (untrained)",
        "pipe_names": nlp.pipe_names,
        "inference_chunk_wordpieces": trf_pipe.model.attrs.get("inference_chunk_wordpieces"),
        "max_batch_items": trf_pipe.cfg.get("max_batch_items"),
        "mtsamples": {"notes": len(texts), "words": words},
        "command": " ".join(sys.argv),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "threads": {},
    }
    wanted = [name.strip() for name in args.systems.split(",") if name.strip()]
    systems = make_systems(nlp, nlp_rules, texts, args.batch_size,
                           not args.no_hf_pipeline and (not wanted or "hf_tokcls" in wanted))
    unknown = sorted(set(wanted) - set(systems))
    if unknown:
        parser.error(f"--systems: unknown {unknown}; choose from {sorted(systems)}")
    if wanted:
        systems = {name: systems[name] for name in wanted}
    if not args.no_gc_freeze:
        freeze_loaded_objects()
    result["gc_frozen"] = not args.no_gc_freeze
    all_cpus = sorted(os.sched_getaffinity(0))
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        cpus = all_cpus if args.no_pin else pin_to_cpus(n_threads, all_cpus)
        print(f"== {n_threads} thread(s) on CPUs {cpus}", file=sys.stderr)
        figures = measure(systems, words, args.reps)
        scaling = length_scaling(nlp, pool, sizes, args.words_per_size, args.reps, args.batch_size) if sizes else None
        entry = {"cpus": cpus, "mtsamples": figures, "length_scaling": scaling,
                 "targets": targets(figures, scaling)}
        result["threads"][str(n_threads)] = entry
        print_table(n_threads, figures, scaling, entry["targets"])
    os.sched_setaffinity(0, all_cpus)
    if args.memory_docs:
        torch.set_num_threads(threads[-1])
        mem = memory_run(nlp, pool, args.memory_docs, args.batch_size, args.memory_doc_words)
        result["memory"] = mem
        holds = mem["growth_after_1000"] < 0.10
        result["memory"]["target"] = {"growth_lt_10pct": holds}
        print(f"\nmemory over {mem['docs']} docs: peak RSS {mem['peak_after_1000_mb']} MB after 1,000 -> "
              f"{mem['peak_final_mb']} MB at the end: growth {mem['growth_after_1000']:+.1%} "
              f"(target < 10%: {'HOLDS' if holds else 'FAILS'})")
    result["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(f"wrote {args.output} ({result['wall_seconds']} s)")


def speed_ratio(figures: Dict, system: str, baseline: str, target: float) -> Dict:
    """system's speed over baseline's: the median of the per-repetition ratios decides.

    Each repetition runs every system once, so a ratio within one repetition compares runs
    minutes apart at most; the ratio of the medians is kept beside it.
    """
    paired = [b / s for s, b in zip(figures[system]["seconds"], figures[baseline]["seconds"])]
    return {"ratio": statistics.median(paired), "per_repetition": paired,
            "ratio_of_medians": figures[system]["words_per_s"] / figures[baseline]["words_per_s"],
            "target": target}


def targets(figures: Dict, scaling: Optional[Dict]) -> Dict:
    out = {}
    if "full" in figures and "raw" in figures:
        out["full_vs_raw"] = speed_ratio(figures, "full", "raw", 0.9)
    if "full" in figures and "hf_tokcls" in figures:
        out["full_vs_hf_tokcls"] = speed_ratio(figures, "full", "hf_tokcls", 1.2)
    if "full" in figures and "deid" in figures:
        # a cost, not a speed: the deid stage's time over the full pipeline's, per repetition
        share = [d / f for d, f in zip(figures["deid"]["seconds"], figures["full"]["seconds"])]
        out["deid_share_of_full"] = {"ratio": statistics.median(share), "per_repetition": share,
                                     "target": 0.2}
    if scaling:
        spread = max(abs(v - 1) for v in scaling["relative_to_smallest"].values())
        out["length_scaling"] = {"max_deviation": spread, "target": 0.2}
    for key, value in out.items():
        if key == "length_scaling":
            value["holds"] = value["max_deviation"] <= 0.2
        elif key == "deid_share_of_full":
            value["holds"] = value["ratio"] <= value["target"]
        else:
            value["holds"] = value["ratio"] >= value["target"]
    return out


def print_table(n_threads: int, figures: Dict, scaling: Optional[Dict], tgt: Dict) -> None:
    print(f"\n{n_threads} thread(s), MTSamples")
    print(f"{'system':<18} {'words/s':>9} {'peak RSS MB':>12} {'load1':>12}")
    for name, f in figures.items():
        loads = f"{min(f['load1']):.1f}-{max(f['load1']):.1f}"
        print(f"{name:<18} {f['words_per_s']:>9.0f} {f['peak_rss_mb']:>12.0f} {loads:>12}")
    if scaling:
        print("note words  ms/word  x smallest")
        for size, ms in scaling["ms_per_word"].items():
            print(f"{size:>10} {ms:>8.3f} {scaling['relative_to_smallest'][size]:>10.2f}")
    for key, value in tgt.items():
        shown = value.get("ratio", value.get("max_deviation"))
        extra = f" (ratio of medians {value['ratio_of_medians']:.2f})" if "ratio_of_medians" in value else ""
        print(f"target {key}: {shown:.2f}{extra} vs {value['target']} -> {'HOLDS' if value['holds'] else 'FAILS'}")


if __name__ == "__main__":
    main()
