"""What the report header says about the model: meta name/version and the base model.

The base model is read from meta.json when the packaging step recorded it
(`base_model`, or `clinicalbert.base_model`), else from the transformer
component's config (`[components.<name>.model] name`), and the source is named.
"""
from typing import Any, Dict, Optional, Tuple

from spacy.language import Language

TRANSFORMER_FACTORIES = ("clinicalbert", "transformer")


def _base_model(nlp: Language) -> Tuple[Optional[Any], Optional[str]]:
    meta = nlp.meta
    if meta.get("base_model"):
        return meta["base_model"], "meta.json base_model"
    nested = meta.get("clinicalbert")
    if isinstance(nested, dict) and nested.get("base_model"):
        return nested["base_model"], "meta.json clinicalbert.base_model"
    try:  # the saved config keeps ${paths.base_model}: resolve the variables
        config = nlp.config.interpolate()
    except Exception:  # an unresolvable variable: show it as written
        config = nlp.config
    for name in nlp.pipe_names:
        if nlp.get_pipe_meta(name).factory in TRANSFORMER_FACTORIES:
            model_cfg = config["components"].get(name, {}).get("model", {})
            if isinstance(model_cfg, dict) and model_cfg.get("name"):
                return model_cfg["name"], f"config [components.{name}.model] name"
    return None, None


def model_info(nlp: Language, source: str) -> Dict:
    meta = nlp.meta
    base, base_source = _base_model(nlp)
    return {
        "source": source,
        "name": f"{meta.get('lang', nlp.lang)}_{meta.get('name', 'pipeline')}",
        "version": meta.get("version"),
        "spacy_version": meta.get("spacy_version"),
        "pipeline": list(nlp.pipe_names),
        "base_model": base,
        "base_model_source": base_source,
    }
