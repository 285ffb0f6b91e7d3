"""Patterns with context for the structured PHI kinds.

Each finder takes the note's text and returns `Detection`s with exact character offsets.
Shapes alone decide only where a shape cannot be anything else (an e-mail address, a URL,
`123-45-6789`, `(617) 555-0100`); everything else needs its cue word nearby: an ID number
is PHI next to `MRN`, `account`, `policy` ..., a ZIP code after a state, a bare `5/12` after
`on` or `seen` (see `dates.py`), a looser phone shape after `phone`, `call`, `pager`; `fax`
before a number makes it FAX. Ages are PHI over 89 only (HIPAA Safe Harbor).
"""

import re
from typing import Callable, Dict, List, Tuple

from .dates import find_dates
from .detection import Detection

US_STATES: Dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "DC": "District of Columbia",
}
# Freely associated states and territories with USPS codes (faker writes them too).
TERRITORIES = ("PR", "GU", "VI", "AS", "MP", "MH", "PW", "FM", "AA", "AE", "AP")
_STATE = (
    "(?:"
    + "|".join(sorted(US_STATES.values(), key=len, reverse=True))
    + "|"
    + "|".join(list(US_STATES) + list(TERRITORIES))
    + ")"
)

EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][\w.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
URL = re.compile(
    r"(?i)(?<![\w@/])(?:https?://|www\.)[^\s<>\"'()]+"
    r"|(?<![\w@./-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|info|biz|health"
    r"|co\.uk|org\.uk|nhs\.uk|us)(?:/[^\s<>\"'()]*)?(?![\w@])"
)
IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\w|\.\d)"
)
IPV6 = re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])")
SSN = re.compile(r"(?<![\w-])(?!000|666)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")
SSN_CUED = re.compile(
    r"(?i)\b(?:ssn|s\.s\.n\.|social security(?: number| no\.?| #)?)\s*[:#]?\s*(?:is\s+)?"
    r"(?P<v>\d{3}[- ]?\d{2}[- ]?\d{4})(?!\d)"
)
# Phones: a strict North American shape, anything after +country code, or a looser shape
# (groups of digits, 9 to 13 in all) right after a phone cue.
PHONE_STRICT = re.compile(
    r"(?<![\w/.-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[.-]\d{4}"
    r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?(?![\w/-]|\.\d)"
)
PHONE_LOOSE = re.compile(
    r"(?<![\w/.-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}"
    r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?(?![\w/-]|\.\d)"
)
_PHONE_CUE = re.compile(
    r"(?i)\b(?:phone|ph|tel|telephone|call|calling|cell|mobile|pager|page|beeper|contact|"
    r"reached|number|no|fax|facsimile|hotline|line|office|home|work)\b\.?[\s:#]*(?:at|is|on|number)?"
    r"[\s:#]*(?:\(\w+\)\s*)?$"
)
_FAX_CUE = re.compile(r"(?i)\b(?:fax|facsimile|telefax)\b[^\n\d]{0,12}$")
_FAX_AFTER = re.compile(r"(?i)^\s*\(?(?:fax)\)?")
ZIP_AFTER_STATE = re.compile(
    rf"(?<![\w-])(?P<state>{_STATE}),?\s+(?P<zip>\d{{5}}(?:-\d{{4}})?)(?![\w-])"
)
ZIP_CUED = re.compile(
    r"(?i)\b(?:zip|zip code|postal code|zipcode)\s*[:#]?\s*(?P<zip>\d{5}(?:-\d{4})?)(?!\d)"
)
_AGE_N = r"(?:9\d|1[01]\d)"
_TENS_WORDS = (
    r"(?:ninety|one hundred(?: and)?)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?"
)
AGE = [
    re.compile(
        rf"(?i)(?<![\w.])(?P<v>{_AGE_N}|{_TENS_WORDS})(?=\s*-?\s*(?:years?|yrs?|y)\.?[- ]?(?:old|o\b|/o\b))"  # noqa: E501
    ),
    re.compile(rf"(?i)(?<![\w.])(?P<v>{_AGE_N})(?=\s*(?:yo|y/o|y\.o\.|yof|yom|year-old|yr-old)\b)"),
    re.compile(
        rf"(?i)\b(?:age|aged|age:|at the age of|ages?)\s*(?:of\s*)?(?P<v>{_AGE_N})(?!\d|\.\d|\s*(?:mg|kg|%))"  # noqa: E501
    ),
    re.compile(rf"(?<![\w.])(?P<v>{_AGE_N})(?=[- ]?(?:M|F)\b(?![\w-]))"),
]

# Cue words -> ID category; the number after them (letters allowed, at least 3 digits).
ID_CUES: Tuple[Tuple[str, str], ...] = (
    ("SSN", r"ssn|social security(?: number| no\.?)?"),
    (
        "MEDICALRECORD",
        r"mrn|m\.r\.n\.|mr\s?#|med(?:ical)? rec(?:ord)?(?: number| no\.?| #)?|"
        r"record(?: number| no\.?| #)|chart(?: number| no\.?| #)|unit(?: number| no\.?)|"
        r"hospital number|patient number|hosp(?:ital)? #",
    ),
    (
        "HEALTHPLAN",
        r"health ?plan(?: number| no\.?| id| #)?|insurance(?: id| number| no\.?| #| policy)?|"
        r"member(?: id| number| #| no\.?)|policy(?: number| no\.?| #| id)?|medicaid(?: id| number| #)?|"  # noqa: E501
        r"medicare(?: id| number| #)?|subscriber(?: id| number)?|beneficiary(?: id| number)?|"
        r"group(?: number| no\.?| #)|plan id",
    ),
    (
        "ACCOUNT",
        r"account(?: number| no\.?| #)?|acct\.?(?: number| no\.?| #)?|billing(?: number| id| #)|"
        r"fin(?: number| #)?|encounter(?: number| no\.?| #| id)|visit(?: number| no\.?| #| id)|"
        r"invoice(?: number| no\.?| #)?|claim(?: number| no\.?| #)?",
    ),
    (
        "LICENSE",
        r"licen[cs]e(?: number| no\.?| #)?|lic\.?(?: number| no\.?| #)|dea(?: number| no\.?| #)?|"
        r"npi(?: number| no\.?| #)?|driver'?s licen[cs]e(?: number| no\.?| #)?|"
        r"state licen[cs]e|board certification(?: number| #)?",
    ),
    (
        "DEVICE",
        r"serial(?: number| no\.?| #)?|s/n|sn#|device(?: id| number| serial| #)|"
        r"lot(?: number| no\.?| #)|implant(?: id| serial| number)|pacemaker(?: serial| id)",
    ),
    ("BIOID", r"biometric(?: id| identifier)?|fingerprint(?: id)?|retina(?:l)? scan(?: id)?"),
    ("USERNAME", r"user ?name|user id|login(?: id)?|username"),
    (
        "IDNUM",
        r"(?:patient |pt\.? )?id(?: number| no\.?| #)?|id#|identifier|specimen(?: number| no\.?| #| id)?|"  # noqa: E501
        r"accession(?: number| no\.?| #)?|order(?: number| no\.?| #)|case(?: number| no\.?| #)|"
        r"reference(?: number| no\.?| #)|ref\.?(?: no\.?| #)|lab(?: number| no\.?| id| #)|"
        r"requisition(?: number| no\.?| #)?|confirmation(?: number| no\.?| #)|"
        r"tracking(?: number| no\.?| #)|control(?: number| no\.?| #)|"
        r"(?:record|file|ticket|report|study|sample|barcode|bar code) (?:number|no\.?|#|id)",
    ),
)
_ID_VALUE = r"(?P<v>(?=[A-Za-z0-9-]*\d[A-Za-z0-9-]*\d[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,24}[A-Za-z0-9])"  # noqa: E501
ID_PATTERNS = [
    (
        label,
        re.compile(
            rf"(?i)(?<![\w-])(?:{cues})\s*(?:[:#=]|\bis\b|\bof\b|\bwas\b)?\s*(?:[:#]\s*)?{_ID_VALUE}(?![\w-])"
        ),
    )
    for label, cues in ID_CUES
]
USERNAME_VALUE = re.compile(
    r"(?i)\b(?:user ?name|user id|login(?: id)?)\s*[:=]?\s*(?P<v>[a-z][\w.-]{2,30})"
)


def _digits(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def find_phones(text: str) -> List[Detection]:
    out: List[Detection] = []
    taken = bytearray(len(text))
    for strict, pattern in ((True, PHONE_STRICT), (False, PHONE_LOOSE)):
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            value = match.group()
            n = _digits(value)
            before = text[max(0, start - 30) : start]
            cued = bool(_PHONE_CUE.search(before))
            if not strict:
                if not (9 <= n <= 13):
                    continue
                if not (value.startswith("+") or cued):
                    continue
                if re.fullmatch(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}", value):
                    continue
            label = (
                "FAX"
                if _FAX_CUE.search(before) or _FAX_AFTER.match(text[end : end + 8])
                else "PHONE"
            )
            # a loose shape yields to an ID pattern over the same digits (merge ranks by score)
            out.append(Detection(start, end, label, "pattern", 1.0 if strict else 0.9))
            taken[start:end] = b"\x01" * (end - start)
    return out


def _group_hits(
    pattern: "re.Pattern[str]", text: str, label: str, group: str = "v", score: float = 1.0
) -> List[Detection]:
    return [
        Detection(m.start(group), m.end(group), label, "pattern", score)
        for m in pattern.finditer(text)
    ]


def find_ids(text: str) -> List[Detection]:
    out = [Detection(m.start(), m.end(), "SSN", "pattern") for m in SSN.finditer(text)]
    out += _group_hits(SSN_CUED, text, "SSN")
    for label, pattern in ID_PATTERNS:
        if label == "USERNAME":
            continue
        # the generic cues (ID, identifier ...) yield to a specific one over the same value
        out += _group_hits(pattern, text, label, score=0.95 if label == "IDNUM" else 1.0)
    out += _group_hits(USERNAME_VALUE, text, "USERNAME")
    return out


def find_ages(text: str) -> List[Detection]:
    out: List[Detection] = []
    for pattern in AGE:
        out += _group_hits(pattern, text, "AGE")
    return out


def find_zips(text: str) -> List[Detection]:
    out = _group_hits(ZIP_AFTER_STATE, text, "ZIP", "zip") + _group_hits(
        ZIP_CUED, text, "ZIP", "zip"
    )
    for match in ZIP_AFTER_STATE.finditer(text):
        out.append(Detection(match.start("state"), match.end("state"), "STATE", "pattern"))
    return out


def find_contacts(text: str) -> List[Detection]:
    out = [Detection(m.start(), m.end(), "EMAIL", "pattern") for m in EMAIL.finditer(text)]
    for match in URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in ".,;:!?":
            end -= 1
        out.append(Detection(start, end, "URL", "pattern"))
    out += [Detection(m.start(), m.end(), "IPADDR", "pattern") for m in IPV4.finditer(text)]
    out += [Detection(m.start(), m.end(), "IPADDR", "pattern") for m in IPV6.finditer(text)]
    return out + find_phones(text)


def find_date_spans(text: str) -> List[Detection]:
    return [Detection(s, e, "DATE", "pattern") for s, e, _ in find_dates(text)]


FINDERS: Dict[str, Callable[[str], List[Detection]]] = {
    "DATE": find_date_spans,
    "CONTACT": find_contacts,
    "ID": find_ids,
    "AGE": find_ages,
    "ZIP": find_zips,
}


def find_structured(text: str) -> List[Detection]:
    """Every structured PHI the patterns find (overlaps are left to the merge policy)."""
    out: List[Detection] = []
    for finder in FINDERS.values():
        out.extend(finder(text))
    return out
