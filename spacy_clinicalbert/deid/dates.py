"""Dates in the forms notes write them, found with their context, and shifted in place.

Found: numeric dates with a year (`03/05/2019`, `3-5-19`, `2019-05-03`, `05.03.2019`),
month-year (`05/2019`, `May 2019`, `May of 2019`), written dates (`May 3, 2019`, `May 3rd`,
`3 May 2019`, `the 3rd of May`, `05-MAY-19`, `Monday, May 3`), a year after a date word
(`in 2015`, `since 1998`), weekdays and holidays. A month/day pair without a year (`5/12`)
is a date only next to a date cue (`on`, `since`, `seen`, `follow-up` ...), never before a
dose unit (`5/12 mg`, `5/12 tablet`) or in an exam score (`strength 5/5`, `vision 20/20`).

`shift_date` moves one date by whole days and writes it back in its own format: the same
separators, zero padding, month spelling (full or abbreviated, case, period), ordinal
suffix, two- or four-digit year and weekday, so intervals between dates stay exact.
"""

import datetime as dt
import re
from typing import Any, Dict, List, Optional, Tuple

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOLIDAYS = (
    "Christmas",
    "Christmas Eve",
    "New Year's Day",
    "New Year's Eve",
    "Thanksgiving",
    "Easter",
    "Memorial Day",
    "Labor Day",
    "Independence Day",
    "Halloween",
    "Valentine's Day",
)


def _month_alternatives() -> str:
    forms = []
    for full in MONTHS:
        for word in (full, full.upper()):
            abbr = word[:3]
            extra = [word[:4] + r"\.?"] if full == "September" else []
            forms += [word] + ([abbr + r"\.?"] if abbr.lower() != full.lower() else []) + extra
    return "(?:" + "|".join(sorted(set(forms), key=len, reverse=True)) + ")"


# A month word: full, or abbreviated with an optional period (which then belongs to it).
_MONTH_WORD = _month_alternatives()
_WD = r"(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs?)?|Fri|Sat(?:ur)?|Sun)(?:day)?"
_D = r"(?:0?[1-9]|[12]\d|3[01])"
_MN = r"(?:0?[1-9]|1[0-2])"
_Y4 = r"(?:1[89]\d\d|20\d\d)"
_ORD = r"(?:st|nd|rd|th)"
_B = r"(?<![\w/.\-])"  # not glued to a word, a number or a fraction before
_A = r"(?![\w/]|[.\-]\d)"  # nor after

# Each form has named groups: y (year), mn (month number), m (month word), d (day),
# o (ordinal suffix), wd (weekday), s (separator). Most specific first.
FORMS: Tuple[Tuple[str, str], ...] = (
    ("ymd", rf"{_B}(?P<y>{_Y4})(?P<s>[-/.])(?P<mn>{_MN})(?P=s)(?P<d>{_D}){_A}"),
    ("mdy", rf"{_B}(?P<mn>{_MN})(?P<s>[-/.])(?P<d>{_D})(?P=s)(?P<y>{_Y4}|\d\d){_A}"),
    ("dmy", rf"{_B}(?P<d>1[3-9]|2\d|3[01])(?P<s>[-/.])(?P<mn>{_MN})(?P=s)(?P<y>{_Y4}|\d\d){_A}"),
    ("d-mon-y", rf"{_B}(?P<d>{_D})-(?P<m>{_MONTH_WORD})-(?P<y>{_Y4}|\d\d){_A}"),
    (
        "month-day",
        rf"(?<![\w.])(?:(?P<wd>{_WD}),?\s+)?(?P<m>{_MONTH_WORD})\s+(?P<d>{_D})(?P<o>{_ORD})?"
        rf"(?:,?\s+(?P<y>{_Y4}))?(?![\w:]|\.\d)",
    ),
    (
        "day-month",
        rf"(?<![\w.])(?P<d>{_D})(?P<o>{_ORD})?\s+(?:of\s+)?(?P<m>{_MONTH_WORD})"
        rf"(?:,?\s+(?P<y>{_Y4}))?(?!\w)",
    ),
    ("month-year", rf"(?<![\w.])(?P<m>{_MONTH_WORD}),?\s+(?:of\s+)?(?P<y>{_Y4})(?!\w)"),
    ("my", rf"{_B}(?P<mn>{_MN})(?P<s>[/-])(?P<y>{_Y4}){_A}"),
    ("md", rf"{_B}(?P<mn>{_MN})(?P<s>/)(?P<d>{_D}){_A}"),
    ("year", rf"(?<![\w/.\-])(?P<y>{_Y4})(?![\w/]|[.\-]\d)"),
    ("weekday", r"(?<![\w.])(?P<wd>(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)(?!\w)"),
    ("holiday", r"(?<!\w)(?P<h>" + "|".join(re.escape(h) for h in HOLIDAYS) + r")(?!\w)"),
)
_COMPILED = [(name, re.compile(pattern)) for name, pattern in FORMS]
_BY_NAME = dict(_COMPILED)

# A month/day pair (`5/12`) or a bare year is a date only after one of these words
# (within the few words before it) or before a time.
_DATE_CUE = re.compile(
    r"(?i)(?:\b(?:on|since|from|until|till|through|thru|to|dated?|dos|d\.o\.s\.|dob|d\.o\.b\.|"
    r"admitted|admission|discharged?|discharge|seen|visit|visited|follow[- ]?up|f/u|return|"
    r"returns|scheduled|surgery|performed|done|last|next|started|stopped|began|born|"
    r"in|during|year|years|circa|by|of|before|after|between|and|as of|service|exam|study|"
    r"procedure|injury|onset|birth|death|expired|deceased|appointment|appt|date of \w+)\b[\s:,#]*$)"
)
_UNIT_AFTER = re.compile(
    r"(?i)^\s*(?:mg|mcg|µg|g|ml|mL|cc|units?|tabs?|tablets?|caps?|capsules?|doses?|puffs?|drops?|"
    r"strength|of (?:a |the )?(?:tablet|dose|pill)|%|mmhg|times|x\b|hours|hrs|h\b|minutes|min\b|"
    r"patients|cases|people|cells|beats|breaths|kg|lbs?|cm|mm|feet|ft|inches|miles|days|"
    r"weeks|months|years)"
)
_SCORE_BEFORE = re.compile(
    r"(?i)(?:strength|power|motor|reflexes|vision|acuity|visual|grade|graded|score|scored|"
    r"ratio|bp|blood pressure|murmur|pulses?|dtrs?|[0-9]/)\s*[:=]?\s*(?:is\s+|of\s+|was\s+)?$"
)
_TIME_AFTER = re.compile(r"^\s*(?:at\s+)?\d{1,2}:\d{2}")


def _cue_before(text: str, start: int) -> bool:
    window = text[max(0, start - 40) : start]
    return bool(_DATE_CUE.search(window))


def find_dates(text: str) -> List[Tuple[int, int, str]]:
    """(start, end, form) of every date in `text`, longest first where forms overlap."""
    found: List[Tuple[int, int, str]] = []
    taken = bytearray(len(text))
    for name, pattern in _COMPILED:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            if name in ("md", "year"):
                before = text[max(0, start - 25) : start]
                after = text[end : end + 25]
                if _UNIT_AFTER.match(after) or _SCORE_BEFORE.search(before):
                    continue
                if not (_cue_before(text, start) or _TIME_AFTER.match(after)):
                    continue
                if name == "year" and re.search(r"[$#]\s*$", before):
                    continue
            found.append((start, end, name))
            taken[start:end] = b"\x01" * (end - start)
    return sorted(found)


# ---------------------------------------------------------------- shifting
def _month_number(word: str) -> int:
    key = word.rstrip(".").lower()[:3]
    return [m.lower()[:3] for m in MONTHS].index(key) + 1


def _render_month(like: str, month: int, abbreviated: bool = False) -> str:
    """Month `month` spelled as `like` is: full or abbreviated (`Sept` keeps four letters), case.
    `May` is read as full unless `abbreviated` (`05-MAY-19`)."""
    full = MONTHS[month - 1]
    bare = like.rstrip(".")
    if bare.lower() in (m.lower() for m in MONTHS) and not (abbreviated and len(bare) == 3):
        word = full
    elif len(bare) == 4 and bare.lower() == "sept":
        word = "Sept" if month == 9 else full[:3]
    else:
        word = full[:3]
    if bare.isupper():
        word = word.upper()
    elif bare.islower():
        word = word.lower()
    if like.endswith(".") and word.lower() not in ("may", "june", "july"):
        word += "."
    return word


def _ordinal(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _pad(like: str, value: int, always: bool = False) -> str:
    """`value` zero-padded as `like` was (`03` -> `04`); `always`: pad to its width (ISO dates)."""
    padded = (like.startswith("0") or always) and len(like) > 1
    return f"{value:0{len(like)}d}" if padded else str(value)


def parse_form(text: str) -> Optional[Tuple[str, "re.Match[str]"]]:
    """The form that matches all of `text` (one date as `find_dates` found it)."""
    for name, pattern in _COMPILED:
        match = pattern.fullmatch(text)
        if match:
            return name, match
    return None


def shift_date(
    text: str, days: int, *, default_year: int = 2000, day_first: bool = False
) -> Optional[str]:
    """`text` (one whole date) moved by `days`, written in its own format; None if not a date.

    A date without a year is read in `default_year` (a leap year keeps 29 February); a
    month without a day is read as its 15th; a year alone as its 1 July. `day_first` reads
    an ambiguous numeric date (`03/05/2019`) as 3 May.
    """
    parsed = parse_form(text)
    if parsed is None:
        return None
    name, match = parsed
    groups: Dict[str, Any] = match.groupdict()
    if name == "holiday":
        return None
    if name == "weekday":
        index = [w.lower() for w in WEEKDAYS].index(groups["wd"].lower())
        return WEEKDAYS[(index + (days % 7 or 1)) % 7]  # a whole-week shift still moves the day
    year_text = groups.get("y")
    year = int(year_text) if year_text else default_year
    if year_text and len(year_text) == 2:
        year += 2000 if year < 50 else 1900
    if groups.get("m"):
        month = _month_number(groups["m"])
    elif groups.get("mn"):
        month = int(groups["mn"])
    else:
        month = 7
    day = int(groups["d"]) if groups.get("d") else (15 if name not in ("year",) else 1)
    if name == "mdy" and day_first and day <= 12:
        month, day = day, month
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    new = date + dt.timedelta(days=days)
    if name == "year" and new.year == date.year:  # a year alone moves at least one year
        new = new.replace(year=date.year + (1 if days > 0 else -1))
    values: Dict[str, str] = {}
    if year_text:
        values["y"] = f"{new.year % 100:02d}" if len(year_text) == 2 else str(new.year)
    new_month, new_day = new.month, new.day
    if name == "mdy" and day_first and int(groups["d"] or 0) <= 12:
        new_month, new_day = new.day, new.month  # written day first: swap back
    if groups.get("m"):
        values["m"] = _render_month(groups["m"], new.month, name == "d-mon-y")
    if groups.get("mn"):
        values["mn"] = _pad(groups["mn"], new_month, name == "ymd")
    if groups.get("d"):
        values["d"] = _pad(groups["d"], new_day, name == "ymd")
    if groups.get("o"):
        ordinal = _ordinal(new.day)
        values["o"] = ordinal.upper() if groups["o"].isupper() else ordinal
    if groups.get("wd"):
        like = groups["wd"]
        index = [w[:3].lower() for w in WEEKDAYS].index(like[:3].lower())
        weekday = WEEKDAYS[(index + days) % 7]  # the date moved by `days`: so does its weekday
        values["wd"] = weekday if len(like) > 3 else weekday[: len(like)]
    # rebuild: the matched text with each group's characters replaced
    out: List[str] = []
    pos = 0
    spans = sorted(
        (match.start(g) - match.start(), match.end(g) - match.start(), g)
        for g in values
        if match.group(g) is not None
    )
    for start, end, group in spans:
        out.append(text[pos:start])
        out.append(values[group])
        pos = end
    out.append(text[pos:])
    return "".join(out)


DAY_PRECISE = ("ymd", "mdy", "dmy", "d-mon-y", "month-day", "day-month")


def date_value(
    text: str, *, default_year: int = 2000, day_first: bool = False, exact: bool = False
) -> Optional[dt.date]:
    """The calendar date `text` names (for checking intervals), None for weekdays and holidays;
    `exact`: None also for a date without its year or day (a month, a year)."""
    parsed = parse_form(text)
    if parsed is None or parsed[0] in ("weekday", "holiday"):
        return None
    name, match = parsed
    if exact and (name not in DAY_PRECISE or not match.groupdict().get("y")):
        return None
    g: Dict[str, Any] = match.groupdict()
    year = int(g["y"]) if g.get("y") else default_year
    if g.get("y") and len(g["y"]) == 2:
        year += 2000 if year < 50 else 1900
    month = _month_number(g["m"]) if g.get("m") else int(g["mn"]) if g.get("mn") else 7
    day = int(g["d"]) if g.get("d") else (15 if name != "year" else 1)
    if name == "mdy" and day_first and day <= 12:
        month, day = day, month
    return dt.date(year, month, day)
