"""`clinical_deid`: PHI spans in `doc.spans["phi"]`, labelled with i2b2 2014 categories.

    nlp = spacy.blank("en"); nlp.add_pipe("clinical_deid")          # patterns + context rules
    nlp.add_pipe("clinical_deid", config={"model": "ner"})           # after a PHI recognizer

Three parts, each switched in the config: `patterns` (dates, contacts, IDs, ZIP codes, ages
over 89), `context` (names, places, institutions, professions from the surrounding words)
and `model`: the name of a `ner` or `spancat` pipe earlier in the pipeline whose labels are
PHI categories, or "auto" to take the first such pipe if there is one, or "" for none. Their
detections are merged by `merge.merge_detections` (documented there). A span in the group
covers whole tokens; the exact characters each part found are kept in the group's attrs
(`char_spans`, with `sources` and `scores`), which `replace` uses and which serialize with
the doc. `span._.phi_group` and `span._.phi_hipaa` give the i2b2 group and the HIPAA flag.
"""

from typing import Any, Dict, Iterable, List, Optional

from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc, SpanGroup
from spacy.training import Example

from .categories import CATEGORIES, register_span_extensions
from .context import _eponym_like, find_context
from .detection import Detection
from .merge import merge_detections
from .patterns import find_structured

DEFAULT_CONFIG = {"spans_key": "phi", "patterns": True, "context": True, "model": "auto"}


@Language.factory(
    "clinical_deid",
    default_config=DEFAULT_CONFIG,
    assigns=["doc.spans"],
    default_score_weights={"phi_f": 1.0, "phi_p": 0.0, "phi_r": 0.0},
)
def make_clinical_deid(
    nlp: Language, name: str, spans_key: str, patterns: bool, context: bool, model: str
) -> "ClinicalDeid":
    return ClinicalDeid(
        nlp, name, spans_key=spans_key, patterns=patterns, context=context, model=model
    )


class ClinicalDeid:
    def __init__(
        self,
        nlp: Language,
        name: str = "clinical_deid",
        *,
        spans_key: str = "phi",
        patterns: bool = True,
        context: bool = True,
        model: str = "auto",
    ):
        register_span_extensions()
        self.nlp = nlp
        self.name = name
        self.spans_key = spans_key
        self.patterns = patterns
        self.context = context
        self.model = model

    # ------------------------------------------------------------ the model part
    def model_pipe(self) -> Optional[str]:
        """The PHI recognizer this component reads, or None."""
        if not self.model:
            return None
        names = self.nlp.pipe_names
        mine = names.index(self.name) if self.name in names else len(names)
        if self.model != "auto":
            if self.model not in names[:mine]:
                raise ValueError(
                    f"clinical_deid: model pipe {self.model!r} is not before {self.name!r} in the "
                    f"pipeline {names}; set model to a ner/spancat pipe that runs earlier, or ''."
                )
            return self.model
        for pipe_name in names[:mine]:
            pipe = self.nlp.get_pipe(pipe_name)
            labels = set(getattr(pipe, "labels", ()) or ())
            if labels and labels <= set(CATEGORIES) and self._kind(pipe_name):
                return pipe_name
        return None

    def _kind(self, pipe_name: str) -> Optional[str]:
        factory = self.nlp.get_pipe_meta(pipe_name).factory
        if factory in ("ner", "beam_ner") or "ner" in factory:
            return "ents"
        if "spancat" in factory:
            return "spans"
        return None

    def model_detections(self, doc: Doc) -> List[Detection]:
        pipe_name = self.model_pipe()
        if pipe_name is None:
            return []
        if self._kind(pipe_name) == "ents":
            spans: Iterable = doc.ents
        else:
            key = getattr(self.nlp.get_pipe(pipe_name), "key", "sc")
            spans = doc.spans.get(key, [])
        out = []
        for span in spans:
            if span.label_ not in CATEGORIES:
                continue
            if CATEGORIES[span.label_][0] == "NAME" and _eponym_like(
                doc.text, span.start_char, span.end_char
            ):
                continue  # merge policy step 2 (a rule name over the same words brings it back)
            out.append(Detection(span.start_char, span.end_char, span.label_, "model", 0.95))
        return out

    # ------------------------------------------------------------ running
    def detect(self, doc: Doc) -> List[Detection]:
        text = doc.text
        found: List[Detection] = []
        if self.patterns:
            found += find_structured(text)
        if self.context:
            found += find_context(text)
        found += self.model_detections(doc)
        return merge_detections(found, text)

    def __call__(self, doc: Doc) -> Doc:
        detections = self.detect(doc)
        spans, kept = [], []
        for det in detections:
            span = doc.char_span(det.start, det.end, label=det.label, alignment_mode="expand")
            if span is None or not len(span):
                continue
            spans.append(span)
            kept.append(det)
        doc.spans[self.spans_key] = SpanGroup(
            doc,
            name=self.spans_key,
            spans=spans,
            attrs={
                "char_spans": [[d.start, d.end] for d in kept],
                "sources": [d.source for d in kept],
                "scores": [d.score for d in kept],
            },
        )
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterable[Doc]:
        for doc in stream:
            yield self(doc)

    def score(self, examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
        key = self.spans_key
        scores = Scorer.score_spans(
            examples, f"spans_{key}", getter=lambda doc, attr: doc.spans.get(key, []), **kwargs
        )
        return {
            "phi_p": scores[f"spans_{key}_p"],
            "phi_r": scores[f"spans_{key}_r"],
            "phi_f": scores[f"spans_{key}_f"],
            "phi_per_type": scores[f"spans_{key}_per_type"],
        }


def phi_detections(doc: Doc, spans_key: str = "phi") -> List[Detection]:
    """The PHI of a processed doc with the exact characters its parts found."""
    group = doc.spans.get(spans_key)
    if group is None:
        return []
    chars = group.attrs.get("char_spans")
    sources = group.attrs.get("sources")
    scores = group.attrs.get("scores")
    if not chars or len(chars) != len(group):
        return [Detection(s.start_char, s.end_char, s.label_, "model") for s in group]
    return [
        Detection(int(c[0]), int(c[1]), s.label_, src, float(sc))
        for s, c, src, sc in zip(group, chars, sources, scores, strict=True)
    ]
