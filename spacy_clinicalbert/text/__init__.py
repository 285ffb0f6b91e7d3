"""Clinical text preparation shared by conversion, pretraining and inference.

- `prepare_clinical_text(text)` → `PreparedText` (`.text`, `.original`, offset maps
  both ways, the de-identification placeholders it made).
- `spacy-clinicalbert.ClinicalTokenizer.v1`: the tokenizer with clinical rules
  (`blank_clinical()` gives `spacy.blank("en")` with it).
- `text_key`, `iter_paragraphs`, `chunk_text`: de-duplication keys and offset-true
  cuts of long notes.
"""
from .deid import PLACEHOLDER_TYPES, format_placeholder, placeholder_strings, placeholder_type
from .offsets import Edit, OffsetMap
from .prepare import Placeholder, PreparedText, prepare_clinical_text
from .segments import chunk_text, iter_paragraphs, text_key
from .tokenizer import blank_clinical, clinical_tokenizer, create_clinical_tokenizer

__all__ = [
    "PLACEHOLDER_TYPES",
    "Edit",
    "OffsetMap",
    "Placeholder",
    "PreparedText",
    "blank_clinical",
    "chunk_text",
    "clinical_tokenizer",
    "create_clinical_tokenizer",
    "format_placeholder",
    "iter_paragraphs",
    "placeholder_strings",
    "placeholder_type",
    "prepare_clinical_text",
    "text_key",
]
