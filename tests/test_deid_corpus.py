"""`deid corpus`: a converted corpus de-identified with its gold annotations moved."""
import json

import pytest
from spacy.tokens import DocBin

from spacy_clinicalbert.deid.corpus import CorpusDeidStats, PhiOverlapError, deidentify_doc
from spacy_clinicalbert.deid.detection import Detection
from spacy_clinicalbert.deid.replace import apply_replacements
from spacy_clinicalbert.layers import recorded_layers, set_layers
from spacy_clinicalbert.relations.data import get_relations, install_extensions, set_relations
from spacy_clinicalbert.relations.data import Relation

TEXT = "Seen by Dr. John Smith on 03/04/2019. Started aspirin; developed a rash. Call 617-555-0199."


@pytest.fixture(scope="module")
def nlp():
    from spacy_clinicalbert.text.tokenizer import blank_clinical

    install_extensions()
    return blank_clinical()


def _doc(nlp, with_person=True):
    doc = nlp.make_doc(TEXT)
    def span(word, label):
        s = TEXT.index(word)
        return doc.char_span(s, s + len(word), label=label)
    drug, ade, person = span("aspirin", "Drug"), span("rash", "ADE"), span("John Smith", "Person")
    ents = [drug, ade] + ([person] if with_person else [])
    doc.set_ents(sorted(ents), default="outside")
    doc.spans["entity_attributes"] = [span("rash", "Negated")]
    set_relations(doc, [Relation(drug, ade, "Causes")])
    doc.cats = {"ADE": 1.0}
    set_layers(doc, ["entities", "relations", "categories"])
    return doc


def _phi(text):
    out = []
    for value, label in (("John Smith", "DOCTOR"), ("03/04/2019", "DATE"), ("617-555-0199", "PHONE")):
        s = text.index(value)
        out.append(Detection(s, s + len(value), label, "patterns", 1.0))
    return out


@pytest.mark.parametrize("strategy", ["placeholder", "redact", "mask"])
def test_spans_land_on_the_same_words_and_relations_survive(nlp, strategy):
    doc = _doc(nlp)
    result = apply_replacements(TEXT, _phi(TEXT), strategy)
    stats = CorpusDeidStats()
    new = deidentify_doc(doc, result, nlp, stats, "keep")
    assert new.text == result.text and "John" not in new.text and "0199" not in new.text
    ents = {(e.text, e.label_) for e in new.ents}
    assert {("aspirin", "Drug"), ("rash", "ADE")} <= ents
    assert [(s.text, s.label_) for s in new.spans["entity_attributes"]] == [("rash", "Negated")]
    rels = get_relations(new)
    assert [(r.head.text, r.tail.text, r.label) for r in rels] == [("aspirin", "rash", "Causes")]
    assert new.cats == {"ADE": 1.0}
    assert recorded_layers(new) == {"entities", "relations", "categories"}
    # every token away from PHI keeps its text and its annotation status
    assert all(t.ent_iob != 0 for t in new)
    assert stats.overlapping["ents"] == 1 and stats.replacements["DATE"] == 1
    if strategy == "redact":  # the person's characters are gone: counted, not misplaced
        assert stats.dropped["ents:no_tokens_left"] == 1
    else:
        person = [e for e in new.ents if e.label_ == "Person"]
        assert len(person) == 1 and person[0].text == result.text[
            result.replacements[0].output_start:result.replacements[0].output_end]


def test_overlap_policies(nlp):
    result = apply_replacements(TEXT, _phi(TEXT), "placeholder")
    stats = CorpusDeidStats()
    new = deidentify_doc(_doc(nlp), result, nlp, stats, "drop")
    assert "Person" not in {e.label_ for e in new.ents}
    assert stats.dropped["ents:overlaps_phi"] == 1 and stats.overlapping["ents"] == 1
    with pytest.raises(PhiOverlapError, match="Person"):
        deidentify_doc(_doc(nlp), result, nlp, CorpusDeidStats(), "error")
    clean = CorpusDeidStats()
    deidentify_doc(_doc(nlp, with_person=False), result, nlp, clean, "error")
    assert not clean.overlapping and clean.moved["ents"] == 2


def test_missing_entities_stay_missing(nlp):
    doc = nlp.make_doc(TEXT)  # entities not annotated: ENT_IOB unset everywhere
    new = deidentify_doc(doc, apply_replacements(TEXT, _phi(TEXT)), nlp, CorpusDeidStats())
    assert all(t.ent_iob == 0 for t in new)


def test_cli_on_a_converted_brat_corpus(tmp_path):
    from typer.testing import CliRunner

    from spacy_clinicalbert.cli import app

    brat = tmp_path / "brat"
    brat.mkdir()
    ann = []
    for i, (word, label) in enumerate((("aspirin", "Drug"), ("rash", "ADE"), ("John Smith", "Person"))):
        s = TEXT.index(word)
        ann.append(f"T{i + 1}\t{label} {s} {s + len(word)}\t{word}")
    ann += ["R1\tCauses Arg1:T1 Arg2:T2", "A1\tNegated T2"]
    for name in ("n1", "n2"):
        (brat / f"{name}.txt").write_text(TEXT + "\n", encoding="utf8")
        (brat / f"{name}.ann").write_text("\n".join(ann) + "\n", encoding="utf8")
    runner = CliRunner()
    res = runner.invoke(app, ["convert-corpus", "brat", str(brat), str(tmp_path / "corpus"),
                              "--split", "0.5,0.5,0", "--seed", "0"])
    assert res.exit_code == 0, res.output
    record = tmp_path / "models" / "corpus.json"
    res = runner.invoke(app, ["deid", "corpus", str(tmp_path / "corpus"), str(tmp_path / "out"),
                              "--record", str(record)])
    assert res.exit_code == 0, res.output
    info = json.loads(record.read_text())
    assert info["enabled"] and info["files"]["train.spacy"]["overlapping_phi"]["ents"] == 1
    docs = list(DocBin().from_disk(tmp_path / "out" / "train.spacy").get_docs(
        __import__("spacy").blank("en").vocab))
    assert len(docs) == 1 and "[NAME]" in docs[0].text and "Smith" not in docs[0].text
    assert [(r.head.text, r.tail.text) for r in get_relations(docs[0])] == [("aspirin", "rash")]
    from spacy_clinicalbert.packaging.meta import build_meta

    model = tmp_path / "model"
    model.mkdir()
    (model / "meta.json").write_text(json.dumps({"lang": "en", "name": "x", "version": "0"}))
    meta = build_meta(model, name="en_x", version="1", deid_info=record.parent / "deid.json")
    assert meta["clinicalbert"]["deidentification_corpus"]["strategy"] == "placeholder"
    off = runner.invoke(app, ["deid", "corpus", str(tmp_path / "corpus"), str(tmp_path / "off"),
                              "--enabled", "no"])
    assert off.exit_code == 0 and (tmp_path / "off" / "train.spacy").is_symlink()
    assert not json.loads((tmp_path / "off" / "deid.json").read_text())["enabled"]


def test_workflow_trains_and_evaluates_on_the_deid_corpus():
    from pathlib import Path

    from weasel.util import load_project_config

    config = load_project_config(Path(__file__).resolve().parents[1])
    commands = {c["name"]: c for c in config["commands"]}
    for step, workflow in (("deid", "all"), ("demo-deid", "offline-demo")):
        assert any("deid corpus corpus corpus/deid" in line for line in commands[step]["script"])
        steps = config["workflows"][workflow]
        assert steps.index(step) == steps.index(step.replace("deid", "convert-corpus")) + 1
    for step in ("train", "demo-train"):
        assert "--paths.train corpus/deid/train.spacy" in commands[step]["script"][0]
    assert "corpus/deid/test.spacy" in commands["evaluate"]["script"][0]
