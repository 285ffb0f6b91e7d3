"""Shared pieces of the relation benchmarks: time-capped `spacy train`, test-set
scoring (end to end and with gold entities) and table printing."""
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import spacy
from spacy.tokens import DocBin
from spacy.training import Example

from benchmarks.common import REPO as ROOT
from spacy_clinicalbert.relations.gold_entities import copy_gold_entities


def train_capped(config: Path, output: Path, minutes: float, overrides: Sequence[str] = (),
                 threads: int = 1) -> Dict:
    """Run `spacy train` for at most `minutes` of wall time with `threads` torch/BLAS
    threads; model-best is what the last evaluation kept. Returns wall and CPU seconds."""
    output.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONWARNINGS="ignore")
    cmd = [sys.executable, "-m", "spacy", "train", str(config), "-o", str(output), *overrides]
    print("$", " ".join(cmd), flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    with open(output / "train.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        try:
            proc.wait(timeout=minutes * 60)
            stopped = False
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait()
            stopped = True
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"command": " ".join(cmd[1:]), "threads": threads, "wall_s": round(time.time() - start, 1),
            "cpu_s": round(cpu, 1), "stopped_at_time_cap": stopped, "returncode": proc.returncode}


def read_examples(nlp, path: Path, gold_entities: bool, span_keys=("entities",)) -> List[Example]:
    docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    examples = [Example(nlp.make_doc(d.text), d) for d in docs]
    if gold_entities:
        examples = [copy_gold_entities(eg, span_keys) for eg in examples]
    return examples


def relation_summary(scores: Dict, prefix: str = "rel") -> Dict:
    keys = ["micro_p", "micro_r", "micro_f", "macro_f", "counts", "per_type", "candidate_recall",
            "given_ents_micro_f", "e2e_micro_f", "floor_micro_p", "floor_micro_r", "floor_micro_f",
            "floor_macro_f", "floor_counts", "floor_per_type", "mode"]
    return {k: scores[f"{prefix}_{k}"] for k in keys if f"{prefix}_{k}" in scores}


def print_table(title: str, rows: List[Sequence]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def pct(x: Optional[float]) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def per_label_rows(summary: Dict) -> List[Sequence]:
    rows = [("label", "P", "R", "F1", "floor F1")]
    floor = summary.get("floor_per_type", {})
    for label, s in sorted(summary["per_type"].items()):
        rows.append((label, pct(s["p"]), pct(s["r"]), pct(s["f"]), pct(floor.get(label, {}).get("f"))))
    rows.append(("micro", pct(summary["micro_p"]), pct(summary["micro_r"]), pct(summary["micro_f"]),
                 pct(summary.get("floor_micro_f"))))
    return rows


def load(path: Path):
    return spacy.load(path)
