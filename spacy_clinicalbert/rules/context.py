"""`clinical_context`: medspaCy's ConText (negation, uncertainty, history, hypothetical,
family) on whatever found the entities, with rules that save with the pipeline.

medspaCy leaves `span._.modifiers` (ConTextModifier objects) and
`doc._.context_graph` (which holds Spans) in the doc, so `doc.to_bytes()`,
`DocBin` and `nlp.pipe(n_process=2)` fail with "can not serialize Span". By
default we keep the findings JSON-safe instead: the five boolean flags, plus
`span._.context_cues` (category, cue text, token offsets, direction), and clear
the two object-valued attributes. `keep_graph = true` keeps medspaCy's objects.
"""
from typing import Any, Dict, Iterable, List, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc, Span

from ._medspacy import call_quietly
from .assertions import ASSERTION_FLAGS, install_context_extensions
from .base import MedspacyRuleComponent

__all__ = [
    "ASSERTION_FLAGS", "ClinicalContext", "install_context_extensions", "make_clinical_context"
]


class ClinicalContext(MedspacyRuleComponent):
    """ConText over `doc.ents` (or a span group) with saved, user-extensible rules.

    Takes the settings of `make_clinical_context` as keywords; all but `keep_graph`
    go to medspaCy's ConText.
    """

    kind = "context"
    medspacy_module = "context"
    medspacy_class = "ConText"

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        keep_graph: bool,
        allowed_types: Optional[List[str]],
        excluded_types: Optional[List[str]],
        **settings: Any,
    ):
        self.keep_graph = keep_graph
        super().__init__(
            nlp,
            name,
            allowed_types=set(allowed_types) if allowed_types else None,
            excluded_types=set(excluded_types) if excluded_types else None,
            **settings,
        )

    @property
    def context(self):
        """The wrapped medspaCy ConText object."""
        return self._inner

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) and not doc.has_annotation("SENT_START"):
            raise ValueError(
                f"{self.name}: the doc has no sentence boundaries, "
                "which ConText needs for its scopes. "
                "Add 'clinical_sentences' (or 'sentencizer'/'senter') before it in the pipeline."
            )
        doc = call_quietly(self._inner, doc)
        if not self.keep_graph:
            self._make_json_safe(doc)
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterable[Doc]:
        for doc in stream:
            yield self(doc)

    @staticmethod
    def _make_json_safe(doc: Doc) -> None:
        graph = doc._.context_graph
        if graph is None:
            return
        cues: Dict[tuple, List[dict]] = {}
        targets: Dict[tuple, Span] = {}
        for target, modifier in graph.edges:
            key = (target.start, target.end, target.label)
            targets[key] = target
            start, end = modifier.modifier_span
            cues.setdefault(key, []).append(
                {
                    "category": modifier.category,
                    "text": doc[start:end].text,
                    "start": start,
                    "end": end,
                    "direction": modifier.direction,
                }
            )
        for key, target in targets.items():
            target._.context_cues = tuple(cues[key])
            target._.modifiers = ()
        doc._.context_graph = None


@Language.factory(
    "clinical_context",
    assigns=[f"span._.{flag}" for flag in ASSERTION_FLAGS] + ["span._.context_cues"],
    requires=["doc.sents"],
    default_config={
        "default_rules": True,
        "language_code": "en",
        "phrase_matcher_attr": "LOWER",
        "allowed_types": None,
        "excluded_types": None,
        "terminating_types": None,
        "max_scope": None,
        "max_targets": None,
        "prune_on_modifier_overlap": True,
        "prune_on_target_overlap": False,
        "span_attrs": "default",
        "input_span_type": "ents",
        "span_group": "medspacy_spans",
        "keep_graph": False,
    },
)
def make_clinical_context(
    nlp: Language,
    name: str,
    default_rules: bool,
    language_code: str,
    phrase_matcher_attr: str,
    allowed_types: Optional[List[str]],
    excluded_types: Optional[List[str]],
    terminating_types: Optional[Dict[str, List[str]]],
    max_scope: Optional[int],
    max_targets: Optional[int],
    prune_on_modifier_overlap: bool,
    prune_on_target_overlap: bool,
    span_attrs: Union[str, Dict[str, Dict[str, Any]], None],
    input_span_type: str,
    span_group: str,
    keep_graph: bool,
) -> ClinicalContext:
    """ConText assertions (negated, uncertain, historical, hypothetical, family) on entities.

    `default_rules` loads medspaCy's packaged rules; add your own with
    `add_rules()` or `[initialize.components.<name>] rules`. All rules in use
    are written with the pipeline and read back on `spacy.load`.
    """
    return ClinicalContext(
        nlp,
        name,
        default_rules=default_rules,
        language_code=language_code,
        phrase_matcher_attr=phrase_matcher_attr,
        allowed_types=allowed_types,
        excluded_types=excluded_types,
        terminating_types=terminating_types,
        max_scope=max_scope,
        max_targets=max_targets,
        prune_on_modifier_overlap=prune_on_modifier_overlap,
        prune_on_target_overlap=prune_on_target_overlap,
        span_attrs=span_attrs,
        input_span_type=input_span_type,
        span_group=span_group,
        keep_graph=keep_graph,
    )
