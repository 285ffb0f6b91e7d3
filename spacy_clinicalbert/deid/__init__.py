"""De-identification: find PHI (i2b2 2014 categories), replace it, measure what is left.

- `clinical_deid` (component.py): PHI spans in `doc.spans["phi"]`;
- `deidentify_text` / `Deidentifier` (replace.py): placeholder, mask, redact or surrogate
  replacement with an offset map back to the input;
- `synthetic.py`: the reproducible synthetic PHI corpus; `evaluate.py`: i2b2 2014 scores and
  the leak report.
Imports stay cheap: nothing here loads a model.
"""

from .categories import (
    CATEGORIES,
    HIPAA_LABELS,
    LABELS,
    STRUCTURED_LABELS,
    is_hipaa,
    phi_group,
    placeholder_for,
)
from .detection import Detection

__all__ = [
    "CATEGORIES",
    "HIPAA_LABELS",
    "LABELS",
    "STRUCTURED_LABELS",
    "Detection",
    "is_hipaa",
    "phi_group",
    "placeholder_for",
]
