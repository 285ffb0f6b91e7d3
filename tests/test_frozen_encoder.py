"""Text categories trained on a frozen, sourced clinicalbert: benchmarks/configs/mtsamples_textcat_frozen.cfg
as bench_accuracy.py --frozen-encoder runs it, on the tiny BERT."""
import subprocess
import sys
from pathlib import Path

import numpy
import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from test_train_and_load import write_corpus

CONFIGS = Path(__file__).resolve().parents[1] / "benchmarks" / "configs"


def spacy_cli(*args) -> None:
    proc = subprocess.run([sys.executable, "-m", "spacy", *map(str, args)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def encoder_weights(nlp) -> dict:
    model = nlp.get_pipe("clinicalbert").model.transformer
    return {name: tensor.detach().numpy().copy() for name, tensor in model.state_dict().items()}


def test_textcat_trains_on_a_frozen_sourced_encoder(tmp_path, tiny_bert):
    encoder = tmp_path / "encoder"
    spacy_cli("assemble", CONFIGS / "mtsamples_textcat.cfg", encoder, "--paths.base_model", tiny_bert,
              "--nlp.pipeline", '["clinicalbert"]', "--training.optimizer.learn_rate.total_steps", "1")
    write_corpus(tmp_path / "train.spacy", 40, seed=1)
    write_corpus(tmp_path / "dev.spacy", 10, seed=2)
    spacy_cli("train", CONFIGS / "mtsamples_textcat_frozen.cfg", "--output", tmp_path / "out",
              "--paths.train", tmp_path / "train.spacy", "--paths.dev", tmp_path / "dev.spacy",
              "--paths.encoder_pipeline", encoder, "--training.max_steps", 30,
              "--training.eval_frequency", 10)

    assembled, trained = spacy.load(encoder), spacy.load(tmp_path / "out" / "model-last")
    before, after = encoder_weights(assembled), encoder_weights(trained)
    assert before.keys() == after.keys()
    assert all(numpy.array_equal(before[name], after[name]) for name in before)
    assert trained.pipe_names == ["clinicalbert", "textcat", "clinicalbert_cleanup"]

    textcat = trained.get_pipe("textcat")
    assert sorted(textcat.labels) == ["ADVERSE", "NEGATED"]
    doc = trained("patient developed rash after aspirin .")
    assert doc._.trf_data is None
    assert abs(sum(doc.cats.values()) - 1.0) < 1e-5
    dev = [Example(trained.make_doc(doc.text), doc)
           for doc in DocBin().from_disk(tmp_path / "dev.spacy").get_docs(trained.vocab)]
    # An untrained head (zero weights) scores every note alike: ROC-AUC 0.5.
    assert trained.evaluate(dev)["cats_macro_auc"] > 0.9
