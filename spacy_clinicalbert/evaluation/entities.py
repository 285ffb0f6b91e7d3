"""Entity scores: spaCy's own span scorer (the figures `spacy evaluate` prints) plus
per-label counts of gold and predicted entities, so every F1 shows its support.

Only docs whose gold annotates entities (`spacy_clinicalbert.layers`) are scored: on
a doc whose entity layer is missing (an ADE-NEG sentence) a predicted entity is
neither right nor wrong, while on a doc annotated as having none it is a false positive.
"""
from collections import Counter
from typing import Any, Dict, List, Optional

from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example

from ..layers import ENTITIES, annotates
from ..prf import macro


def entity_components(nlp: Language) -> List[str]:
    """Pipes that declare they write `doc.ents` (ner, entity_ruler, rule components)."""
    return [name for name in nlp.pipe_names if "doc.ents" in nlp.get_pipe_meta(name).assigns]


def span_components(nlp: Language) -> List[str]:
    """Span categorizers (pipes that write `doc.spans` under a key of their own)."""
    return [name for name in nlp.pipe_names if "doc.spans" in nlp.get_pipe_meta(name).assigns
            and hasattr(nlp.get_pipe(name), "key")]


def entity_span_key(nlp: Language) -> Optional[str]:
    """The span group a span categorizer writes entities to, when the pipeline has no
    `doc.ents` writer but one (our `clinical_spancat`, or spaCy's `spancat`) instead:
    overlapping entities are scored there, as the converters write them."""
    if entity_components(nlp):
        return None
    names = span_components(nlp)
    if not names:
        return None
    # spaCy types pipes as plain callables; span_components kept those with a `key`.
    spancat: Any = nlp.get_pipe(names[0])
    return spancat.key


def annotates_entities(doc: Doc) -> bool:
    """Does gold doc `doc` annotate entities (its layer record, not ENT_IOB alone)?"""
    return annotates(doc, ENTITIES)


def _scorable(doc: Doc) -> bool:
    """`has_annotation` for spaCy's Scorer, which asks it of the gold *and* the predicted
    doc: a gold doc counts when it annotates entities, a predicted one whenever the
    pipeline set entities (a layer record copied onto it says nothing about that)."""
    return annotates_entities(doc) or doc.has_annotation("ENT_IOB")


def has_gold_entities(examples: List[Example]) -> bool:
    return any(annotates_entities(eg.reference) for eg in examples)


def _spans(doc: Doc, key: Optional[str]) -> list:
    if key is None:
        return list(doc.ents)
    return list(doc.spans[key]) if key in doc.spans else []


def score_entities(examples: List[Example], span_key: Optional[str] = None) -> Dict:
    """Micro and per-label P/R/F1 over `doc.ents` (or the span group `span_key`, for a
    span categorizer), on the docs that annotate entities.

    `docs` counts the docs scored; `docs_not_annotating` (and its older name
    `docs_without_gold_entities`) those left out because their entity layer is missing.
    """
    annotated = [eg for eg in examples if annotates_entities(eg.reference)]
    if span_key is None:
        spacy_scores = Scorer.score_spans(annotated, "ents", has_annotation=_scorable)
    else:
        spacy_scores = Scorer.score_spans(
            annotated, "ents", getter=lambda doc, _attr: _spans(doc, span_key),
            has_annotation=lambda doc: True, allow_overlap=True,
        )
    gold = Counter(ent.label_ for eg in annotated for ent in _spans(eg.reference, span_key))
    pred = Counter(ent.label_ for eg in annotated for ent in _spans(eg.predicted, span_key))
    per_type_scores = spacy_scores.get("ents_per_type") or {}
    per_type = {}
    for label in sorted(set(gold) | set(pred) | set(per_type_scores)):
        s = per_type_scores.get(label, {"p": 0.0, "r": 0.0, "f": 0.0})
        per_type[label] = {
            "p": float(s["p"]), "r": float(s["r"]), "f": float(s["f"]),
            "support": gold[label], "predicted": pred[label],
        }
    not_annotating = len(examples) - len(annotated)
    return {
        "micro": {k: float(spacy_scores.get(f"ents_{k}") or 0.0) for k in ("p", "r", "f")},
        "macro": macro(per_type),
        "per_type": per_type,
        "docs": len(annotated),
        "docs_not_annotating": not_annotating,
        "docs_without_gold_entities": not_annotating,
        "gold": sum(gold.values()),
        "predicted": sum(pred.values()),
        "scored_on": "doc.ents" if span_key is None else f"doc.spans['{span_key}']",
    }
