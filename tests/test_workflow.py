"""The project workflow's own pieces: project.yml, base-model resolution, package meta."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import srsly

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "spacy_clinicalbert", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_project_yml_is_valid_and_complete():
    from weasel.util import load_project_config

    config = load_project_config(ROOT)  # validates schema, commands and workflows (exits if not)
    commands = {c["name"] for c in config["commands"]}
    for workflow in ("all", "offline-demo"):
        steps = config["workflows"][workflow]
        assert set(steps) <= commands
        assert steps[-3:] == ["add-rules", "package", "smoke-test"]
    for var in ("base_model", "gpu_id", "corpus_format", "pretrain_steps", "train_steps"):
        assert var in config["vars"]
    for config_file in ("configs/cpu.cfg", "configs/gpu.cfg", "configs/demo.cfg", "configs/rules.cfg"):
        assert (ROOT / config_file).exists(), config_file


def test_each_step_is_named_after_its_command():
    """One name per step: a step runs the command of its own name (a demo step with the
    prefix demo-), and no visible command takes the name of a spaCy command that does
    something else (`spacy convert`, `spacy pretrain`, `spacy assemble`)."""
    import typer.main
    from weasel.util import load_project_config

    from spacy_clinicalbert.cli import app

    group = typer.main.get_command(app)
    visible = {name for name, command in group.commands.items() if not command.hidden}
    assert not visible & {"convert", "pretrain", "assemble"}
    assert {"convert-corpus", "domain-pretrain", "add-rules"} <= visible
    config = load_project_config(ROOT)
    ours = 0
    for step in config["commands"]:
        for line in step["script"]:
            if "-m spacy_clinicalbert " in line:
                command = line.split("-m spacy_clinicalbert ", 1)[1].split()[0]
                assert command in visible, (step["name"], command)
                assert step["name"].removeprefix("demo-") == command, step["name"]
                ours += 1
    assert ours >= 10


@pytest.mark.parametrize("old,new", [("convert", "convert-corpus"), ("pretrain", "domain-pretrain")])
def test_old_command_names_are_hidden_aliases(old, new):
    from typer.testing import CliRunner

    from spacy_clinicalbert.cli import app

    runner = CliRunner()
    listing = runner.invoke(app, ["--help"], terminal_width=200).output
    listed = {line.strip("│ ").split(" ")[0] for line in listing.split("Commands", 1)[1].splitlines()}
    assert new in listed and old not in listed
    result = runner.invoke(app, [old, "--help"], terminal_width=200)
    assert result.exit_code == 0 and f"Old name of `{new}`" in result.output
    assert runner.invoke(app, [new, "--help"], terminal_width=200).output.split("Usage:")[1].count("--") > 5


def test_add_rules_names_a_bad_rules_config(tmp_path):
    import spacy
    from typer.testing import CliRunner

    from spacy_clinicalbert.cli import app

    spacy.blank("en").to_disk(tmp_path / "trained")
    rules = tmp_path / "rules.cfg"
    rules.write_text('[nlp]\npipeline = ["clinical_context"]\n', encoding="utf8")
    result = CliRunner().invoke(app, ["add-rules", str(tmp_path / "trained"), str(rules), str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "no [components.clinical_context] block" in " ".join(result.output.split())


@pytest.mark.parametrize("config_file", ["configs/cpu.cfg", "configs/gpu.cfg", "configs/demo.cfg"])
def test_training_configs_build_the_documented_pipeline(config_file):
    """Each config resolves with our registered functions and its listeners find clinicalbert."""
    import spacy
    from spacy.util import load_config

    config = load_config(ROOT / config_file, overrides={"paths.base_model": "unused"})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names[:3] == ["clinicalbert", "ner", "clinical_relations"]
    assert nlp.pipe_names[3] in ("textcat", "textcat_multilabel")
    nlp._link_components()
    listeners = set(nlp.get_pipe("clinicalbert").listening_components)
    assert listeners == set(nlp.pipe_names[1:4])


def _env_offline(**extra):
    env = {k: v for k, v in os.environ.items()}
    env.update(HF_HUB_OFFLINE="1", **extra)
    return env


def test_base_model_stops_fast_with_how_to_continue(tmp_path):
    start = time.perf_counter()
    proc = run_cli("base-model", "emilyalsentzer/Bio_ClinicalBERT", str(tmp_path / "base"),
                   env=_env_offline())
    assert time.perf_counter() - start < 60
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "emilyalsentzer/Bio_ClinicalBERT" in out
    assert "--vars.base_model" in out and "on_missing_base_model fallback" in out
    assert not (tmp_path / "base.json").exists()


def test_base_model_fallback_is_loud_and_recorded(tmp_path, minilm_path):
    proc = run_cli("base-model", "emilyalsentzer/Bio_ClinicalBERT", str(tmp_path / "base"),
                   "--on-missing", "fallback", env=_env_offline())
    assert proc.returncode == 0, proc.stderr
    assert "FALLING BACK" in proc.stdout
    record = json.loads((tmp_path / "base.json").read_text())
    assert record["fallback"] is True and record["used"] == "minilm-offline"
    assert record["requested"] == "emilyalsentzer/Bio_ClinicalBERT"
    assert (tmp_path / "base").resolve() == minilm_path.resolve()


def test_package_meta_records_provenance(tmp_path):
    from spacy_clinicalbert.packaging.meta import build_meta

    model = tmp_path / "model"
    model.mkdir()
    srsly.write_json(model / "meta.json", {"lang": "en", "name": "pipeline", "version": "0.0.0",
                                           "requirements": ["spacy-transformers>=1.4.0,<1.5.0"]})
    srsly.write_json(tmp_path / "base.json", {"requested": "emilyalsentzer/Bio_ClinicalBERT",
                                              "used": "minilm-offline", "fallback": True})
    srsly.write_json(tmp_path / "stats.json", {"total": {"docs": 3}})
    meta = build_meta(model, name="en_clinicalbert", version="1.2.3",
                      base_info=tmp_path / "base.json", corpus_stats=tmp_path / "stats.json")
    assert meta["name"] == "clinicalbert" and meta["version"] == "1.2.3"
    assert any(r.startswith("spacy-clinicalbert>=") for r in meta["requirements"])
    assert "spacy-transformers>=1.4.0,<1.5.0" in meta["requirements"]
    info = meta["clinicalbert"]
    assert info["base_model_used"] == "minilm-offline" and info["fallback_to_offline_encoder"]
    assert info["training_data"] == {"total": {"docs": 3}}
    assert "WARNING" in meta["description"]
    with pytest.raises(FileNotFoundError, match="missing.json"):
        build_meta(model, name="en_x", version="1", base_info=tmp_path / "missing.json")
