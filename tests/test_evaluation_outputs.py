"""`python -m spacy_clinicalbert evaluate` end to end on a saved tiny pipeline:
exit codes, metrics.json keys, PNG files, the report's sections and header."""
import json

import pytest
from evaluation_fixtures import build_nlp, write_gold
from typer.testing import CliRunner

from spacy_clinicalbert.cli import app

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_cli")
    nlp = build_nlp()
    nlp.meta.update({"name": "eval_tiny", "version": "0.0.1", "base_model": "tiny-bert-for-tests"})
    nlp.to_disk(root / "model")
    data = write_gold(root / "test.spacy", nlp.vocab)
    return root, data


def test_cli_writes_metrics_report_and_plots(saved):
    root, data = saved
    out = root / "metrics"
    result = CliRunner().invoke(
        app, ["evaluate", str(root / "model"), str(data), "--output", str(out), "--batch-size", "2"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("model", "data", "speed", "entities", "relations", "categories", "context",
                "not_evaluated", "plots"):
        assert key in metrics
    assert metrics["model"]["name"] == "en_eval_tiny"
    assert metrics["model"]["base_model"] == "tiny-bert-for-tests"
    assert metrics["speed"]["batch_size"] == 2 and metrics["speed"]["docs"] == 5
    # The same hand-counted figures as the in-process test, through a saved pipeline.
    assert metrics["entities"]["micro"]["f"] == pytest.approx(18 / 21)
    assert metrics["relations"]["micro"]["f"] == pytest.approx(6 / 11)
    assert metrics["categories"]["accuracy"] == pytest.approx(0.6)
    assert set(metrics["plots"]) == {"entities_f1", "relations_f1", "categories_confusion", "categories_f1"}
    for name in metrics["plots"].values():
        assert (out / name).read_bytes()[:8] == PNG_MAGIC
    report = (out / "report.md").read_text()
    assert report.startswith("# Evaluation of en_eval_tiny 0.0.1")
    assert "tiny-bert-for-tests" in report and str(data) in report
    for section in ("## Speed", "## Entities", "## Relations", "## Categories", "## ConText assertions"):
        assert section in report
    for name in metrics["plots"].values():
        assert f"]({name})" in report
    assert "| MILD | 66.7 | 66.7 | 66.7 |" in report
    assert "No all-pairs floor" in report
    assert "Entities micro F1" in result.output


def test_cli_multilabel_option_and_no_plots(saved):
    root, data = saved
    out = root / "multi"
    result = CliRunner().invoke(
        app, ["evaluate", str(root / "model"), str(data), "-o", str(out), "--cats-mode", "multilabel",
              "--threshold", "0.55", "--no-plots"]
    )
    assert result.exit_code == 0, result.output
    cats = json.loads((out / "metrics.json").read_text())["categories"]
    # SEVERE >= .55 in A (.6) and B (.9); MILD >= .55 in C, D, E (.8): the same
    # decisions as argmax, so every doc is right or wrong on both labels alike.
    assert cats["mode"] == "multilabel" and cats["mode_source"] == "set by option"
    assert cats["accuracy"] == pytest.approx(0.6)
    assert cats["confusion_per_label"]["SEVERE"] == [[2, 1], [1, 1]]
    assert not list(out.glob("*.png"))


def test_cli_errors_name_the_missing_thing(saved, tmp_path):
    root, data = saved
    runner = CliRunner()
    missing = tmp_path / "nope.spacy"
    result = runner.invoke(app, ["evaluate", str(root / "model"), str(missing), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "Data file not found" in result.output and "nope.spacy" in result.output
    result = runner.invoke(app, ["evaluate", str(tmp_path / "no_model"), str(data), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "Model folder not found" in result.output
    result = runner.invoke(app, ["evaluate", "en_no_such_package", str(data), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "Cannot load pipeline 'en_no_such_package'" in result.output
    result = runner.invoke(app, ["evaluate", str(root / "model"), str(data), "--cats-mode", "both"])
    assert result.exit_code == 1 and "Category mode must be one of" in result.output
