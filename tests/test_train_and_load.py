"""`spacy train` of clinicalbert + ner + textcat_multilabel, then `spacy.load` offline."""
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

CONFIG = Path(__file__).parent / "configs" / "clinicalbert_ner_textcat.cfg"
DRUGS = ["aspirin", "metformin", "lisinopril", "warfarin"]
PROBLEMS = ["rash", "nausea", "headache", "bleeding", "chest pain"]


def write_corpus(path: Path, n: int, seed: int) -> None:
    """Synthetic sentences: DRUG and PROBLEM entities, ADVERSE / NEGATED categories."""
    rng = random.Random(seed)
    nlp = spacy.blank("en")
    db = DocBin(store_user_data=True)
    for _ in range(n):
        drug, problem = rng.choice(DRUGS), rng.choice(PROBLEMS)
        negated = rng.random() < 0.5
        text = (f"patient denies {problem} on {drug} ." if negated
                else f"patient developed {problem} after {drug} .")
        doc = nlp.make_doc(text)
        spans = []
        for label, word in (("PROBLEM", problem), ("DRUG", drug)):
            start = text.index(f" {word} ") + 1
            spans.append(doc.char_span(start, start + len(word), label=label))
        doc.ents = spans
        doc.cats = {"ADVERSE": float(not negated), "NEGATED": float(negated)}
        db.add(doc)
    db.to_disk(path)


def train(tmp_path: Path, base_model: Path, steps: int) -> Path:
    write_corpus(tmp_path / "train.spacy", 40, seed=1)
    write_corpus(tmp_path / "dev.spacy", 10, seed=2)
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "spacy", "train", str(CONFIG), "--output", str(out),
        "--paths.train", str(tmp_path / "train.spacy"), "--paths.dev", str(tmp_path / "dev.spacy"),
        "--paths.base_model", str(base_model), "--training.max_steps", str(steps),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out / "model-last"


LOAD_OFFLINE = """
import json, socket, sys
def refuse(*args, **kwargs):
    raise OSError("network blocked")
socket.create_connection = refuse
socket.socket.connect = refuse
import spacy
nlp = spacy.load(sys.argv[1])
doc = nlp("patient developed rash after aspirin .")
trf = nlp.get_pipe("clinicalbert")
print(json.dumps({
    "pipe_names": nlp.pipe_names,
    "listeners": sorted(trf.listening_components),
    "ents": [(e.text, e.label_) for e in doc.ents],
    "cats": sorted(doc.cats),
    "trf_data_released": doc._.trf_data is None,
    "max_length": trf.model.tokenizer.model_max_length,
}))
"""


def load_offline(model_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    proc = subprocess.run([sys.executable, "-c", LOAD_OFFLINE, str(model_dir)], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_train_tiny_then_load_offline(tmp_path, tiny_bert):
    model_dir = train(tmp_path, tiny_bert, steps=40)
    # The saved pipeline carries its weights: remove the base model to be sure.
    import shutil
    moved = tmp_path / "base_gone"
    shutil.copytree(tiny_bert, moved)
    result = load_offline(model_dir)
    assert result["pipe_names"] == ["clinicalbert", "ner", "textcat_multilabel",
                                    "clinicalbert_cleanup"]
    assert result["listeners"] == ["ner", "textcat_multilabel"]
    assert result["cats"] == ["ADVERSE", "NEGATED"]
    assert result["trf_data_released"] is True
    assert result["max_length"] == 512
    scores = json.loads((model_dir.parent / "model-best" / "meta.json").read_text())["performance"]
    assert scores["ents_f"] is not None and scores["cats_macro_auc"] is not None


@pytest.mark.slow
def test_train_real_minilm_then_load_offline(tmp_path, minilm_path):
    """Real weights through the same path: entities are learnt within a few steps."""
    model_dir = train(tmp_path, minilm_path, steps=60)
    result = load_offline(model_dir)
    assert result["listeners"] == ["ner", "textcat_multilabel"]
    meta = json.loads((model_dir.parent / "model-best" / "meta.json").read_text())
    assert meta["performance"]["ents_f"] > 0.8, meta["performance"]
    assert ("aspirin", "DRUG") in [tuple(e) for e in result["ents"]]
