"""tune-threshold: the relation threshold chosen on dev by re-filtering one pass's scores is
the one whose real run (the component thresholding itself) scores best, and it is saved."""
import json

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from typer.testing import CliRunner

from explain_pipelines import _trained_path, examples
from spacy_clinicalbert.cli import app
from spacy_clinicalbert.relations.scorer import score_relations, scorer_settings
from spacy_clinicalbert.relations.threshold import choose_threshold


def _dev(nlp, path):
    db = DocBin(store_user_data=True)
    for eg in examples(nlp, 24, seed=2):
        db.add(eg.reference)
    db.to_disk(path)
    return path


def _real_f(nlp, golds, threshold):
    pipe = nlp.get_pipe("clinical_relations")
    pipe.cfg["threshold"] = threshold
    docs = list(nlp.pipe(g.text for g in golds))
    raw = score_relations([Example(d, g) for d, g in zip(docs, golds, strict=True)],
                          **scorer_settings(pipe))
    return raw["rel_micro_f"]


def test_choice_matches_real_runs_and_is_saved(tiny_bert, tmp_path):
    folder = _trained_path(str(tiny_bert))
    nlp = spacy.load(folder)
    dev = _dev(nlp, tmp_path / "dev.spacy")
    golds = list(DocBin().from_disk(dev).get_docs(nlp.vocab))
    grid = [0.3, 0.6, 0.9, 0.99, 0.999]
    choice = choose_threshold(nlp, golds, grid=grid)
    assert choice.docs == 24 and choice.previous == 0.5 and choice.floor is not None
    assert nlp.get_pipe("clinical_relations").cfg["threshold"] == 0.5  # left as it was
    for t in grid:  # one pass re-filtered == the component run at that threshold
        assert abs(choice.scores[t]["f"] - _real_f(nlp, golds, t)) < 1e-9, t
    assert choice.scores[choice.best]["f"] == max(s["f"] for s in choice.scores.values())

    report = tmp_path / "thresholds.json"
    result = CliRunner().invoke(app, ["tune-threshold", str(folder), str(dev),
                                      str(tmp_path / "tuned"), "--grid", "0.3,0.6,0.9,0.99,0.999",
                                      "--report", str(report)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "floor" in said and f"threshold {choice.best:.2f}" in said
    tuned = spacy.load(tmp_path / "tuned")
    # (cfg.json goes through srsly's JSON, which may not round-trip the last bit of a float)
    assert tuned.get_pipe("clinical_relations").cfg["threshold"] == pytest.approx(choice.best)
    assert tuned.config["components"]["clinical_relations"]["threshold"] == pytest.approx(choice.best)
    assert json.loads(report.read_text())["best"] == choice.best
    assert tuned.meta["clinicalbert"]["relation_threshold"]["best"] == pytest.approx(choice.best)


def test_bad_grid_and_dev_or_pipeline_without_relations(tiny_bert, tmp_path):
    folder = _trained_path(str(tiny_bert))
    nlp = spacy.load(folder)
    dev = _dev(nlp, tmp_path / "dev.spacy")
    bad = CliRunner().invoke(app, ["tune-threshold", str(folder), str(dev), str(tmp_path / "o"),
                                   "--grid", "0.9:0.1:0.1"])
    assert bad.exit_code == 1 and "STEP must be positive" in " ".join(bad.output.split())
    plain = DocBin()
    plain.add(nlp.make_doc("patient developed rash after aspirin ."))
    plain.to_disk(tmp_path / "plain.spacy")
    none = CliRunner().invoke(app, ["tune-threshold", str(folder), str(tmp_path / "plain.spacy"),
                                    str(tmp_path / "o")])
    assert none.exit_code == 0 and "threshold unchanged" in " ".join(none.output.split())
    assert spacy.load(tmp_path / "o").get_pipe("clinical_relations").cfg["threshold"] == 0.5
    plain_nlp = spacy.blank("en")
    plain_nlp.to_disk(tmp_path / "blank")
    skipped = CliRunner().invoke(app, ["tune-threshold", str(tmp_path / "blank"), str(dev),
                                       str(tmp_path / "o2")])
    assert skipped.exit_code == 0 and "saved it unchanged" in " ".join(skipped.output.split())
    assert (tmp_path / "o2" / "config.cfg").exists()
