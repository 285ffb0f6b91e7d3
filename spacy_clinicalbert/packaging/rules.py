"""Combine a trained pipeline with rule components described in a config file."""
from pathlib import Path
from typing import List

import spacy
from spacy.util import load_config


def add_rule_components(model_dir: Path, rules_config: Path, output_dir: Path) -> List[str]:
    """Load MODEL_DIR, add the components of RULES_CONFIG's pipeline at the end, save.

    Only the added components are initialized, so trained weights, the tokenizer
    and the labels stay untouched.
    """
    nlp = spacy.load(model_dir)
    config = load_config(rules_config, interpolate=True)
    names = list(config["nlp"]["pipeline"])
    blocks = config.get("components", {})
    init_settings = config.get("initialize", {}).get("components", {})
    missing = [name for name in names if name not in blocks]
    if missing:
        raise ValueError(
            f"{rules_config}: no [components.{missing[0]}] block for a pipeline entry."
        )
    clashes = [name for name in names if name in nlp.pipe_names]
    if clashes:
        raise ValueError(f"{model_dir} already has a component named '{clashes[0]}'.")
    for name in names:
        block = dict(blocks[name])
        factory = block.pop("factory", None)
        if factory is None:
            raise ValueError(f"{rules_config}: [components.{name}] needs a factory.")
        pipe = nlp.add_pipe(factory, name=name, config=block)
        if hasattr(pipe, "initialize"):
            pipe.initialize(lambda: [], nlp=nlp, **dict(init_settings.get(name, {})))
    output_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output_dir)
    return names
