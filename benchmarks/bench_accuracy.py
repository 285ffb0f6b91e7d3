"""Accuracy on public corpora, under a stated CPU budget, beside published anchors.

ADE Corpus V2 (document-grouped split by PubMed id, the project's converter): entity F1,
end-to-end relation F1 (predicted entities; a relation counts only with both spans and labels
right) and ADE-sentence F1 (the ADE category), with configs/cpu.cfg.
MTSamples specialty (de-duplicated texts, the project's csv converter with --dedupe): accuracy and
macro F1, with benchmarks/configs/mtsamples_textcat.cfg (fine-tuning: each epoch takes about 35 minutes
here) or, with --frozen-encoder, mtsamples_textcat_frozen.cfg (textcat trained on an encoder that is
assembled once and not updated: several epochs fit the same budget).
Each from the packaged MiniLM encoder (minilm-offline) and, with --domain-model, from a
domain-pretrained encoder folder (e.g. the workflow's models/pretrained or Bio_ClinicalBERT).
Anchor: SpERT (Eberts & Ulges 2020) on ADE, 10-fold CV: 89.3 entity F1, 78.8 relation F1.

The budget is --max-steps training steps (default 300) and --train-limit / --dev-limit docs:
far below the published setups, so the figures are lower bounds for these configs, not their
ceiling. On 2 idle cores, --max-steps 300 is about 22 min per ADE model (measured); MTSamples about 11 min per model at --max-steps 150, 25 min with --frozen-encoder --max-steps 800 (measured).

    python benchmarks/bench_accuracy.py --task ade --max-steps 300
    python benchmarks/bench_accuracy.py --task mtsamples --domain-model models/pretrained
    python benchmarks/bench_accuracy.py --task mtsamples --frozen-encoder --max-steps 800 --domain-model models/pretrained
Work files go to --work (default /tmp/bench_accuracy); results to benchmarks/results/accuracy.json.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
if __package__ in (None, ""):  # run as `python benchmarks/bench_accuracy.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DATA, REPO, RESULTS  # noqa: E402

FROZEN_CONFIG = REPO / "benchmarks" / "configs" / "mtsamples_textcat_frozen.cfg"
ANCHORS = {"ade": {"SpERT (Eberts & Ulges 2020)": {"ents_f": 89.3, "rel_micro_f": 78.8}}}


def run(cmd, log: Path) -> float:
    print("$", " ".join(map(str, cmd)), file=sys.stderr)
    started = time.perf_counter()
    with log.open("a", encoding="utf8") as fh:
        done = subprocess.run([str(c) for c in cmd], stdout=fh, stderr=subprocess.STDOUT, cwd=REPO)
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}); see {log}")
    return time.perf_counter() - started


def convert(task: str, out: Path, log: Path) -> None:
    if (out / "train.spacy").exists():
        return
    py = sys.executable
    if task == "ade":
        cmd = [py, "-m", "spacy_clinicalbert", "convert-corpus", "ade", DATA / "ade_corpus_v2", out, "--seed", "0"]
    else:
        cmd = [py, "-m", "spacy_clinicalbert", "convert-corpus", "csv", DATA / "mtsamples" / "mtsamples.csv", out,
               "--text-column", "transcription", "--label-column", "medical_specialty", "--dedupe",
               "--exclusive", "--seed", "0"]
    run(cmd, log)


def subset(src: Path, dst: Path, limit: int) -> Path:
    """`limit` docs drawn at random (seed 0) from a DocBin (whole file when limit is 0).

    Not the first ones: converted files can be ordered (ADE: positive sentences first).
    """
    import spacy
    from spacy.tokens import DocBin

    if not limit:
        return src
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(src).get_docs(nlp.vocab))
    if limit < len(docs):
        docs = [docs[i] for i in sorted(random.Random(0).sample(range(len(docs)), limit))]
    DocBin(docs=docs, store_user_data=True).to_disk(dst)
    return dst


def score(model: Path, test: Path, task: str, out: Path, log: Path) -> dict:
    """Scores from the project's own evaluator (`spacy_clinicalbert evaluate`), as the workflow reports them."""
    run([sys.executable, "-m", "spacy_clinicalbert", "evaluate", model, test, "--output", out], log)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf8"))
    figures = {"test_docs": metrics["data"]["docs"], "words_per_second": metrics["speed"]["words_per_second"]}
    cats = metrics.get("categories") or {}
    if task == "ade":
        ents, rels = metrics["entities"], metrics["relations"]
        figures.update(ents_f=ents["micro"]["f"], ents_per_type={k: v["f"] for k, v in ents["per_type"].items()},
                       rel_micro_f=rels["micro"]["f"], rel_floor_f=rels["floor"]["micro"]["f"],
                       rel_given_entities_f=rels["given_entities_micro"]["f"],
                       ade_sentence_f=cats["per_type"]["ADE"]["f"], ade_sentence_accuracy=cats["accuracy"],
                       ade_sentence_roc_auc=cats["roc_auc_macro"])
    else:
        figures.update(accuracy=cats["accuracy"], macro_f=cats["macro_f"], labels=len(cats["labels"]))
    return figures


COLUMNS = {"ade": [("ents_f", "entity F1"), ("rel_micro_f", "relation F1 (end to end)"),
                   ("rel_floor_f", "all-pairs floor"), ("ade_sentence_f", "ADE-sentence F1")],
           "mtsamples": [("accuracy", "accuracy"), ("macro_f", "macro F1")]}


def assemble_encoder(config: Path, encoder: str, out: Path, log: Path) -> Path:
    """The encoder alone as a pipeline folder, for the frozen config to source.

    A frozen component is not initialized by `spacy train`, so its weights have to come from a
    saved pipeline. `spacy assemble` validates the config before filling in variables, so the
    schedule's `${training.max_steps}` gets a number here; it plays no part in assembling.
    """
    if not (out / "config.cfg").exists():
        run([sys.executable, "-m", "spacy", "assemble", config, out, "--paths.base_model", encoder,
             "--nlp.pipeline", '["clinicalbert"]', "--training.optimizer.learn_rate.total_steps", "1"], log)
    return out


def points(value, scale: float = 100.0) -> str:
    """Our scores are fractions (scale 100); published anchors are already points (scale 1)."""
    return f"{value * scale:.1f}" if isinstance(value, (int, float)) else "-"


def print_table(task: str, rows: dict) -> None:
    """All rows recorded for the task (this run's and earlier ones), anchors last."""
    columns = COLUMNS[task]
    print(f"\n{task}: test split")
    print("| encoder | steps | train s | " + " | ".join(name for _, name in columns) + " |")
    print("|---|---:|---:|" + "---:|" * len(columns))
    for label, figures in rows.items():
        if label == "anchors":
            continue
        cells = [points(figures.get(key)) for key, _ in columns]
        print(f"| {label} | {figures.get('max_steps', '-')} | {figures.get('train_seconds', '-')} | "
              + " | ".join(cells) + " |")
    for name, figures in rows.get("anchors", {}).items():
        print(f"| {name} (published) | | | " + " | ".join(points(figures.get(k), 1.0) for k, _ in columns) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["ade", "mtsamples"], default="ade")
    parser.add_argument("--domain-model", help="a domain-pretrained encoder folder to compare with MiniLM")
    parser.add_argument("--max-steps", type=int, default=300)
    parser.add_argument("--train-limit", type=int, default=0, help="N training docs drawn at random (0: all)")
    parser.add_argument("--dev-limit", type=int, default=300, help="dev docs scored during training")
    parser.add_argument("--test-limit", type=int, default=0, help="N test docs drawn at random (0: all)")
    parser.add_argument("--frozen-encoder", action="store_true",
                        help="mtsamples only: train textcat on a frozen encoder (mtsamples_textcat_frozen.cfg)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="/tmp/bench_accuracy")
    parser.add_argument("--output", default=str(RESULTS / "accuracy.json"))
    args = parser.parse_args()
    if args.frozen_encoder and args.task != "mtsamples":
        parser.error("--frozen-encoder has a config for --task mtsamples only")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    log = work / "log.txt"
    corpus = work / args.task
    t0 = time.perf_counter()
    convert(args.task, corpus, log)
    train = subset(corpus / "train.spacy", work / f"{args.task}_train_sub.spacy", args.train_limit)
    dev = subset(corpus / "dev.spacy", work / f"{args.task}_dev_sub.spacy", args.dev_limit)
    test = subset(corpus / "test.spacy", work / f"{args.task}_test_sub.spacy", args.test_limit)
    config = REPO / ("configs/cpu.cfg" if args.task == "ade" else "benchmarks/configs/mtsamples_textcat.cfg")
    encoders = {"minilm-offline": "minilm-offline"}
    if args.domain_model:
        encoders["domain"] = str(Path(args.domain_model).resolve())
    results = Path(args.output)
    previous = json.loads(results.read_text()) if results.exists() else {}
    env_threads = {"OMP_NUM_THREADS": str(args.threads)}
    os.environ.update(env_threads)
    for label, encoder in encoders.items():
        out = work / f"{args.task}_{label.replace('/', '_')}{'_frozen' if args.frozen_encoder else ''}"
        started = time.perf_counter()
        if args.frozen_encoder:
            pipeline = assemble_encoder(config, encoder, out.with_name(out.name + "_encoder"), log)
            train_config, encoder_args = FROZEN_CONFIG, ["--paths.encoder_pipeline", pipeline]
        else:
            train_config, encoder_args = config, ["--paths.base_model", encoder]
        run([sys.executable, "-m", "spacy", "train", train_config, "--output", out,
             "--paths.train", train, "--paths.dev", dev, *encoder_args,
             "--training.max_steps", args.max_steps,
             "--training.eval_frequency", max(50, args.max_steps // 3)], log)
        seconds = time.perf_counter() - started
        figures = score(out / "model-best", test, args.task, out / "metrics", log)
        figures.update(train_seconds=round(seconds, 1), max_steps=args.max_steps, encoder=encoder,
                       frozen_encoder=args.frozen_encoder,
                       train_docs=args.train_limit or "all", load1_end=os.getloadavg()[0],
                       command=" ".join(sys.argv))
        if args.frozen_encoder:
            label = f"{label} (frozen)"
        previous.setdefault(args.task, {})[label] = figures
        shown = {k: v for k, v in figures.items() if isinstance(v, float)}
        print(f"{args.task} / {label}: {json.dumps(shown)}")
    if args.task in ANCHORS:
        previous.setdefault(args.task, {})["anchors"] = ANCHORS[args.task]
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(previous, indent=2) + "\n", encoding="utf8")
    print_table(args.task, previous[args.task])
    print(f"wrote {results} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
