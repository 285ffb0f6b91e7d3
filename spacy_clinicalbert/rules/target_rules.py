"""`clinical_target_rules`: medspaCy TargetRules that add entities beside a model's.

Policy (no override): the model's entities always win.
- `result_type = "ents"`: rule matches are first pruned among themselves
  (the longest of overlapping matches is kept, as medspaCy does); a match that
  overlaps any entity already in `doc.ents` is skipped and counted as a
  conflict; the others are added. Nothing already in `doc.ents` is changed.
- `result_type = "group"`: every match goes to `doc.spans[span_group]`, where
  overlaps are allowed, so there are no conflicts.
Conflicts are counted (`doc._.rule_conflicts` per doc, `stats` per component),
never warned one by one. Entities a rule added carry `span._.clinical_rule`
(the rule's literal), so users can tell rule entities from model ones.
"""
from collections import Counter
from typing import Any, Dict, Iterable, List, Set

from spacy.language import Language
from spacy.tokens import Doc, Span

from ._medspacy import call_quietly, medspacy_module
from .base import RuleComponent
from .fast_patterns import compile_simple_patterns


def install_target_extensions() -> None:
    if not Span.has_extension("clinical_rule"):
        Span.set_extension("clinical_rule", default=None)
    if not Doc.has_extension("rule_conflicts"):
        Doc.set_extension("rule_conflicts", default=0)


class ClinicalTargetRules(RuleComponent):
    """Rule-made entities that never override model entities."""

    kind = "target"

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        phrase_matcher_attr: str,
        result_type: str,
        span_group: str,
    ):
        if result_type not in ("ents", "group"):
            raise ValueError(f"{name}: result_type must be 'ents' or 'group', got {result_type!r}.")
        self.phrase_matcher_attr = phrase_matcher_attr
        self.result_type = result_type
        self.span_group = span_group
        self.stats: Counter = Counter()
        install_target_extensions()
        super().__init__(nlp, name, default_rules=False)

    def _default_rules(self) -> List[Any]:
        return []

    def _build(self, rules: List[Any]):
        MedspacyMatcher = medspacy_module("common.medspacy_matcher").MedspacyMatcher
        matcher = MedspacyMatcher(
            self.nlp, name=self.name, phrase_matcher_attr=self.phrase_matcher_attr, prune=True
        )
        if rules:
            matcher.add(rules)
            compile_simple_patterns(matcher, self.nlp.vocab)
        return matcher

    def _add_to_inner(self, rules: List[Any]) -> None:
        self._inner.add(rules)
        compile_simple_patterns(self._inner, self.nlp.vocab)

    @property
    def labels(self) -> List[str]:
        return sorted({rule.category for rule in self.rules})

    def _spans(self, doc: Doc) -> List[Span]:
        spans = []
        rule_map = self._inner.rule_map
        matches = call_quietly(self._inner, doc)
        for match_id, start, end in matches:
            rule = rule_map[self.nlp.vocab.strings[match_id]]
            span = Span(doc, start, end, label=rule.category)
            spans.append((span, rule))
        spans.sort(key=lambda item: (item[0].start, item[0].end))
        for span, rule in spans:
            span._.clinical_rule = rule.literal
            for attr, value in (rule.attributes or {}).items():
                if not Span.has_extension(attr):
                    raise ValueError(
                        f"{self.name}: rule {rule.literal!r} sets span._.{attr}, which is not a "
                        "registered extension; register it with Span.set_extension first."
                    )
                setattr(span._, attr, value)
        return [span for span, _ in spans]

    def __call__(self, doc: Doc) -> Doc:
        if not self._entries:
            return doc
        spans = self._spans(doc)
        self.stats["matches"] += len(spans)
        if self.result_type == "group":
            group = list(doc.spans[self.span_group]) if self.span_group in doc.spans else []
            doc.spans[self.span_group] = group + spans
            self.stats["added"] += len(spans)
            return doc
        taken: Set[int] = set()
        for ent in doc.ents:
            taken.update(range(ent.start, ent.end))
        added, conflicts = [], 0
        for span in spans:
            if taken.intersection(range(span.start, span.end)):
                conflicts += 1
                continue
            added.append(span)
            taken.update(range(span.start, span.end))
        if added:
            doc.set_ents(added, default="unmodified")
        doc._.rule_conflicts = doc._.rule_conflicts + conflicts
        self.stats["added"] += len(added)
        self.stats["conflicts"] += conflicts
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterable[Doc]:
        for doc in stream:
            yield self(doc)

    def stats_summary(self) -> Dict[str, int]:
        """Matches seen, entities added and conflicts skipped since the component was built."""
        return {key: int(self.stats[key]) for key in ("matches", "added", "conflicts")}


@Language.factory(
    "clinical_target_rules",
    assigns=["doc.ents", "span._.clinical_rule", "doc._.rule_conflicts"],
    default_config={
        "phrase_matcher_attr": "LOWER", "result_type": "ents", "span_group": "rule_entities"
    },
)
def make_clinical_target_rules(
    nlp: Language, name: str, phrase_matcher_attr: str, result_type: str, span_group: str
) -> ClinicalTargetRules:
    """medspaCy TargetRules as entities that never override the model's (conflicts counted).

    Add rules with `add_rules()` or `[initialize.components.<name>] rules`; they
    are saved with the pipeline.
    """
    return ClinicalTargetRules(
        nlp,
        name,
        phrase_matcher_attr=phrase_matcher_attr,
        result_type=result_type,
        span_group=span_group,
    )
