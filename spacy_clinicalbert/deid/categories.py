"""The i2b2 2014 PHI categories, their groups, and which ones HIPAA Safe Harbor lists.

Span labels in `doc.spans["phi"]` are the fine categories (PATIENT, DATE, PHONE ...).
`phi_group(label)` gives the coarse i2b2 group (NAME, LOCATION, CONTACT, ID, ...),
`is_hipaa(label)` whether Safe Harbor's 18 identifiers cover it, and
`placeholder_for(label)` the typed placeholder the project already uses for MIMIC tags
(`spacy_clinicalbert.text.deid.PLACEHOLDER_TYPES`), so de-identified text tokenizes like MIMIC's.

HIPAA (45 CFR 164.514(b)(2)) names the patient and relatives, not the clinicians, and
geographic units smaller than a state: DOCTOR, USERNAME, PROFESSION, HOSPITAL,
ORGANIZATION, STATE and COUNTRY are i2b2 PHI but not Safe Harbor identifiers, as in the
i2b2 2014 "HIPAA" evaluation subset. AGE is Safe Harbor only over 89, which is all the
age detection of this package flags.
"""

from typing import Dict, Tuple

# fine category -> (i2b2 group, HIPAA Safe Harbor, placeholder type)
CATEGORIES: Dict[str, Tuple[str, bool, str]] = {
    "PATIENT": ("NAME", True, "NAME"),
    "DOCTOR": ("NAME", False, "NAME"),
    "USERNAME": ("NAME", False, "NAME"),
    "PROFESSION": ("PROFESSION", False, "OTHER"),
    "HOSPITAL": ("LOCATION", False, "HOSPITAL"),
    "ORGANIZATION": ("LOCATION", False, "ORGANIZATION"),
    "STREET": ("LOCATION", True, "LOCATION"),
    "CITY": ("LOCATION", True, "LOCATION"),
    "STATE": ("LOCATION", False, "LOCATION"),
    "COUNTRY": ("LOCATION", False, "LOCATION"),
    "ZIP": ("LOCATION", True, "LOCATION"),
    "LOCATION-OTHER": ("LOCATION", True, "LOCATION"),
    "AGE": ("AGE", True, "AGE"),
    "DATE": ("DATE", True, "DATE"),
    "PHONE": ("CONTACT", True, "PHONE"),
    "FAX": ("CONTACT", True, "PHONE"),
    "EMAIL": ("CONTACT", True, "EMAIL"),
    "URL": ("CONTACT", True, "URL"),
    "IPADDR": ("CONTACT", True, "URL"),
    "SSN": ("ID", True, "ID"),
    "MEDICALRECORD": ("ID", True, "ID"),
    "HEALTHPLAN": ("ID", True, "ID"),
    "ACCOUNT": ("ID", True, "ID"),
    "LICENSE": ("ID", True, "ID"),
    "DEVICE": ("ID", True, "ID"),
    "BIOID": ("ID", True, "ID"),
    "IDNUM": ("ID", True, "ID"),
}
LABELS: Tuple[str, ...] = tuple(CATEGORIES)
GROUPS: Tuple[str, ...] = tuple(dict.fromkeys(group for group, _, _ in CATEGORIES.values()))
HIPAA_LABELS: Tuple[str, ...] = tuple(label for label, (_, hipaa, _) in CATEGORIES.items() if hipaa)
# The kinds the patterns find (the ">= 0.995 recall" target of the issue): dates, contacts, IDs.
STRUCTURED_LABELS: Tuple[str, ...] = tuple(
    label for label, (group, _, _) in CATEGORIES.items() if group in ("DATE", "CONTACT", "ID")
)


def _entry(label: str) -> Tuple[str, bool, str]:
    try:
        return CATEGORIES[label]
    except KeyError:
        raise ValueError(
            f"Unknown PHI category {label!r}; the i2b2 2014 categories are {', '.join(LABELS)}."
        ) from None


def phi_group(label: str) -> str:
    """The i2b2 2014 group of a fine category: PATIENT -> NAME, ZIP -> LOCATION."""
    return _entry(label)[0]


def is_hipaa(label: str) -> bool:
    """Whether HIPAA Safe Harbor lists the category (see the module docstring)."""
    return _entry(label)[1]


def placeholder_for(label: str) -> str:
    """The typed placeholder type (text/deid.py) a category is replaced by."""
    return _entry(label)[2]


def register_span_extensions() -> None:
    """`span._.phi_group` and `span._.phi_hipaa` for spans labelled with a category
    (None for other labels). Getters, so nothing is stored and nothing to serialize."""
    from spacy.tokens import Span

    if not Span.has_extension("phi_group"):
        Span.set_extension(
            "phi_group",
            getter=lambda s: CATEGORIES[s.label_][0] if s.label_ in CATEGORIES else None,
        )
    if not Span.has_extension("phi_hipaa"):
        Span.set_extension(
            "phi_hipaa",
            getter=lambda s: CATEGORIES[s.label_][1] if s.label_ in CATEGORIES else None,
        )
