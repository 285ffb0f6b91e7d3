"""Relation scores: end to end by default, a gold-entity mode, and the all-pairs floor.

Relations are compared by character offsets and labels of both entities plus the
relation label, so tokenization differences do not matter. End to end, a gold
relation is found only when a predicted relation has exactly its two entities
(boundaries and labels) and its label: predicted relations over wrong entities are
false positives, gold relations whose entities were missed are false negatives.
The gold-entity mode keeps only relations whose two entities are both gold and
predicted, which isolates the relation decision from entity errors (and equals the
end-to-end figure when the docs carry gold entities).

The floor predicts, for every candidate pair over the same predicted entities and
under the same candidate constraints, the most frequent label of its entity-type
pair; every evaluation shows it so it is clear what the model adds.

Only examples whose reference annotates relations (`spacy_clinicalbert.layers`) are
scored, by the model, the gold-entity mode and the floor alike: a doc whose relation
layer is missing (an ADE-NEG sentence) has no gold to compare with, so relations
predicted there are neither right nor wrong. `{prefix}_docs` says how many were scored.
"""
from collections import Counter
from typing import Any, Callable, Dict, Iterable, Iterator, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import registry

from ..layers import RELATIONS, annotates
from ..prf import prf
from .candidates import CandidateGenerator
from .data import get_relations

MODES = ("end_to_end", "gold_entities")
EntKey = Tuple[int, int, str]
RelKey = Tuple[EntKey, EntKey, str]


def _ent(span: Span) -> EntKey:
    return (span.start_char, span.end_char, span.label_)


def _key(head: Span, tail: Span, label: str, symmetric: Set[str]) -> RelKey:
    h, t = _ent(head), _ent(tail)
    if label in symmetric and t < h:
        h, t = t, h
    return (h, t, label)


class _Counts:
    def __init__(self):
        self.tp, self.fp, self.fn = Counter(), Counter(), Counter()

    def add(self, gold: Set[RelKey], pred: Set[RelKey]) -> None:
        for key in pred & gold:
            self.tp[key[2]] += 1
        for key in pred - gold:
            self.fp[key[2]] += 1
        for key in gold - pred:
            self.fn[key[2]] += 1

    def scores(self, prefix: str, labels: Sequence[str]) -> Dict:
        labels = sorted(set(labels) | set(self.tp) | set(self.fp) | set(self.fn))
        per_type = {lab: prf(self.tp[lab], self.fp[lab], self.fn[lab]) for lab in labels}
        micro = prf(sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values()))
        out: Dict[str, Any] = {f"{prefix}_micro_{k}": v for k, v in micro.items()}
        for k in ("p", "r", "f"):
            out[f"{prefix}_macro_{k}"] = (
                sum(s[k] for s in per_type.values()) / len(per_type) if per_type else 0.0
            )
        out[f"{prefix}_per_type"] = per_type
        out[f"{prefix}_counts"] = {
            "tp": sum(self.tp.values()), "fp": sum(self.fp.values()), "fn": sum(self.fn.values())
        }
        return out


def _gold_entities(doc: Doc, source: Optional[str]) -> Set[EntKey]:
    ents = {_ent(s) for s in doc.ents}
    for key in {"entities", source} - {None, "ents"}:
        if key in doc.spans:
            ents.update(_ent(s) for s in doc.spans[key])
    for rel in get_relations(doc):
        ents.update((_ent(rel.head), _ent(rel.tail)))
    return ents


def annotated_examples(examples: Iterable[Example]) -> Iterator[Example]:
    """The examples whose gold doc annotates relations (the only ones with a verdict)."""
    return (eg for eg in examples if annotates(eg.reference, RELATIONS))


def score_relations(
    examples: Iterable[Example],
    *,
    mode: str = "end_to_end",
    labels: Sequence[str] = (),
    symmetric_labels: Sequence[str] = (),
    candidates: Optional[CandidateGenerator] = None,
    type_pairs: Optional[Set[Tuple[str, str]]] = None,
    floor_labels: Optional[Dict[Tuple[str, str], str]] = None,
    prefix: str = "rel",
    **_: object,
) -> Dict:
    """Micro/macro/per-label P, R, F of `doc._.relations`, plus the all-pairs floor.

    candidates: the component's CandidateGenerator (gives the predicted entities and
        the floor's pairs); without it the predicted entities are `doc.ents` and no
        floor is reported. floor_labels: label the floor predicts per type pair.
    Examples whose reference does not annotate relations are skipped.
    """
    if mode not in MODES:
        raise ValueError(f"relation scorer: mode must be one of {MODES}, got {mode!r}.")
    symmetric = set(symmetric_labels)
    model, floor, other = _Counts(), _Counts(), _Counts()
    n_gold = n_reachable = n_docs = 0
    for eg in annotated_examples(examples):
        n_docs += 1
        pred_doc, gold_doc = eg.predicted, eg.reference
        gold = {_key(r.head, r.tail, r.label, symmetric) for r in get_relations(gold_doc)}
        pred = {_key(r.head, r.tail, r.label, symmetric) for r in get_relations(pred_doc)}
        if candidates is not None:
            pred_ents = {_ent(s) for s in candidates.entities(pred_doc)}
            pairs = candidates(pred_doc, type_pairs)
        else:
            pred_ents = {_ent(s) for s in pred_doc.ents}
            pairs = None
        gold_ents = _gold_entities(gold_doc, getattr(candidates, "source", None))

        def given_ents(keys: Set[RelKey], allowed: Set[EntKey]) -> Set[RelKey]:
            return {k for k in keys if k[0] in allowed and k[1] in allowed}

        restricted = (given_ents(gold, pred_ents), given_ents(pred, gold_ents))
        if mode == "end_to_end":
            model.add(gold, pred)
            other.add(*restricted)
        else:
            model.add(*restricted)
            other.add(gold, pred)
        if pairs is not None:
            reachable = {(_ent(h), _ent(t)) for h, t in pairs}
            for h, t, lab in gold:
                n_gold += 1
                n_reachable += (h, t) in reachable or (lab in symmetric and (t, h) in reachable)
            if floor_labels is not None:
                guess = set()
                for head, tail in pairs:
                    floor_label = floor_labels.get((head.label_, tail.label_))
                    if floor_label is not None:
                        guess.add(_key(head, tail, floor_label, symmetric))
                if mode == "end_to_end":
                    floor.add(gold, guess)
                else:
                    floor.add(given_ents(gold, pred_ents), given_ents(guess, gold_ents))
    scores = model.scores(prefix, labels)
    other_name = "given_ents" if mode == "end_to_end" else "e2e"
    other_scores = other.scores(f"{prefix}_{other_name}", labels)
    for k in ("p", "r", "f"):
        key = f"{prefix}_{other_name}_micro_{k}"
        scores[key] = other_scores[key]
    scores[f"{prefix}_mode"] = mode
    scores[f"{prefix}_docs"] = n_docs
    if candidates is not None:
        scores[f"{prefix}_candidate_recall"] = n_reachable / n_gold if n_gold else 0.0
    if floor_labels is not None and candidates is not None:
        scores.update(floor.scores(f"{prefix}_floor", labels))
    # Mirror for `spacy evaluate ... --spans-key rel`, whose table prints only span
    # keys: P/R/F and per-label rows, plus the floor as extra rows.
    scores[f"spans_{prefix}_p"] = scores[f"{prefix}_micro_p"]
    scores[f"spans_{prefix}_r"] = scores[f"{prefix}_micro_r"]
    scores[f"spans_{prefix}_f"] = scores[f"{prefix}_micro_f"]
    rows = dict(scores[f"{prefix}_per_type"])
    if f"{prefix}_floor_per_type" in scores:
        rows["ALL-PAIRS FLOOR (micro)"] = {
            k: scores[f"{prefix}_floor_micro_{k}"] for k in ("p", "r", "f")
        }
    scores[f"spans_{prefix}_per_type"] = rows
    return scores


def scorer_settings(pipe) -> Dict:
    """What `score_relations` needs from a relation component: labels, symmetric labels and, for
    a clinical_relations component, its candidates, type pairs and the floor's labels."""
    cfg = getattr(pipe, "cfg", {}) or {}
    settings: Dict = {
        "labels": tuple(getattr(pipe, "labels", ()) or ()),
        "symmetric_labels": tuple(cfg.get("symmetric_labels", ()) or ()),
    }
    candidates = getattr(pipe, "candidates", None)
    floor_labels = getattr(pipe, "floor_labels", None)
    if candidates is not None and callable(floor_labels):
        settings["candidates"] = candidates
        # RelationExtractor.type_pairs(): the pairs its candidates are drawn over.
        type_pairs = getattr(pipe, "type_pairs", None)
        settings["type_pairs"] = type_pairs() if callable(type_pairs) else None
        settings["floor_labels"] = floor_labels()
    return settings


@registry.scorers("spacy-clinicalbert.relation_scorer.v1")
def make_relation_scorer(mode: str = "end_to_end", prefix: str = "rel") -> Callable[..., Dict]:
    """Relation scorer for `clinical_relations` (mode "end_to_end" or "gold_entities").

    prefix: start of every score key; give a second relation component its own
    (e.g. "rel_sc") so its scores do not overwrite the first one's."""
    if mode not in MODES:
        raise ValueError(f"relation scorer: mode must be one of {MODES}, got {mode!r}.")

    def scorer(examples: Iterable[Example], **kwargs) -> Dict:
        kwargs.setdefault("mode", mode)
        kwargs.setdefault("prefix", prefix)
        return score_relations(examples, **kwargs)

    return scorer
