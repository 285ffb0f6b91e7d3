"""`clinical_sectionizer`: medspaCy's Sectionizer with rules that save with the pipeline.

Sections come out as medspaCy defines them (`doc._.sections`, `token._.section`,
`token._.section_category`, ...). With `span_attrs = "default"`, entities in
some sections get assertion flags (family history -> `is_family`, past medical
history -> `is_historical`, patient instructions / education / allergy ->
`is_hypothetical`), exactly as medspaCy does.
"""
from typing import Any, Dict, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc

from ._medspacy import call_quietly
from .base import MedspacyRuleComponent


class ClinicalSectionizer(MedspacyRuleComponent):
    """Section headers by rule; each section runs to the next header (or `max_section_length`).

    Takes the settings of `make_clinical_sectionizer` as keywords, passed to medspaCy's Sectionizer.
    """

    kind = "section"
    medspacy_module = "section_detection"
    medspacy_class = "Sectionizer"

    @property
    def sectionizer(self):
        """The wrapped medspaCy Sectionizer object."""
        return self._inner

    def __call__(self, doc: Doc) -> Doc:
        if (
            self.settings["apply_sentence_boundary"]
            and len(doc)
            and not doc.has_annotation("SENT_START")
        ):
            raise ValueError(
                f"{self.name}: apply_sentence_boundary needs sentence boundaries to adjust; put "
                "'clinical_sentences' (or 'sentencizer') before the sectionizer, or set "
                "apply_sentence_boundary = false."
            )
        return call_quietly(self._inner, doc)


@Language.factory(
    "clinical_sectionizer",
    assigns=["doc._.sections", "token._.section"],
    default_config={
        "default_rules": True,
        "language_code": "en",
        "max_section_length": None,
        "phrase_matcher_attr": "LOWER",
        "require_start_line": False,
        "require_end_line": False,
        "newline_pattern": r"[\n\r]+[\s]*$",
        "span_attrs": "default",
        "input_span_type": "ents",
        "span_group": "medspacy_spans",
        "apply_sentence_boundary": True,
    },
)
def make_clinical_sectionizer(
    nlp: Language,
    name: str,
    default_rules: bool,
    language_code: str,
    max_section_length: Optional[int],
    phrase_matcher_attr: str,
    require_start_line: bool,
    require_end_line: bool,
    newline_pattern: str,
    span_attrs: Union[str, Dict[str, Dict[str, Any]], None],
    input_span_type: str,
    span_group: str,
    apply_sentence_boundary: bool,
) -> ClinicalSectionizer:
    """Note sections (medspaCy's default headers plus yours), saved with the pipeline.

    `apply_sentence_boundary` (default on) makes every header its own sentence
    so ConText cues do not reach across a header.
    """
    return ClinicalSectionizer(
        nlp,
        name,
        default_rules=default_rules,
        language_code=language_code,
        max_section_length=max_section_length,
        phrase_matcher_attr=phrase_matcher_attr,
        require_start_line=require_start_line,
        require_end_line=require_end_line,
        newline_pattern=newline_pattern,
        span_attrs=span_attrs,
        input_span_type=input_span_type,
        span_group=span_group,
        apply_sentence_boundary=apply_sentence_boundary,
    )
