"""Run medspaCy's simple token patterns through the PhraseMatcher (same matches, far faster).

Most of medspaCy's default ConText rules are token patterns such as
`[{"LOWER": {"IN": ["deny", "denies"]}}, {"LOWER": "for", "OP": "?"}]`. spaCy's
Matcher evaluates every `IN` predicate at every token, which made ConText most of
the rule stage's time on long notes. A pattern whose tokens only test `LOWER`
(a string or an `IN` list) with `OP` absent or "?" is a finite set of token
sequences: we enumerate them and give them to the PhraseMatcher (attribute LOWER)
under the same rule id, so the matches are identical. Anything else stays in the
token Matcher. tests/test_rules_context.py checks the results against plain medspaCy.
"""
import itertools
import logging
from typing import List, Optional

from spacy.tokens import Doc

logger = logging.getLogger("spacy_clinicalbert.rules")

MAX_VARIANTS = 2000


def _variants(pattern) -> Optional[List[List[str]]]:
    """Token sequences a simple pattern matches, or None when it is not simple."""
    slots = []
    for token in pattern:
        if not isinstance(token, dict) or set(token) - {"LOWER", "OP"} or "LOWER" not in token:
            return None
        op = token.get("OP")
        if op not in (None, "?"):
            return None
        value = token["LOWER"]
        if isinstance(value, str):
            choices = [value]
        elif (
            isinstance(value, dict)
            and set(value) == {"IN"}
            and all(isinstance(v, str) for v in value["IN"])
        ):
            choices = list(dict.fromkeys(value["IN"]))
        else:
            return None
        slots.append(choices + [None] if op == "?" else choices)
    sequences = []
    for combo in itertools.product(*slots):
        words = [w for w in combo if w is not None]
        if words:
            sequences.append(words)
        if len(sequences) > MAX_VARIANTS:
            return None
    return [list(s) for s in dict.fromkeys(tuple(s) for s in sequences)]


def compile_simple_patterns(medspacy_matcher, vocab) -> int:
    """Move simple token patterns of a medspaCy MedspacyMatcher to its PhraseMatcher.

    Only done when the PhraseMatcher matches on LOWER. Returns how many rules moved
    (0 when medspaCy's internals are not as expected: then nothing changes).
    """
    matcher = getattr(medspacy_matcher, "_MedspacyMatcher__matcher", None)
    phrase_matcher = getattr(medspacy_matcher, "_MedspacyMatcher__phrase_matcher", None)
    attr = getattr(medspacy_matcher, "_MedspacyMatcher__phrase_matcher_attr", None)
    if matcher is None or phrase_matcher is None or str(attr).upper() != "LOWER":
        logger.debug(
            "medspaCy matcher internals not found or attr is not LOWER: "
            "patterns left as they are"
        )
        return 0
    moved = 0
    for rule_id, rule in medspacy_matcher.rule_map.items():
        if not isinstance(rule.pattern, list) or rule_id not in matcher:
            continue
        sequences = _variants(rule.pattern)
        if not sequences:
            continue
        docs = [Doc(vocab, words=[w.lower() for w in words]) for words in sequences]
        matcher.remove(rule_id)
        phrase_matcher.add(rule_id, docs, on_match=rule.on_match)
        moved += 1
    return moved
