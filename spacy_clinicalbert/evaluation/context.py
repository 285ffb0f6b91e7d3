"""ConText assertion flags (medspaCy via `clinical_context`): how often each flag is
set on predicted entities and, where the gold docs carry entity attributes
(`doc.spans["entity_attributes"]`, from BRAT A/M lines or i2b2 assertions), P/R/F1
of each flag over the entities found in both gold and prediction.

Gold attribute labels are `Name` or `Name=Value`; ALIASES maps the common ones
(Negation, assertion=absent, ...) onto the flags. A flag no gold attribute maps to
gets counts only.

P/R/F1 come only from docs that annotate attributes (`spacy_clinicalbert.layers`):
elsewhere an unflagged gold entity means "not looked at", not "affirmed", so a
predicted flag there is neither right nor wrong. The counts of predicted flags
cover every doc.
"""
from typing import Dict, List, Optional, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example

from ..layers import ATTRIBUTES, annotates
from ..prf import prf
from ..rules.assertions import ASSERTION_FLAGS as FLAGS

ATTRIBUTE_GROUP = "entity_attributes"
ALIASES = {
    "is_negated": {"negation", "negated", "negative", "absent", "is_negated"},
    "is_uncertain": {
        "uncertain", "uncertainty", "speculation", "speculated", "possible", "is_uncertain"
    },
    "is_historical": {"historical", "history", "is_historical"},
    "is_hypothetical": {"hypothetical", "is_hypothetical"},
    "is_family": {"family", "associated_with_someone_else", "is_family"},
}
FALSE_VALUES = {"false", "no", "0", "none", "n"}
Offsets = Tuple[int, int]


def context_flags(nlp: Language) -> List[str]:
    """The ConText flags some pipe declares it writes (`span._.is_negated`, ...)."""
    assigned = {a for name in nlp.pipe_names for a in nlp.get_pipe_meta(name).assigns}
    return [flag for flag in FLAGS if f"span._.{flag}" in assigned]


def flag_of(label: str) -> Optional[str]:
    """The flag a gold attribute label stands for, or None (e.g. 'Negation=false')."""
    name, _, value = label.partition("=")
    name, value = name.strip().lower(), value.strip().lower()
    if value in FALSE_VALUES:
        return None
    for flag, names in ALIASES.items():
        if value and value in names:
            return flag
    if value and value not in {"true", "yes", "1", "y"}:
        return None
    for flag, names in ALIASES.items():
        if name in names:
            return flag
    return None


def _gold_flags(doc: Doc) -> Dict[str, Set[Offsets]]:
    out: Dict[str, Set[Offsets]] = {}
    if ATTRIBUTE_GROUP in doc.spans:
        for span in doc.spans[ATTRIBUTE_GROUP]:
            flag = flag_of(span.label_)
            if flag is not None:
                out.setdefault(flag, set()).add((span.start_char, span.end_char))
    return out


def _gold_entities(doc: Doc) -> Set[Offsets]:
    ents = {(s.start_char, s.end_char) for s in doc.ents}
    if "entities" in doc.spans:
        ents.update((s.start_char, s.end_char) for s in doc.spans["entities"])
    return ents


def _flag(span: Span, flag: str) -> bool:
    return Span.has_extension(flag) and bool(getattr(span._, flag))


def score_context(examples: List[Example], flags: List[str]) -> Dict:
    """Counts of flagged predicted entities per flag, and P/R/F1 where gold attributes
    exist, over the docs annotating attributes (`docs`)."""
    counts = {flag: 0 for flag in flags}
    tp = {flag: 0 for flag in flags}
    fp = dict(tp)
    fn = dict(tp)
    gold_seen: Set[str] = set()
    n_pred = n_matched = n_docs = 0
    for eg in examples:
        scored = annotates(eg.reference, ATTRIBUTES)
        n_docs += scored
        gold_flags = _gold_flags(eg.reference) if scored else {}
        gold_seen.update(gold_flags)
        gold_ents = _gold_entities(eg.reference)
        for span in eg.predicted.ents:
            n_pred += 1
            offsets = (span.start_char, span.end_char)
            matched = offsets in gold_ents
            n_matched += matched
            for flag in flags:
                predicted = _flag(span, flag)
                counts[flag] += predicted
                if not (matched and scored):
                    continue
                gold = offsets in gold_flags.get(flag, ())
                tp[flag] += predicted and gold
                fp[flag] += predicted and not gold
                fn[flag] += gold and not predicted
    per_flag = {}
    for flag in flags:
        row: Dict = {"predicted": counts[flag]}
        if flag in gold_seen:
            row.update(prf(tp[flag], fp[flag], fn[flag]))
            row["support"] = tp[flag] + fn[flag]
        per_flag[flag] = row
    return {
        "flags": per_flag,
        "predicted_entities": n_pred,
        "entities_matched_to_gold": n_matched,
        "flags_with_gold": sorted(f for f in flags if f in gold_seen),
        "docs": n_docs,
        "docs_not_annotating": len(examples) - n_docs,
    }
