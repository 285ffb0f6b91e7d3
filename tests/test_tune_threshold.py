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


def _trained_shape(shape, tiny_bert, tmp_path):
    """A corpus of `shape` (test_training_init_config's), its init-config pipeline trained
    6 steps on the tiny BERT: (corpus folder, model folder)."""
    from spacy.cli.train import train
    from test_training_init_config import _convert

    from spacy_clinicalbert.training import init_config

    corpus = _convert(shape, tmp_path)
    init_config(corpus, tmp_path / "training.cfg", base_model=str(tiny_bert))
    train(tmp_path / "training.cfg", tmp_path / "out", use_gpu=-1,
          overrides={"training.max_steps": 6, "training.eval_frequency": 3})
    return corpus, tmp_path / "out" / "model-last"


def _span_prf(docs, golds, key="entities"):
    tp = n_pred = n_gold = 0
    for doc, gold in zip(docs, golds, strict=True):
        pred = {(s.start_char, s.end_char, s.label_) for s in doc.spans.get(key, [])}
        ref = {(s.start_char, s.end_char, s.label_) for s in gold.spans.get(key, [])}
        tp, n_pred, n_gold = tp + len(pred & ref), n_pred + len(pred), n_gold + len(ref)
    p, r = (tp / n_pred if n_pred else 0.0), (tp / n_gold if n_gold else 0.0)
    return 2 * p * r / (p + r) if p + r else 0.0


def test_spancat_threshold_matches_real_runs_and_is_tuned_before_relations(tiny_bert, tmp_path):
    """Chia's shape (overlapping entities + relations): the span threshold chosen from one
    pass equals the component's own runs at each threshold, and the CLI tunes spancat,
    then relations on the tuned entities, and saves both."""
    from spacy_clinicalbert.entities.threshold import choose_span_threshold, spancat_components

    corpus, folder = _trained_shape("overlapping", tiny_bert, tmp_path)
    nlp = spacy.load(folder)
    assert spancat_components(nlp) == ["clinical_spancat"]
    dev = corpus / "dev.spacy"
    golds = list(DocBin().from_disk(dev).get_docs(nlp.vocab))
    grid = [0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.5]
    choice = choose_span_threshold(nlp, golds, "clinical_spancat", grid)
    assert choice.docs == len(golds) > 0 and choice.previous == 0.5
    # 0 keeps every suggestion: far more spans than gold ones, so never chosen
    assert 0.0 in choice.too_many and choice.best not in choice.too_many
    assert choose_span_threshold(nlp, golds, "clinical_spancat", grid,
                                 max_spans_per_gold=1e-9).best == 0.5  # none allowed: kept
    pipe = nlp.get_pipe("clinical_spancat")
    assert pipe.cfg["threshold"] == 0.5
    for t in grid:
        pipe.cfg["threshold"] = t
        real = _span_prf(list(nlp.pipe(g.text for g in golds)), golds)
        assert abs(choice.scores[t]["f"] - real) < 1e-9, t
    assert len({round(s["f"], 6) for s in choice.scores.values()}) > 1  # the grid matters here

    report = tmp_path / "thresholds.json"
    result = CliRunner().invoke(app, ["tune-threshold", str(folder), str(dev), str(tmp_path / "tuned"),
                                      "--grid", ",".join(map(str, grid)), "--report", str(report)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert said.index("clinical_spancat on") < said.index("clinical_relations on")
    records = json.loads(report.read_text())
    assert records["clinical_spancat"]["best"] == choice.best
    tuned = spacy.load(tmp_path / "tuned")
    for name in ("clinical_spancat", "clinical_relations"):
        assert tuned.config["components"][name]["threshold"] == pytest.approx(records[name]["best"])
        assert tuned.get_pipe(name).cfg["threshold"] == pytest.approx(records[name]["best"])
    assert tuned.meta["clinicalbert"]["span_threshold"]["best"] == pytest.approx(choice.best)
    only = CliRunner().invoke(app, ["tune-threshold", str(folder), str(dev), str(tmp_path / "t2"),
                                    "-c", "no_such_pipe"])
    assert only.exit_code == 1 and "No component no_such_pipe" in " ".join(only.output.split())


def test_category_threshold_matches_evaluate_and_evaluate_reads_it(tiny_bert, tmp_path):
    """ADE's shape: textcat_multilabel's threshold chosen from one pass equals evaluate's
    macro F1 at each threshold; the tuned pipeline keeps it and evaluate uses it by default."""
    from spacy_clinicalbert.categories.threshold import choose_category_threshold, multilabel_textcats
    from spacy_clinicalbert.evaluation import evaluate_pipeline

    corpus, folder = _trained_shape("partial", tiny_bert, tmp_path)
    nlp = spacy.load(folder)
    assert multilabel_textcats(nlp) == ["textcat_multilabel"]
    dev = corpus / "dev.spacy"
    golds = list(DocBin().from_disk(dev).get_docs(nlp.vocab))
    grid = [round(0.1 * k, 1) for k in range(1, 10)]
    choice = choose_category_threshold(nlp, golds, "textcat_multilabel", grid)
    assert choice.docs == len(golds) and choice.previous == 0.5
    for t in grid:
        cats = evaluate_pipeline(str(folder), dev, nlp=nlp, threshold=t, plots=False,
                                 progress=False)["categories"]
        assert cats["threshold"] == t and cats["threshold_source"] == "--threshold"
        assert abs(choice.scores[t]["f"] - cats["macro_f"]) < 1e-9, t
    result = CliRunner().invoke(app, ["tune-threshold", str(folder), str(dev), str(tmp_path / "tuned"),
                                      "--grid", ",".join(map(str, grid))])
    assert result.exit_code == 0, result.output
    tuned = spacy.load(tmp_path / "tuned")
    best = tuned.meta["clinicalbert"]["category_threshold"]["best"]
    assert best == pytest.approx(choice.best)
    assert tuned.get_pipe("textcat_multilabel").cfg["threshold"] == pytest.approx(best)
    cats = evaluate_pipeline(str(tmp_path / "tuned"), dev, plots=False, progress=False)["categories"]
    assert cats["threshold"] == pytest.approx(best)
    assert cats["threshold_source"] == "component textcat_multilabel"
    bad = CliRunner().invoke(app, ["tune-threshold", str(folder), str(dev), str(tmp_path / "t3"),
                                   "-c", "ner"])
    assert bad.exit_code == 1 and "No threshold to tune in ner" in " ".join(bad.output.split())
