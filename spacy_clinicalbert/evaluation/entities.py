"""Entity scores: spaCy's own span scorer (the figures `spacy evaluate` prints) plus
per-label counts of gold and predicted entities, so every F1 shows its support."""
from collections import Counter
from typing import Dict, List

from spacy.language import Language
from spacy.scorer import Scorer
from spacy.training import Example

from .prf import macro


def entity_components(nlp: Language) -> List[str]:
    """Pipes that declare they write `doc.ents` (ner, entity_ruler, rule components)."""
    return [name for name in nlp.pipe_names if "doc.ents" in nlp.get_pipe_meta(name).assigns]


def has_gold_entities(examples: List[Example]) -> bool:
    return any(eg.reference.has_annotation("ENT_IOB") for eg in examples)


def score_entities(examples: List[Example]) -> Dict:
    """Micro and per-label P/R/F1 over `doc.ents`, on docs with gold entity annotation."""
    annotated = [eg for eg in examples if eg.reference.has_annotation("ENT_IOB")]
    spacy_scores = Scorer.score_spans(
        annotated, "ents", has_annotation=lambda doc: doc.has_annotation("ENT_IOB")
    )
    gold = Counter(ent.label_ for eg in annotated for ent in eg.reference.ents)
    pred = Counter(ent.label_ for eg in annotated for ent in eg.predicted.ents)
    per_type_scores = spacy_scores.get("ents_per_type") or {}
    per_type = {}
    for label in sorted(set(gold) | set(pred) | set(per_type_scores)):
        s = per_type_scores.get(label, {"p": 0.0, "r": 0.0, "f": 0.0})
        per_type[label] = {
            "p": float(s["p"]), "r": float(s["r"]), "f": float(s["f"]),
            "support": gold[label], "predicted": pred[label],
        }
    return {
        "micro": {k: float(spacy_scores.get(f"ents_{k}") or 0.0) for k in ("p", "r", "f")},
        "macro": macro(per_type),
        "per_type": per_type,
        "docs": len(annotated),
        "docs_without_gold_entities": len(examples) - len(annotated),
        "gold": sum(gold.values()),
        "predicted": sum(pred.values()),
    }
