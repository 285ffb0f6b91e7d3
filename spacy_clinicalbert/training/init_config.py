"""`init_config()`: a training config with exactly the components a corpus has gold data for.

Like `spacy init config`, it renders a template (`training.cfg.jinja`, shipped with the
package) from a few decisions; here they come from the converted corpus
(`corpus_profile.py`), not from flags. The result validates as a spaCy config.
"""
from pathlib import Path
from typing import Dict, List, Optional, Union

from thinc.api import Config

from ..corpus.records import CorpusError
from .corpus_profile import (
    RELATION_DISTANCES,
    RELATION_GAP_QUANTILE,
    CorpusProfile,
    profile_corpus,
)

HARDWARE = ("cpu", "gpu")
ENCODER_MODES = ("auto", "fine-tune", "frozen")
TEMPLATE = Path(__file__).with_name("training.cfg.jinja")
# Share of the best-model score per task, renormalized over the tasks present.
TASK_WEIGHTS = {"entities": 0.35, "relations": 0.45, "categories": 0.2}
DEFAULT_BASE_MODEL = "models/pretrained"
# The category listener's grad_factor when a token layer (entities, relations) fine-tunes the
# same encoder. Their losses sum over tokens, the category's is one term per document, so with
# a factor of 1 the token layers set Adam's step size on the encoder and the category mostly
# rides on features tuned for entities. Measured on ADE (880 steps, one thread, seed 0):
# factor 1 / 3 / 6 gave category macro F1 82.4 / 83.0 / 84.2 (ROC-AUC 96.8 / 97.1 / 97.5) and
# entity F1 83.5 / 82.8 / 83.5, relations 72.1 / 71.8 / 73.2.
CATEGORY_GRAD_FACTOR = 6.0


def _score_weights(profile: CorpusProfile) -> Dict[str, Optional[float]]:
    tasks: Dict[str, List[str]] = {}
    if profile.entities == "ner":
        tasks["entities"] = ["ents_f", "ents_p", "ents_r", "ents_per_type"]
    elif profile.entities == "spancat":
        tasks["entities"] = ["spans_entities_f", "spans_entities_p", "spans_entities_r"]
    if profile.relations:
        tasks["relations"] = ["rel_micro_f", "rel_micro_p", "rel_micro_r", "rel_floor_micro_f"]
    if profile.textcat:
        main = "cats_macro_f"
        tasks["categories"] = [
            main, "cats_score", "cats_micro_f", "cats_macro_auc", "cats_f_per_type"
        ]
    total = sum(TASK_WEIGHTS[t] for t in tasks)
    weights: Dict[str, Optional[float]] = {}
    for task, keys in tasks.items():
        weights[keys[0]] = round(TASK_WEIGHTS[task] / total, 4)
        weights.update((key, None) for key in keys[1:])
    return weights


def encoder_frozen(profile: CorpusProfile, hardware: str, encoder: str = "auto") -> bool:
    """Whether the config freezes the encoder. `auto` freezes it on a CPU when documents'
    categories are all the corpus annotates: there, measured on MTSamples, heads on a frozen
    encoder (forward only, learning rate 0.03) reached 75.0 accuracy where fine-tuning in the
    same time had not left the majority class. Token-level layers (entities, relations) need
    fine-tuning, and a GPU fine-tunes fast enough."""
    if encoder not in ENCODER_MODES:
        raise ValueError(f"encoder must be one of {', '.join(ENCODER_MODES)}, got {encoder!r}")
    if encoder != "auto":
        return encoder == "frozen"
    token_layers = profile.entities or profile.relations
    return hardware == "cpu" and bool(profile.textcat) and not token_layers


def category_grad_factor(profile: CorpusProfile) -> float:
    """CATEGORY_GRAD_FACTOR when the category shares the encoder with a token layer, else 1
    (alone, the category's gradient is the encoder's whole gradient; Adam rescales it anyway)."""
    shared = bool(profile.textcat) and bool(profile.entities or profile.relations)
    return CATEGORY_GRAD_FACTOR if shared else 1.0


def render_config(
    profile: CorpusProfile,
    *,
    hardware: str = "cpu",
    base_model: str = DEFAULT_BASE_MODEL,
    corpus_path: Optional[str] = None,
    encoder: str = "auto",
) -> str:
    """The config text for `profile` (CorpusError when the corpus trains nothing)."""
    import jinja2

    if hardware not in HARDWARE:
        raise ValueError(f"hardware must be one of {', '.join(HARDWARE)}, got {hardware!r}")
    frozen = encoder_frozen(profile, hardware, encoder)
    if not (profile.entities or profile.relations or profile.textcat):
        raise CorpusError(
            str(profile.corpus),
            "the training split holds no entity, relation or category annotation: nothing to train "
            f"(training docs per layer: {profile.layers})",
        )
    entity_pipe = {"ner": "ner", "spancat": "clinical_spancat"}.get(profile.entities, "")
    heads = (entity_pipe, "clinical_relations" * profile.relations, profile.textcat)
    pipeline = ["clinicalbert"] + [p for p in heads if p]
    # Relations train on gold + predicted entities, so the recognizer annotates during training.
    # The recognizer reads the encoder output `ClinicalBert.update` leaves on the docs; only a
    # frozen encoder (no update) must annotate, and annotating a trained one encodes twice.
    annotating = (["clinicalbert"] if frozen else []) + (
        [entity_pipe] if entity_pipe and profile.relations else [])
    template = jinja2.Template(TEMPLATE.read_text(encoding="utf8"), keep_trailing_newline=True)
    text = template.render(
        corpus=corpus_path if corpus_path is not None else str(profile.corpus),
        summary=profile.summary(),
        hardware=hardware,
        gpu=hardware == "gpu",
        frozen=frozen,
        base_model=base_model,
        pipeline=pipeline,
        entities=profile.entities,
        overlap_pct=f"{100 * profile.overlap_share:.1f}",
        spancat_max_size=profile.spancat_max_size,
        relations=profile.relations,
        relation_source="entities" if profile.entities == "spancat" else "ents",
        relation_max_distance=profile.relation_max_distance,
        relation_distance_lowered=profile.relation_max_distance < RELATION_DISTANCES[-1],
        relation_gap_quantile=f"{profile.relation_gap_quantile:g}",
        relation_gap_share=f"{100 * RELATION_GAP_QUANTILE:g}",
        relation_negative_ratio=profile.relation_negative_ratio,
        negatives_per_positive=f"{profile.gold_negatives_per_positive:.0f}",
        textcat=profile.textcat,
        category_grad_factor=category_grad_factor(profile),
        annotating=annotating,
        score_weights=_score_weights(profile),
        min_layer_share=profile.min_layer_share,
    )
    # Fails here, not in spacy train, if the template is off.
    Config().from_str(text, interpolate=False)
    return text


def init_config(
    corpus: Union[str, Path],
    output: Optional[Union[str, Path]] = None,
    *,
    hardware: str = "cpu",
    base_model: str = DEFAULT_BASE_MODEL,
    encoder: str = "auto",
) -> str:
    """Profile `corpus` (a `convert` output folder), render its config, write it to `output`."""
    profile = profile_corpus(Path(corpus))
    text = render_config(profile, hardware=hardware, base_model=base_model, corpus_path=str(corpus),
                         encoder=encoder)
    if output is not None:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text, encoding="utf8")
    return text
