"""`check-data`: each warning and error fires on a corpus built to trigger it, and none on a clean one."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest
from spacy.tokens import Doc, Span
from thinc.api import Config
from typer.testing import CliRunner

from spacy_clinicalbert import add_relation
from spacy_clinicalbert.cli import app
from spacy_clinicalbert.corpus import install_extensions
from spacy_clinicalbert.corpus.checks import check_corpus
from spacy_clinicalbert.corpus.writer import write_splits
from spacy_clinicalbert.layers import CATEGORIES, ENTITIES, RELATIONS, set_layers
from spacy_clinicalbert.text import blank_clinical

REPO = Path(__file__).resolve().parents[1]
ALL = (ENTITIES, RELATIONS, CATEGORIES)
SpanSpec = Tuple[int, int, str]


@pytest.fixture(scope="module")
def nlp():
    install_extensions()
    return blank_clinical()


def make_doc(
    nlp,
    text: str,
    ents: Sequence[SpanSpec] = (),
    nested: Sequence[SpanSpec] = (),
    rels: Sequence[Tuple[int, int, str]] = (),
    cats: Optional[Dict[str, float]] = None,
    layers: Sequence[str] = ALL,
    note_id: Optional[str] = None,
    sent_starts: Optional[Sequence[int]] = None,
) -> Doc:
    """ents go to doc.ents and doc.spans['entities'], nested only to the group;
    rels index into ents + nested."""
    doc = nlp.make_doc(text)
    if sent_starts is not None:
        for token in doc:
            token.is_sent_start = token.i in sent_starts
    spans = [Span(doc, s, e, label=label) for s, e, label in list(ents) + list(nested)]
    if ENTITIES in layers:
        doc.ents = spans[: len(ents)]
        doc.spans["entities"] = spans
    for head, tail, label in rels:
        add_relation(doc, spans[head], spans[tail], label)
    if cats is not None:
        doc.cats = dict(cats)
    set_layers(doc, layers)
    doc._.note_id = note_id
    return doc


def clean_doc(nlp, i: int) -> Doc:
    """'Patient {i} on warfarin developed bleeding .': DRUG -ADE-> AE, one of two exclusive cats."""
    pos = i % 2 == 0
    return make_doc(
        nlp,
        f"Patient {i} on warfarin developed bleeding .",
        ents=[(3, 4, "DRUG"), (5, 6, "AE")],
        rels=[(0, 1, "ADE")],
        cats={"POS": float(pos), "NEG": float(not pos)},
        note_id=f"N{i}",
    )


def clean_splits(nlp) -> Dict[str, List[Doc]]:
    return {
        "train": [clean_doc(nlp, i) for i in range(20)],
        "dev": [clean_doc(nlp, 100 + i) for i in range(4)],
        "test": [clean_doc(nlp, 200 + i) for i in range(4)],
    }


def write(tmp_path: Path, splits: Dict[str, List[Doc]]) -> Path:
    folder = tmp_path / "corpus"
    write_splits(splits, folder)
    return folder


def pipeline_config(**components) -> Config:
    """A config with just what check-data reads: pipeline order, factories and their settings."""
    blocks = {"clinicalbert": {"factory": "clinicalbert", "model": {"window": 96, "stride": 72}}}
    for name, block in components.items():
        blocks[name] = {"factory": name, **block} if "factory" not in block else block
    return Config({"nlp": {"pipeline": list(blocks)}, "components": blocks})


def candidates(**settings) -> dict:
    return {"candidates": {"@misc": "spacy-clinicalbert.relation_candidates.v1", **settings}}


def full_config() -> Config:
    return pipeline_config(ner={}, clinical_relations=candidates(sentence_window=-1), textcat={})


def flat(text: str) -> str:
    """CLI output with wasabi's line wrapping undone."""
    return " ".join(text.split())


def has(messages: List[str], *parts: str) -> bool:
    return any(all(part in m for part in parts) for m in messages)


# ---------------------------------------------------------------- clean corpora


def test_clean_corpus_has_no_warnings(nlp, tmp_path):
    folder = write(tmp_path, clean_splits(nlp))
    for config in (None, full_config(), REPO / "configs" / "cpu.cfg"):
        result = check_corpus(folder, config)
        assert result.errors == [] and result.warnings == [], (config, result.warnings, result.errors)
        assert not result.failed(strict=True)
    assert has(result.notes, "look exclusive")
    titles = [t.title for t in result.tables]
    assert titles[0].startswith("Docs and annotation layers") and any("Relation candidates" in t for t in titles)
    corpus = result.tables[0]
    assert corpus.header == ["", "train", "dev", "test"]
    assert ["docs annotating relations", 20, 4, 4] in corpus.rows


def test_missing_train_is_an_error(nlp, tmp_path):
    folder = write(tmp_path, {"dev": [clean_doc(nlp, 1)]})
    result = check_corpus(folder)
    assert has(result.errors, "No train.spacy")


# ---------------------------------------------------------------- layers


def test_trained_layer_not_annotated_in_train(nlp, tmp_path):
    splits = clean_splits(nlp)
    splits["train"] = [
        make_doc(nlp, f"Patient {i} on warfarin .", ents=[(3, 4, "DRUG")], layers=[ENTITIES]) for i in range(20)
    ]
    folder = write(tmp_path, splits)
    result = check_corpus(folder, full_config())
    assert has(result.errors, "clinical_relations", "no training doc annotates relations")
    assert has(result.errors, "textcat", "no training doc annotates categories")
    assert not has(result.errors, "'ner'")
    assert check_corpus(folder).errors == []  # without a config nothing is required


def test_trained_layer_without_labels(nlp, tmp_path):
    splits = clean_splits(nlp)
    splits["train"] = [make_doc(nlp, f"Patient {i} is well .", layers=[ENTITIES]) for i in range(20)]
    result = check_corpus(write(tmp_path, splits), pipeline_config(ner={}))
    assert has(result.errors, "'ner'", "no entities labels")


def test_train_with_no_layer_at_all(nlp, tmp_path):
    splits = {"train": [make_doc(nlp, f"Note {i} .", layers=[]) for i in range(3)], "dev": [clean_doc(nlp, 1)]}
    assert has(check_corpus(write(tmp_path, splits)).errors, "No training doc annotates any layer")


# ---------------------------------------------------------------- labels


def test_labels_unseen_in_train_and_rare(nlp, tmp_path):
    splits = clean_splits(nlp)
    dose = lambda i: make_doc(  # noqa: E731
        nlp, f"Patient {i} took 5 mg warfarin .", ents=[(3, 5, "DOSE"), (5, 6, "DRUG")],
        rels=[(1, 0, "DRUG-DOSE")], cats={"POS": 1.0, "NEG": 0.0},
    )
    splits["train"] += [dose(300 + i) for i in range(3)]
    splits["dev"].append(
        make_doc(nlp, "Patient 400 got hives .", ents=[(3, 4, "RASH")], cats={"POS": 0.0, "NEG": 1.0, "OTHER": 0.0})
    )
    result = check_corpus(write(tmp_path, splits))
    assert has(result.warnings, "entities", "in dev but not in train", "RASH")
    assert has(result.warnings, "categories", "in dev but not in train", "OTHER")
    assert has(result.warnings, "entities", "fewer than 10", "DOSE (3)")
    assert has(result.warnings, "relations", "fewer than 10", "DRUG-DOSE (3)")
    labels = next(t for t in result.tables if t.title == "Labels per split")
    assert ["entity", "RASH", 0, 1, 0] in labels.rows


# ---------------------------------------------------------------- entities


def long_entity_doc(nlp, i: int) -> Doc:
    """'Patient {i} had severe skin rash .': a 3-token AE."""
    return make_doc(
        nlp, f"Patient {i} had severe skin rash .", ents=[(3, 6, "AE")], cats={"POS": 1.0, "NEG": 0.0}, note_id="PMID-7"
    )


def test_entity_longer_than_window(nlp, tmp_path):
    splits = clean_splits(nlp)
    splits["train"].append(long_entity_doc(nlp, 500))
    folder = write(tmp_path, splits)
    config = pipeline_config(ner={})
    config["components"]["clinicalbert"]["model"]["window"] = 2
    result = check_corpus(folder, config)
    assert has(result.warnings, "longer than the encoder window of 2", "1 in train", "note PMID-7", "severe skin rash")
    assert not has(check_corpus(folder).warnings, "encoder window")  # default window 96



def test_window_of_clinicalbert_v2_span_getter(nlp, tmp_path):
    """ClinicalBertTransformer.v2 keeps its window in `model.get_spans`."""
    from spacy_clinicalbert.corpus.checks import WORDPIECE_WINDOWS
    from spacy_clinicalbert.transformer.windows import WORDPIECE_WINDOWS as REGISTERED

    assert WORDPIECE_WINDOWS == REGISTERED
    splits = clean_splits(nlp)
    splits["train"].append(long_entity_doc(nlp, 500))
    folder = write(tmp_path, splits)

    def v2_config(**windows) -> Config:
        config = pipeline_config(ner={})
        config["components"]["clinicalbert"]["model"] = {
            "@architectures": "spacy-clinicalbert.ClinicalBertTransformer.v2",
            "get_spans": {"@span_getters": WORDPIECE_WINDOWS, **windows},
        }
        return config

    result = check_corpus(folder, v2_config(window=2, stride=2))
    assert has(result.warnings, "longer than the encoder window of 2", "1 in train")
    result = check_corpus(folder, v2_config())  # the span getter's default window, 96
    assert not has(result.warnings, "encoder window")
    assert not has(result.notes, "window check skipped")

def test_entity_longer_than_spancat_suggestions(nlp, tmp_path):
    splits = clean_splits(nlp)
    splits["train"].append(long_entity_doc(nlp, 500))
    folder = write(tmp_path, splits)
    suggester = {"@misc": "spacy.ngram_range_suggester.v1", "min_size": 1, "max_size": 2}
    result = check_corpus(folder, pipeline_config(spancat={"spans_key": "entities", "suggester": suggester}))
    assert has(result.warnings, "'spancat' never suggests", "1-2", "1 in train", "severe skin rash")
    assert result.errors == []
    # The default suggester (1-3) reaches it; spaCy's default key 'sc' is in no doc.
    result = check_corpus(folder, pipeline_config(spancat={}))
    assert not has(result.warnings, "never suggests")
    assert has(result.errors, "doc.spans['sc']", "spans_key")


def nested_doc(nlp, i: int) -> Doc:
    """'Patient {i} had warfarin toxicity .': AE in doc.ents, the DRUG inside it only in the group."""
    return make_doc(
        nlp, f"Patient {i} had warfarin toxicity .", ents=[(3, 5, "AE")], nested=[(3, 4, "DRUG")],
        rels=[(1, 0, "ADE")], cats={"POS": 1.0, "NEG": 0.0}, note_id=f"NEST{i}",
    )


def test_overlapping_entities_suggest_spancat(nlp, tmp_path):
    splits = clean_splits(nlp)
    splits["train"] += [nested_doc(nlp, 600 + i) for i in range(5)]  # 5 of 50 entities (10 %)
    folder = write(tmp_path, splits)
    result = check_corpus(folder, pipeline_config(ner={}))
    assert has(result.warnings, "5 of 50 training entities", "not in doc.ents", "spancat")
    with_spancat = pipeline_config(ner={}, spancat={"spans_key": "entities"})
    result = check_corpus(folder, with_spancat)
    assert not has(result.warnings, "not in doc.ents") and has(result.notes, "5 of 50 training entities")
    splits["train"] = splits["train"][:-4]  # 1 of 42: below 5 %
    assert not has(check_corpus(write(tmp_path, splits), pipeline_config(ner={})).warnings, "not in doc.ents")


# ---------------------------------------------------------------- relations


def test_unreachable_relations_and_their_reasons(nlp, tmp_path):
    splits = clean_splits(nlp)
    splits["train"].append(nested_doc(nlp, 700))
    splits["train"].append(
        make_doc(
            nlp, "Patient took warfarin . Bleeding developed .", ents=[(2, 3, "DRUG"), (4, 5, "AE")],
            rels=[(0, 1, "ADE")], cats={"POS": 1.0, "NEG": 0.0}, sent_starts=[0, 4], note_id="SENT",
        )
    )
    folder = write(tmp_path, splits)
    # Candidates from doc.ents within one sentence.
    result = check_corpus(folder, pipeline_config(clinical_relations=candidates(sentence_window=0)))
    assert has(result.warnings, "2 of 22 training relations", "head not in candidate source 'ents': 1", "note NEST700")
    assert has(result.warnings, "sentence_window 0", "note SENT")
    # The factory defaults (source 'ents', sentences ignored): only the nested head is out of reach.
    result = check_corpus(folder)
    assert has(result.warnings, "1 of 22 training relations", "head not in candidate source 'ents': 1")
    assert not has(result.warnings, "sentence_window")
    # Over the whole entity group and across sentences everything is reachable.
    result = check_corpus(folder, pipeline_config(clinical_relations=candidates(source="entities", sentence_window=-1)))
    assert not has(result.warnings, "never candidates")
    # Adjacent pairs only: every clean relation (1 token apart) is out of reach.
    result = check_corpus(folder, pipeline_config(clinical_relations=candidates(max_distance=0, sentence_window=-1)))
    assert has(result.warnings, "of 22 training relations", "max_distance 0")
    assert has(result.notes, "dev relations are never candidates", "at most 0.0%")


def test_type_pairs_allowed_by_config_and_symmetric_labels(nlp, tmp_path):
    folder = write(tmp_path, clean_splits(nlp))
    only_ae_drug = candidates(sentence_window=-1, allowed_pairs={"ADE": [["AE", "DRUG"]]})
    result = check_corpus(folder, pipeline_config(clinical_relations=only_ae_drug))
    assert has(result.warnings, "20 of 20 training relations", "entity-type pair not allowed")
    symmetric = {**only_ae_drug, "symmetric_labels": ["ADE"]}
    assert not has(check_corpus(folder, pipeline_config(clinical_relations=symmetric)).warnings, "never candidates")


# ---------------------------------------------------------------- categories


def test_rare_category_and_multilabel(nlp, tmp_path):
    splits = clean_splits(nlp)
    splits["train"] = [
        make_doc(nlp, f"Note {i} .", cats={"ADE": float(i == 0)}, layers=[CATEGORIES]) for i in range(150)
    ]
    splits["dev"] = [make_doc(nlp, "Dev note .", cats={"ADE": 1.0}, layers=[CATEGORIES])]
    splits["test"] = []
    result = check_corpus(write(tmp_path, splits))
    assert has(result.warnings, "under 1%", "ADE (0.7%)")
    assert has(result.notes, "look multi-label")
    table = next(t for t in result.tables if t.title == "Categories in train")
    assert table.rows == [["ADE", 1, 150, "0.7%"]]
    # textcat (exclusive) cannot train on one label
    assert has(check_corpus(write(tmp_path, splits), pipeline_config(textcat={})).errors, "at least 2 labels")


def test_exclusive_textcat_on_docs_with_two_or_no_positive_labels(nlp, tmp_path):
    splits = clean_splits(nlp)
    for doc in splits["train"][:3]:
        doc.cats = {"POS": 1.0, "NEG": 1.0}
    splits["train"][3].cats = {"POS": 0.0, "NEG": 0.0}
    folder = write(tmp_path, splits)
    result = check_corpus(folder, pipeline_config(textcat={}))
    assert has(result.warnings, "exclusive", "4 of 20 training docs", "0 or more than 1 positive")
    assert not has(check_corpus(folder, pipeline_config(textcat_multilabel={})).warnings, "exclusive")


# ---------------------------------------------------------------- hygiene


def test_empty_docs_and_texts_shared_across_splits(nlp, tmp_path):
    splits = clean_splits(nlp)
    empty = Doc(nlp.vocab, words=[])
    set_layers(empty, [CATEGORIES])
    empty.cats = {"POS": 0.0, "NEG": 1.0}
    splits["train"].append(empty)
    leak = clean_doc(nlp, 3)
    splits["test"].append(make_doc(nlp, "Patient 3 on  warfarin\ndeveloped bleeding .", cats={"POS": 1.0, "NEG": 0.0}))
    splits["dev"].append(leak)
    result = check_corpus(write(tmp_path, splits))
    assert has(result.warnings, "1 train docs have no tokens")
    assert has(result.warnings, "in more than one split", "1 in dev, 1 in test", "also in train")


# ---------------------------------------------------------------- CLI


def test_cli_exit_codes(nlp, tmp_path):
    runner = CliRunner()
    clean = write(tmp_path / "clean", clean_splits(nlp))
    res = runner.invoke(app, ["check-data", str(clean), "--strict"])
    assert res.exit_code == 0, res.output
    assert "Check passed" in flat(res.output) and "Relation candidates" in flat(res.output)

    splits = clean_splits(nlp)
    splits["train"].append(long_entity_doc(nlp, 500))
    splits["train"].append(nested_doc(nlp, 700))  # an unreachable relation: a warning
    warned = write(tmp_path / "warned", splits)
    assert runner.invoke(app, ["check-data", str(warned)]).exit_code == 0
    res = runner.invoke(app, ["check-data", str(warned), "--strict"])
    assert res.exit_code == 1 and "are never candidates" in flat(res.output)

    entities_only = {
        "train": [make_doc(nlp, f"Patient {i} on warfarin .", ents=[(3, 4, "DRUG")], layers=[ENTITIES]) for i in range(12)],
        "dev": [make_doc(nlp, "Patient 99 on warfarin .", ents=[(3, 4, "DRUG")], layers=[ENTITIES])],
    }
    bad = write(tmp_path / "bad", entities_only)
    config_path = tmp_path / "relations.cfg"
    full_config().to_disk(config_path)
    res = runner.invoke(app, ["check-data", str(bad), "--config", str(config_path)])
    assert res.exit_code == 1, res.output
    assert "no training doc annotates relations" in flat(res.output)
    assert runner.invoke(app, ["check-data", str(tmp_path / "nowhere")]).exit_code == 1
    broken = pipeline_config(clinical_relations={"candidates": {"@misc": "no-such-candidates.v1"}})
    broken.to_disk(config_path)
    res = runner.invoke(app, ["check-data", str(clean), "--config", str(config_path)])
    assert res.exit_code == 1 and "Could not check the corpus" in flat(res.output)

    res = runner.invoke(app, ["check-data", "--help"])
    assert res.exit_code == 0 and "--config" in res.output and "--strict" in res.output


def test_steps_never_evaluated_warn_and_no_evaluation_is_an_error(nlp, tmp_path):
    folder = write(tmp_path, clean_splits(nlp))
    cpu = REPO / "configs" / "cpu.cfg"  # max_steps 1500, eval_frequency 250
    assert check_corpus(folder, cpu).warnings == []
    result = check_corpus(folder, cpu, max_steps=400, eval_frequency=250)
    assert has(result.warnings, "steps 251-400 are never evaluated", "eval_frequency 200")
    result = check_corpus(folder, cpu, max_steps=40, eval_frequency=50)
    assert has(result.errors, "never evaluates", "model-best is never written")
    res = CliRunner().invoke(app, ["check-data", str(folder), "--config", str(cpu),
                                   "--max-steps", "400", "--eval-frequency", "250", "--strict"])
    assert res.exit_code == 1 and "never evaluated" in flat(res.output)
