"""meta.json for a packaged pipeline: requirements and what the model was made of."""
import json
from pathlib import Path
from typing import Any, Dict, Optional

from ..about import __version__


def _sibling_json(path: Optional[Path], name: str) -> Dict[str, Any]:
    sibling = path.parent / name if path is not None else None
    if sibling is None or not sibling.exists():
        return {"enabled": False, "step": "not run"}
    return json.loads(sibling.read_text(encoding="utf8"))


def _read_json(path: Optional[Path]) -> Optional[Dict[str, Any]]:
    if path is None:
        return None
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run the step that writes it first.")
    return json.loads(path.read_text(encoding="utf8"))


def build_meta(
    model_dir: Path,
    *,
    name: str,
    version: str,
    base_info: Optional[Path] = None,
    corpus_stats: Optional[Path] = None,
    pretrain_info: Optional[Path] = None,
    deid_info: Optional[Path] = None,
) -> Dict[str, Any]:
    """The trained meta.json plus our requirement and provenance.

    `spacy.load("en_clinicalbert")` needs our entry points, so the wheel requires
    spacy-clinicalbert; the provenance says which base model was really used
    (the packaged encoder may have stood in for ClinicalBERT) and on what data.
    """
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf8"))
    lang = meta.get("lang", "en")
    short = name[len(lang) + 1:] if name.startswith(f"{lang}_") else name
    meta.update(name=short, version=version)
    meta.setdefault("description", "ClinicalBERT pipeline: entities, relations, categories")
    requirement = f"spacy-clinicalbert>={__version__}"
    reqs = [r for r in meta.get("requirements", []) if not r.startswith("spacy-clinicalbert")]
    meta["requirements"] = reqs + [requirement]
    base = _read_json(base_info)
    corpus = _read_json(corpus_stats)
    pretrain = _read_json(pretrain_info)
    meta["clinicalbert"] = {
        "base_model_requested": base.get("requested") if base else None,
        "base_model_used": base.get("used") if base else None,
        "fallback_to_offline_encoder": bool(base and base.get("fallback")),
        "pretraining": pretrain,
        "training_data": corpus,
        # the workflow's optional de-identification step (deid.json), or that none ran
        "deidentification": (
            _read_json(deid_info) if deid_info is not None and deid_info.exists()
            else {"enabled": False, "step": "not run"}
        ),
        # its de-identification of the converted corpus (corpus.json next to deid.json)
        "deidentification_corpus": _sibling_json(deid_info, "corpus.json"),
    }
    meta["base_model"] = meta["clinicalbert"]["base_model_used"]
    if base and base.get("fallback"):
        meta["description"] += (
            f" (WARNING: trained from the offline encoder {base['used']}, not {base['requested']})"
        )
    return meta
