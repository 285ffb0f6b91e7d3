"""Base model resolution: local folder, alias, cache, and a fast, helpful offline miss."""
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spacy_clinicalbert.transformer.model_resolution import (
    BaseModelUnavailable,
    hub_reachable,
    resolve_base_model,
)


def test_local_folder_resolves_to_itself(tiny_bert):
    assert resolve_base_model(str(tiny_bert)) == str(tiny_bert.absolute())


def test_offline_alias_is_the_packaged_encoder(minilm_path):
    resolved = Path(resolve_base_model("minilm-offline"))
    assert resolved == minilm_path.absolute()
    assert (resolved / "config.json").exists()


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(BaseModelUnavailable, match="no config.json"):
        resolve_base_model(str(tmp_path))


def test_missing_folder_names_the_path(tmp_path):
    missing = tmp_path / "nope" / "model"
    with pytest.raises(BaseModelUnavailable, match="no such folder") as err:
        resolve_base_model(str(missing))
    assert str(missing) in str(err.value)


def test_offline_miss_is_fast_and_helpful(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(BaseModelUnavailable) as err:
        resolve_base_model("emilyalsentzer/Bio_ClinicalBERT")
    elapsed = time.perf_counter() - start
    text = str(err.value)
    assert elapsed < 10
    assert "emilyalsentzer/Bio_ClinicalBERT" in text
    assert "Hugging Face cache" in text and "local folder" in text
    assert "minilm-offline" in text and "fetch-model" in text


def test_unreachable_hub_fails_within_timeout(monkeypatch, no_network):
    """No offline variable set: the probe, not minutes of retries, decides."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert hub_reachable(timeout=1.0) is False
    start = time.perf_counter()
    with pytest.raises(BaseModelUnavailable, match="unreachable"):
        resolve_base_model("clinicalbert", timeout=1.0)  # alias of Bio_ClinicalBERT
    assert time.perf_counter() - start < 10


def test_default_snippet_fails_fast_in_fresh_interpreter():
    """The README snippet with the default hub id, no network, no offline variable."""
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n    raise OSError('blocked')\n"
        "socket.create_connection = refuse\n"
        "import spacy\n"
        "nlp = spacy.blank('en')\n"
        "nlp.add_pipe('clinicalbert')\n"
        "nlp.initialize()\n"
    )
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    elapsed = time.perf_counter() - start
    assert proc.returncode != 0
    assert "BaseModelUnavailable" in proc.stderr
    assert "emilyalsentzer/Bio_ClinicalBERT" in proc.stderr
    # Interpreter start and imports included; resolution itself takes ~3 s at most.
    assert elapsed < 30, elapsed
