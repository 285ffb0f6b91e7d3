"""Replace the PHI of a note, keeping an offset map from the output back to the input.

Strategies:
  placeholder  `[NAME]`, `[DATE]` ...: the typed placeholders of `text/deid.py`, so the
               output tokenizes like MIMIC's de-identified notes (one token each);
  mask         every character that is not a space becomes `*` (lengths and layout kept);
  redact       the PHI is removed;
  surrogate    realistic fake values, consistent per patient under a secret key
               (`surrogates.py`: dates shifted per patient in their own format, ages over 89
               become "90+").

`DeidResult.offsets` is a `text.offsets.OffsetMap`: `to_original(i)` / `to_prepared(i)`
move character offsets between output and input (a span inside replaced PHI snaps to the
whole replacement), so annotations made on either text can be carried to the other.
`DeidResult.replacements` lists what was replaced (offsets and labels, never the original
strings), which is what `deid run --offsets` writes.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from ..text.deid import format_placeholder
from ..text.offsets import Edit, OffsetMap
from .categories import placeholder_for
from .detection import Detection
from .surrogates import KEY_ENV, SurrogateMaker, day_first_note, key_from_env, note_year

STRATEGIES = ("placeholder", "mask", "redact", "surrogate")


@dataclass
class Replacement:
    input_start: int
    input_end: int
    output_start: int
    output_end: int
    label: str
    source: str

    def to_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DeidResult:
    text: str
    offsets: OffsetMap
    replacements: List[Replacement] = field(default_factory=list)

    def offsets_record(self) -> Dict[str, Any]:
        """JSON-safe: enough to rebuild the offset map (`offset_map_from_record`), no PHI."""
        return {
            "input_length": self.offsets.original_length,
            "output_length": self.offsets.prepared_length,
            "replacements": [r.to_dict() for r in self.replacements],
        }


def offset_map_from_record(record: Dict[str, Any]) -> OffsetMap:
    """The OffsetMap of one `deid run --offsets` line (lengths are all that is needed)."""
    edits = [
        Edit(r["input_start"], r["input_end"], "\0" * (r["output_end"] - r["output_start"]))
        for r in record["replacements"]
    ]
    return OffsetMap(record["input_length"], edits)


def apply_replacements(
    text: str,
    detections: Sequence[Detection],
    strategy: str = "placeholder",
    *,
    patient_id: str = "",
    surrogates: Optional[SurrogateMaker] = None,
    placeholder: str = "[{type}]",
    mask_char: str = "*",
) -> DeidResult:
    """`text` with each detection replaced (detections must not overlap)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.")
    if strategy == "surrogate" and surrogates is None:
        raise ValueError("The surrogate strategy needs a SurrogateMaker (a secret key).")
    dets = sorted(detections)
    date_texts = [text[d.start : d.end] for d in dets if d.label == "DATE"]
    default_year, day_first = note_year(date_texts), day_first_note(date_texts)
    edits: List[Edit] = []
    labels: List[Tuple[str, str]] = []
    last = 0
    for det in dets:
        if det.start < last:
            raise ValueError(
                f"Overlapping PHI detections at {det.start} (previous ended at {last})."
            )
        original = text[det.start : det.end]
        if strategy == "placeholder":
            new = format_placeholder(placeholder_for(det.label), placeholder)
        elif strategy == "mask":
            new = "".join(ch if ch.isspace() else mask_char for ch in original)
        elif strategy == "redact":
            new = ""
        else:
            assert surrogates is not None
            new = surrogates.surrogate(
                det.label, original, patient_id, default_year=default_year, day_first=day_first
            )
        edits.append(Edit(det.start, det.end, new))
        labels.append((det.label, det.source))
        last = det.end
    parts: List[str] = []
    replacements: List[Replacement] = []
    pos = out_len = 0
    for edit, (label, source) in zip(edits, labels, strict=True):
        parts.append(text[pos : edit.start])
        out_len += edit.start - pos
        replacements.append(
            Replacement(
                edit.start, edit.end, out_len, out_len + len(edit.replacement), label, source
            )
        )
        parts.append(edit.replacement)
        out_len += len(edit.replacement)
        pos = edit.end
    parts.append(text[pos:])
    return DeidResult("".join(parts), OffsetMap(len(text), edits), replacements)


class Deidentifier:
    """Find and replace PHI with a spaCy pipeline that has `clinical_deid` (default: a blank
    English pipeline with its patterns and context rules).

        deid = Deidentifier(strategy="surrogate")      # key from $SPACY_CLINICALBERT_DEID_KEY
        result = deid("Seen by Dr. Smith on 5/12/2019.", patient_id="p1")
    """

    def __init__(
        self,
        nlp: Any = None,
        *,
        strategy: str = "placeholder",
        key_env: str = KEY_ENV,
        placeholder: str = "[{type}]",
        mask_char: str = "*",
        spans_key: str = "phi",
        locale: str = "en_US",
    ):
        if strategy not in STRATEGIES:
            raise ValueError(
                f"Unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}."
            )
        self.nlp = nlp if nlp is not None else default_pipeline()
        deid_pipes = [
            n for n in self.nlp.pipe_names if self.nlp.get_pipe_meta(n).factory == "clinical_deid"
        ]
        if not deid_pipes:
            raise ValueError(
                f"The pipeline {self.nlp.pipe_names} has no clinical_deid component: "
                "add it with nlp.add_pipe('clinical_deid') (after a PHI recognizer, if any)."
            )
        self.spans_key = self.nlp.get_pipe(deid_pipes[-1]).spans_key
        self.strategy = strategy
        self.placeholder = placeholder
        self.mask_char = mask_char
        self.surrogates = (
            SurrogateMaker(key_from_env(key_env), locale) if strategy == "surrogate" else None
        )

    def detect(self, docs: Iterable[Any]) -> Iterator[Tuple[str, List[Detection]]]:
        from .component import phi_detections

        for doc in docs:
            yield doc.text, phi_detections(doc, self.spans_key)

    def replace(
        self, text: str, detections: Sequence[Detection], patient_id: str = ""
    ) -> DeidResult:
        return apply_replacements(
            text,
            detections,
            self.strategy,
            patient_id=patient_id,
            surrogates=self.surrogates,
            placeholder=self.placeholder,
            mask_char=self.mask_char,
        )

    def __call__(self, text: str, patient_id: str = "") -> DeidResult:
        doc = self.nlp(text)
        _, dets = next(self.detect([doc]))
        return self.replace(text, dets, patient_id)

    def pipe(
        self, items: Iterable[Tuple[str, Any]], batch_size: int = 16
    ) -> Iterator[Tuple[DeidResult, Any]]:
        """(result, context) for each (text, context); the patient id is `context` itself
        when it is a string, else its `patient_id` item or attribute."""
        docs = self.nlp.pipe(items, batch_size=batch_size, as_tuples=True)
        for doc, context in docs:
            _, dets = next(self.detect([doc]))
            yield self.replace(doc.text, dets, _patient_of(context)), context


def _patient_of(context: Any) -> str:
    if context is None:
        return ""
    if isinstance(context, str):
        return context
    if isinstance(context, dict):
        return str(context.get("patient_id") or "")
    return str(getattr(context, "patient_id", "") or "")


_DEFAULT: Dict[str, Any] = {}


def default_pipeline() -> Any:
    """A blank English pipeline (the clinical tokenizer) with `clinical_deid`, built once."""
    if "nlp" not in _DEFAULT:
        from ..text.tokenizer import blank_clinical

        nlp = blank_clinical()
        nlp.add_pipe("clinical_deid")
        _DEFAULT["nlp"] = nlp
    return _DEFAULT["nlp"]


def deidentify_text(
    text: str,
    strategy: str = "placeholder",
    *,
    patient_id: str = "",
    key_env: str = KEY_ENV,
    nlp: Any = None,
) -> DeidResult:
    """One note, de-identified with the rules of `clinical_deid` (or `nlp`'s pipeline)."""
    return Deidentifier(nlp, strategy=strategy, key_env=key_env)(text, patient_id)
