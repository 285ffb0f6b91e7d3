"""Relation scores through the project's relation scorer (`spacy-clinicalbert.relation_scorer.v1`).

End to end: a gold relation counts as found only when its two entities (offsets and
labels) and its label were predicted. The all-pairs floor needs the component's
candidate generator and learned type pairs; a relation component without them
(a rule or custom pipe) gets the end-to-end figures and no floor, and the result
says why.

Every figure, the gold and predicted counts included, covers only the docs that
annotate relations (`spacy_clinicalbert.layers`); `docs` says how many those are.
"""
from collections import Counter
from typing import Dict, List, Optional

from spacy.language import Language
from spacy.training import Example

from ..layers import RELATIONS, recorded_layers
from ..relations.data import get_relations, has_relations
from ..relations.scorer import annotated_examples, score_relations, scorer_settings

PREFIX = "rel"


def relation_components(nlp: Language) -> List[str]:
    """Pipes that declare they write `doc._.relations`."""
    return [
        name for name in nlp.pipe_names
        if "doc._.relations" in nlp.get_pipe_meta(name).assigns
    ]


def has_gold_relations(examples: List[Example]) -> bool:
    """Does the gold data annotate relations: some doc holds one, or a converter recorded the
    layer (even as "none here")? Gold docs without a record and without any relation (a file
    that never had relations) do not make a relation evaluation."""
    return any(
        has_relations(eg.reference) or RELATIONS in (recorded_layers(eg.reference) or ())
        for eg in examples
    )


def score_relation_component(nlp: Language, name: Optional[str], examples: List[Example]) -> Dict:
    """End-to-end micro/macro/per-label scores of component `name` (None: a pipe that
    writes relations without declaring it), plus the floor if it has one, over the
    docs that annotate relations."""
    settings = scorer_settings(nlp.get_pipe(name)) if name is not None else {}
    scored = list(annotated_examples(examples))
    raw = score_relations(scored, mode="end_to_end", prefix=PREFIX, **settings)
    gold = Counter(r.label for eg in scored for r in get_relations(eg.reference))
    pred = Counter(r.label for eg in scored for r in get_relations(eg.predicted))
    per_type = {}
    for label, s in sorted(raw[f"{PREFIX}_per_type"].items()):
        per_type[label] = dict(s, support=gold[label], predicted=pred[label])
    result: Dict = {
        "component": name,
        "mode": raw[f"{PREFIX}_mode"],
        "micro": _triple(raw, f"{PREFIX}_micro"),
        "macro": _triple(raw, f"{PREFIX}_macro"),
        "per_type": per_type,
        "counts": raw[f"{PREFIX}_counts"],
        "given_entities_micro": _triple(raw, f"{PREFIX}_given_ents_micro"),
        "gold": sum(gold.values()),
        "predicted": sum(pred.values()),
        "docs": raw[f"{PREFIX}_docs"],
        "docs_not_annotating": len(examples) - len(scored),
        "floor": None,
        "floor_note": None,
        "candidate_recall": raw.get(f"{PREFIX}_candidate_recall"),
    }
    if f"{PREFIX}_floor_per_type" in raw:
        result["floor"] = {
            "micro": _triple(raw, f"{PREFIX}_floor_micro"),
            "macro": _triple(raw, f"{PREFIX}_floor_macro"),
            "per_type": raw[f"{PREFIX}_floor_per_type"],
            "counts": raw[f"{PREFIX}_floor_counts"],
        }
    else:
        result["floor_note"] = (
            f"'{name or 'the pipeline'}' has no candidate generator and learned type pairs "
            "to draw pairs from (it is not a clinical_relations component)."
        )
    return result


def _triple(raw: Dict, stem: str) -> Dict[str, float]:
    return {k: float(raw[f"{stem}_{k}"]) for k in ("p", "r", "f")}


def score_all_relations(nlp: Language, examples: List[Example]) -> Optional[Dict]:
    """Scores of the last relation component (the one whose output the docs keep)."""
    names = relation_components(nlp)
    if not names:
        if any(has_relations(eg.predicted) for eg in examples):
            return score_relation_component(nlp, None, examples)
        return None
    result = score_relation_component(nlp, names[-1], examples)
    if len(names) > 1:
        result["note"] = (
            f"{len(names)} components write doc._.relations ({', '.join(names)}); "
            f"the docs keep what '{names[-1]}' wrote last, so that is what is scored."
        )
    return result
