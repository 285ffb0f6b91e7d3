"""The synthetic corpus, the evaluation and the workflow's optional deid step."""
import json

import pytest

from spacy_clinicalbert.deid.detection import Detection
from spacy_clinicalbert.deid.evaluate import score_notes
from spacy_clinicalbert.deid.replace import apply_replacements

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(shared_data):
    from spacy_clinicalbert.deid.synthetic import generate

    return generate(seed=3, mtsamples=shared_data / "mtsamples" / "mtsamples.csv", n_notes=8,
                    n_templates=4, n_other=4, split=(0.5, 0.25, 0.25))


def test_corpus_reproducible_and_gold_aligned(corpus, shared_data):
    from spacy_clinicalbert.deid.synthetic import generate

    again = generate(seed=3, mtsamples=shared_data / "mtsamples" / "mtsamples.csv", n_notes=8,
                     n_templates=4, n_other=4, split=(0.5, 0.25, 0.25))
    assert again == corpus
    other_seed = generate(seed=4, mtsamples=shared_data / "mtsamples" / "mtsamples.csv", n_notes=8,
                          n_templates=4, n_other=4, split=(0.5, 0.25, 0.25))
    assert other_seed["test"] != corpus["test"]
    notes = [n for part in corpus.values() for n in part]
    assert len(notes) == 16 and {n["generator"] for n in corpus["other"]} == {"B"}
    train_patients = {n["patient_id"] for n in corpus["train"]}
    assert not train_patients & {n["patient_id"] for n in corpus["test"]}  # split by patient
    for note in notes:
        assert note["spans"], note["id"]
        for span in note["spans"]:
            value = note["text"][span["start"]:span["end"]]
            assert value == value.strip() and value, (note["id"], span)
    labels = {s["label"] for n in notes for s in n["spans"]}
    assert {"PATIENT", "DOCTOR", "DATE", "MEDICALRECORD", "PHONE"} <= labels


def test_evaluation_and_leak_report(corpus):
    notes = corpus["train"] + corpus["test"]

    def placeholder(text, dets, patient):
        return apply_replacements(text, dets, "placeholder")

    gold = [[Detection(s["start"], s["end"], s["label"], "model") for s in n["spans"]] for n in notes]
    perfect = score_notes(notes, gold, placeholder, "placeholder")
    assert perfect["token"]["all"]["r"] == 1.0 and perfect["token"]["all"]["p"] == 1.0
    assert perfect["entity_strict"]["micro"]["f"] == 1.0
    nothing = score_notes(notes, [[] for _ in notes], placeholder, "placeholder")
    assert nothing["token"]["all"]["r"] == 0.0
    names = {(leak["note"], leak["text"]) for leak in nothing["leaks"]}
    first = notes[0]
    long_values = {first["text"][s["start"]:s["end"]] for s in first["spans"]
                   if s["end"] - s["start"] >= 3}
    assert long_values <= {text for note, text in names if note == first["id"]}
    # a detection that only overlaps scores relaxed, not strict
    shifted = [[d._replace(end=d.end - 1) if d.end - d.start > 2 else d for d in ds] for ds in gold]
    partial = score_notes(notes, shifted, placeholder, "placeholder")
    assert partial["entity_relaxed"]["micro"]["f"] == 1.0 > partial["entity_strict"]["micro"]["f"]


def test_rules_on_generated_notes(corpus):
    from spacy_clinicalbert.deid.evaluate import evaluate_deid
    from spacy_clinicalbert.deid.replace import Deidentifier

    report = evaluate_deid(Deidentifier(), corpus["test"] + corpus["train"])
    assert report["token"]["structured"]["r_any"] >= 0.99
    assert report["token"]["all"]["r"] >= 0.95 and report["token"]["all"]["p"] >= 0.85
    assert report["leak_count"] <= 2


def test_project_has_the_optional_deid_step():
    from weasel.util import load_project_config

    config = load_project_config(ROOT)
    steps = config["workflows"]["all"]
    # after convert-corpus: it de-identifies the converted corpus too (test_deid_corpus.py)
    assert steps.index("convert-corpus") < steps.index("deid") < steps.index("domain-pretrain")
    assert config["vars"]["deid_notes"] == "no"
    commands = {c["name"]: c for c in config["commands"]}
    assert "models/deid/notes" in commands["domain-pretrain"]["script"][0]
    assert "--deid-info models/deid/deid.json" in commands["package"]["script"][0]


def test_deid_prepare_step_off_and_on(tmp_path, monkeypatch):
    import csv

    from typer.testing import CliRunner

    from spacy_clinicalbert.cli import app
    from spacy_clinicalbert.packaging.meta import build_meta
    from spacy_clinicalbert.pretraining.readers import iter_notes

    notes = tmp_path / "notes.csv"
    with notes.open("w", newline="", encoding="utf8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["patient_id", "transcription"])
        writer.writerow(["P1", "Seen by Dr. Smith on 5/12/2019. MRN: 12345678."])
        writer.writerow(["P2", "Mr. Jones called (617) 555-0100."])
    runner = CliRunner()
    args = ["deid", "prepare", str(notes), "--text-field", "transcription"]
    off = runner.invoke(app, args + [str(tmp_path / "off")])
    assert off.exit_code == 0, off.output
    texts = [n.text for n in iter_notes([tmp_path / "off" / "notes"], text_field="transcription")]
    assert texts[0].startswith("Seen by Dr. Smith")
    on = runner.invoke(app, args + [str(tmp_path / "on"), "--enabled", "yes"])
    assert on.exit_code == 0, on.output
    texts = [n.text for n in iter_notes([tmp_path / "on" / "notes"], text_field="transcription")]
    assert texts == ["Seen by Dr. [NAME] on [DATE]. MRN: [ID].", "Mr. [NAME] called [PHONE]."]
    model = tmp_path / "model"
    model.mkdir()
    (model / "meta.json").write_text(json.dumps({"lang": "en", "name": "x", "version": "0"}))
    meta = build_meta(model, name="en_x", version="1", deid_info=tmp_path / "on" / "deid.json")
    assert meta["clinicalbert"]["deidentification"]["enabled"] is True
    assert meta["clinicalbert"]["deidentification"]["strategy"] == "placeholder"
    meta = build_meta(model, name="en_x", version="1", deid_info=tmp_path / "off" / "deid.json")
    assert meta["clinicalbert"]["deidentification"]["enabled"] is False
    meta = build_meta(model, name="en_x", version="1", deid_info=tmp_path / "missing.json")
    assert meta["clinicalbert"]["deidentification"] == {"enabled": False, "step": "not run"}
