"""Benchmark: domain pretraining on MTSamples, held-out perplexity before and after.

Runs `spacy_clinicalbert.pretraining` on ../shared/data/mtsamples/mtsamples.csv
(column `transcription`; de-duplicated; a hash-chosen held-out part) from a base model
(default: the packaged MiniLM encoder), then prints a table and writes JSON under
benchmarks/results/. The model folder goes to --output (outside the repository).

    OMP_NUM_THREADS=1 nohup python benchmarks/bench_pretraining.py --max-steps 300 \
        --output /tmp/pretrain_mtsamples > /tmp/bench_pretraining.log 2>&1 &
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/bench_pretraining.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import MTSAMPLES, RESULTS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=MTSAMPLES, help="MTSamples CSV")
    parser.add_argument("--text-field", default="transcription")
    parser.add_argument("--base-model", default="minilm-offline")
    parser.add_argument("--output", type=Path, default=Path("/tmp/pretrain_mtsamples"))
    parser.add_argument("--objective", default="mlm", choices=["mlm", "mlm+nsp"])
    parser.add_argument("--whole-word-mask", action="store_true")
    parser.add_argument("--max-steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--grad-accum", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--eval-fraction", type=float, default=0.05)
    parser.add_argument("--max-eval-sequences", type=int, default=400)
    parser.add_argument("--max-notes", type=int, default=None)
    parser.add_argument("--save-steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--name", default=None, help="results file stem")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from spacy_clinicalbert.pretraining import PretrainingSettings, run_pretraining

    settings = PretrainingSettings(
        inputs=[args.data], output_dir=args.output, base_model=args.base_model,
        text_field=args.text_field, objective=args.objective, whole_word_mask=args.whole_word_mask,
        max_steps=args.max_steps, batch_size=args.batch_size, grad_accum=args.grad_accum,
        learning_rate=args.learning_rate, max_length=args.max_length, eval_fraction=args.eval_fraction,
        max_eval_sequences=args.max_eval_sequences, max_notes=args.max_notes,
        save_steps=args.save_steps, logging_steps=10, seed=args.seed, resume=args.resume,
        progress=False,
    )
    start = time.time()
    record = run_pretraining(settings)
    wall = time.time() - start
    ev = record["evaluation"]
    before, after = ev["held_out_perplexity_before"], ev["held_out_perplexity_after"]
    fit = ev["vocabulary_fit"]
    notes = record["corpus"]["notes"]
    training = record["training"]
    steps_done = training["global_step"] - training["start_step"]
    result = {
        "command": " ".join([sys.executable.rsplit("/", 1)[-1]] + sys.argv),
        "base_model": args.base_model,
        "objective": args.objective + (" (whole-word)" if args.whole_word_mask else ""),
        "notes": notes,
        "train_sequences": record["corpus"]["train_sequences"],
        "eval_sequences": record["corpus"]["eval_sequences"],
        "steps": f"{training['start_step']} -> {training['global_step']}",
        "batch": training["effective_batch_size"],
        "learning_rate": args.learning_rate,
        "train_seconds": training["train_seconds"],
        "seconds_per_step": round(training["train_seconds"] / max(steps_done, 1), 2),
        "wall_seconds": round(wall, 1),
        "perplexity_before": before,
        "perplexity_after": after,
        "vocabulary_fit": fit,
        "newly_initialised_weights": record["base_model"]["newly_initialised_weights"],
        "loss_curve": training["loss_curve"],
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "python": platform.python_version(),
        },
        "versions": record["versions"],
        "output": str(args.output),
    }
    rows = [
        ("notes read / duplicates / empty", f"{notes['notes_read']} / {notes['duplicates_skipped']} / "
         f"{notes['empty_records_skipped'] + notes['empty_after_preparation_skipped']}"),
        ("train notes / held-out notes", f"{notes['train_notes']} / {notes['eval_notes']}"),
        ("train / held-out sequences", f"{result['train_sequences']} / {result['eval_sequences']}"),
        ("steps (batch)", f"{result['steps']} ({result['batch']})"),
        ("train time (s/step)", f"{training['train_seconds']} s ({result['seconds_per_step']})"),
        ("held-out perplexity before", before and before["perplexity"]),
        ("held-out perplexity after", after and after["perplexity"]),
        ("masked accuracy before -> after", before and f"{before['masked_accuracy']} -> {after['masked_accuracy']}"),
        ("[UNK] share / wordpieces per word", f"{fit['unk_share']} / {fit['wordpieces_per_word']}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = args.name or f"pretraining_mtsamples_{args.base_model.replace('/', '_')}_{args.objective.replace('+', '_')}"
    path = RESULTS / f"{stem}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
