"""Pretraining runs with the tiny BERT: both objectives save a usable folder, --resume
continues from its step, bad input fails clearly, and the folder trains in spaCy."""
import json
import random
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spacy_clinicalbert.cli import app
from spacy_clinicalbert.pretraining import CorpusError, PretrainingSettings, run_pretraining

WORDS = ("patient denies chest pain shortness of breath fever history rash nausea vomiting "
         "headache hypertension diabetes aspirin metformin warfarin bleeding mass lung").split()


def write_notes(path: Path, n: int = 40, seed: int = 0) -> Path:
    """JSONL notes of a few sentences each, from words the tiny vocabulary knows
    (and a few it can only spell in pieces)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf8") as handle:
        for i in range(n):
            sentences = []
            for _ in range(rng.randint(3, 8)):
                words = [rng.choice(WORDS) for _ in range(rng.randint(4, 12))]
                if rng.random() < 0.3:
                    words.append(rng.choice(["xq7", "zolpidem", "ekg"]))
                sentences.append(" ".join(words) + ".")
            text = f"note {i}. " + " ".join(sentences[:2]) + "\n" + " ".join(sentences[2:])
            handle.write(json.dumps({"text": text}) + "\n")
        handle.write(json.dumps({"text": "note 0. " + "repeated note for dedupe ."}) + "\n")
        handle.write(json.dumps({"text": "note 0. " + "repeated  note for dedupe ."}) + "\n")
    return path


def settings(tmp_path: Path, base: Path, corpus: Path, **overrides) -> PretrainingSettings:
    values = dict(
        inputs=[corpus], output_dir=tmp_path / "out", base_model=str(base), max_length=32,
        batch_size=8, max_steps=4, save_steps=2, logging_steps=1, eval_fraction=0.25,
        eval_batch_size=16, learning_rate=1e-3, progress=False,
    )
    values.update(overrides)
    return PretrainingSettings(**values)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models run several times faster on one thread on a shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_notes(tmp_path_factory.mktemp("notes") / "notes.jsonl")


@pytest.fixture(scope="module")
def mlm_run(tmp_path_factory, tiny_bert, corpus):
    tmp = tmp_path_factory.mktemp("mlm")
    s = settings(tmp, tiny_bert, corpus, max_steps=16, save_steps=8, whole_word_mask=True)
    return s, run_pretraining(s)


def test_mlm_run_saves_a_recorded_hf_folder(mlm_run, tiny_bert, corpus):
    from transformers import AutoModel, AutoTokenizer

    s, record = mlm_run
    out = s.output_dir
    for name in ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "pretraining.json", "README.md"):
        assert (out / name).exists(), name
    assert json.loads((out / "config.json").read_text())["architectures"] == ["BertForMaskedLM"]
    assert AutoTokenizer.from_pretrained(str(out)).model_max_length == 512
    AutoModel.from_pretrained(str(out))  # what the clinicalbert component does
    saved = json.loads((out / "pretraining.json").read_text())
    assert saved == json.loads(json.dumps(record))
    assert saved["base_model"]["resolved_path"] == str(tiny_bert)
    assert saved["corpus"]["files"][0]["path"] == str(corpus.resolve())
    notes = saved["corpus"]["notes"]
    assert notes["notes_read"] == 42 and notes["duplicates_skipped"] == 1  # equal up to whitespace
    assert notes["train_notes"] + notes["eval_notes"] == 41 and notes["eval_notes"] > 0
    assert saved["training"]["global_step"] == 16
    fit = saved["evaluation"]["vocabulary_fit"]
    assert fit["words"] > 0 and fit["wordpieces_per_word"] > 1.0
    before = saved["evaluation"]["held_out_perplexity_before"]
    after = saved["evaluation"]["held_out_perplexity_after"]
    assert before["masked_wordpieces"] == after["masked_wordpieces"] > 0  # same problems scored
    assert after["perplexity"] < before["perplexity"]


def test_mlm_nsp_run(tmp_path, tiny_bert, corpus):
    from transformers import BertForPreTraining

    record = run_pretraining(settings(tmp_path, tiny_bert, corpus, objective="mlm+nsp", max_steps=3))
    out = tmp_path / "out"
    assert json.loads((out / "config.json").read_text())["architectures"] == ["BertForPreTraining"]
    model = BertForPreTraining.from_pretrained(str(out))
    assert model.cls.seq_relationship.weight.shape[0] == 2
    corpus_stats = record["corpus"]
    assert corpus_stats["nsp_train"]["pairs_real_next"] > 0 and corpus_stats["nsp_train"]["pairs_random_next"] > 0
    after = record["evaluation"]["held_out_perplexity_after"]
    assert 0.0 <= after["nsp_accuracy"] <= 1.0 and after["pairs"] > 0
    assert record["training"]["global_step"] == 3


def test_resume_continues_from_checkpoint_step(tmp_path, tiny_bert, corpus):
    first = run_pretraining(settings(tmp_path, tiny_bert, corpus, max_steps=4, evaluate=False))
    checkpoints = tmp_path / "out" / "work" / "checkpoints"
    assert sorted(p.name for p in checkpoints.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert first["training"]["start_step"] == 0
    second = run_pretraining(settings(tmp_path, tiny_bert, corpus, max_steps=6, resume=True, evaluate=False))
    training = second["training"]
    assert training["resumed_from"].endswith("checkpoint-4")
    assert training["start_step"] == 4 and training["global_step"] == 6
    assert [step for step, _ in training["loss_curve"]][-2:] == [5, 6]
    assert second["corpus"]["cache_reused"] is True
    assert (checkpoints / "corpus.txt").read_text().strip() == Path(second["corpus"]["cache"]).name
    state = json.loads((checkpoints / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6


def test_bad_input_fails_naming_the_file(tmp_path, tiny_bert):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf8")
    with pytest.raises(CorpusError, match=rf"{empty}.*corpus is empty"):
        run_pretraining(settings(tmp_path, tiny_bert, empty))
    table = tmp_path / "mtsamples.csv"
    table.write_text("note_id,description\n1,a note\n", encoding="utf8")
    result = CliRunner().invoke(app, [
        "domain-pretrain", str(table), "-o", str(tmp_path / "cli_out"), "-m", str(tiny_bert),
        "--text-field", "transcription", "--no-progress",
    ])
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # wasabi wraps long messages
    assert f"{table}: no column 'transcription'" in output
    assert not (tmp_path / "cli_out" / "config.json").exists()


def test_pretrained_folder_trains_in_spacy_and_loads_offline(mlm_run, tmp_path, no_network):
    import spacy
    from spacy.training import Example

    pretrained = tmp_path / "pretrained"
    shutil.copytree(mlm_run[0].output_dir, pretrained, ignore=shutil.ignore_patterns("work"))
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(pretrained)}})
    nlp.add_pipe("ner", config={"model": {"tok2vec": {
        "@architectures": "spacy-clinicalbert.TransformerListener.v1", "grad_factor": 1.0,
        "pooling": {"@layers": "reduce_mean.v1"}, "upstream": "*"}}})
    texts = ["patient denies chest pain after aspirin .", "rash after warfarin and fever ."]
    drugs = {"aspirin", "warfarin"}
    examples = []
    for text in texts:
        doc = nlp.make_doc(text)
        ents = [(t.idx, t.idx + len(t), "DRUG") for t in doc if t.text in drugs]
        examples.append(Example.from_dict(doc, {"entities": ents}))
    optimizer = nlp.initialize(lambda: examples)
    losses = {}
    for _ in range(3):
        nlp.update(examples, sgd=optimizer, losses=losses)
    assert losses["ner"] > 0
    saved = tmp_path / "pipeline"
    nlp.to_disk(saved)
    from safetensors.torch import load_file

    pretrained_embeddings = load_file(str(pretrained / "model.safetensors"))["bert.embeddings.word_embeddings.weight"]
    shutil.rmtree(pretrained)  # the pipeline must carry the pretrained weights itself
    loaded = spacy.load(saved)
    assert loaded.pipe_names[:2] == ["clinicalbert", "ner"]
    doc = loaded(texts[0])
    assert len(doc) == 7
    hf_model = loaded.get_pipe("clinicalbert").model.layers[0].shims[0]._model
    embeddings = hf_model.state_dict()["embeddings.word_embeddings.weight"]
    assert embeddings.shape == pretrained_embeddings.shape
    # Trained further with the ner head, but started from the pretrained weights, not random ones.
    assert torch_allclose_share(embeddings, pretrained_embeddings) > 0.9


def torch_allclose_share(a, b) -> float:
    """Share of embedding rows that changed little (rows of unused words do not change at all)."""
    return float(((a - b).abs().max(dim=1).values < 1e-2).float().mean())


def test_cli_help_explains_every_option():
    result = CliRunner().invoke(app, ["domain-pretrain", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for option in ("--objective", "--whole-word-mask", "--max-steps", "--epochs", "--learning-rate",
                   "--warmup-ratio", "--batch-size", "--grad-accum", "--max-length", "--seed",
                   "--precision", "--resume", "--resume-from", "--text-field", "--eval-fraction"):
        assert option in text, option
    assert "torchrun" in text and "[default: 128]" in text


def test_invalid_settings_fail_before_training(tmp_path, tiny_bert, corpus):
    import torch

    from spacy_clinicalbert.pretraining import SettingsError

    with pytest.raises(SettingsError, match="objective"):
        settings(tmp_path, tiny_bert, corpus, objective="clm")
    with pytest.raises(SettingsError, match="max_length 600 exceeds"):
        run_pretraining(settings(tmp_path, tiny_bert, corpus, max_length=600))
    if not torch.cuda.is_available():
        with pytest.raises(SettingsError, match="needs a CUDA GPU"):
            run_pretraining(settings(tmp_path, tiny_bert, corpus, precision="fp16"))
    with pytest.raises(SettingsError, match="no checkpoint found"):
        run_pretraining(settings(tmp_path, tiny_bert, corpus, resume=True))
    assert not (tmp_path / "out" / "config.json").exists()
