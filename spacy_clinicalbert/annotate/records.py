"""A note as a source yields it, and the checks that decide whether it can be annotated.

Sources never judge a note: they hand over what they read (text as str or bytes,
None when missing) with where it came from. `check_note` gives the reason a note
goes to the errors output instead (null, empty, invalid UTF-8, oversize, no id).
Duplicate ids are found by the engine, which sees the whole run.
"""

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Optional, Tuple

DEFAULT_MAX_CHARS = 200_000
_INT = re.compile(r"[+-]?\d{1,19}")
_INT64_MAX = 2**63 - 1


@dataclass
class SourceNote:
    """One record as read: values as found, and `location` (file:line, row n, ...)."""

    note_id: Any
    text: Any
    location: str
    person_id: Any = None
    note_date: Any = None
    # set by a source that could not parse the record at all (e.g. a bad JSON line)
    problem: Optional[Tuple[str, str]] = None


@dataclass
class Note:
    """A note that passed the checks, ready for the pipeline (picklable, small)."""

    source_id: str
    note_id: int
    text: str
    person_id: Optional[int] = None
    note_date: Optional[dt.date] = None
    words: int = 0
    location: str = ""


def stable_int(*parts: Any) -> int:
    """A 63-bit id from `parts`, the same on every machine and engine (BLAKE2b)."""
    key = "\x1f".join(str(p) for p in parts).encode("utf8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") & _INT64_MAX


def omop_note_id(source_id: str) -> int:
    """OMOP's integer `note_id`: the id itself when it is an integer, else a stable hash."""
    if _INT.fullmatch(source_id):
        value = int(source_id)
        if -_INT64_MAX <= value <= _INT64_MAX:
            return value
    return stable_int("note", source_id)


def source_id_of(value: Any) -> Optional[str]:
    """The note id as text (`12.0` from a float column reads as `12`), None when missing."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN from pandas
            return None
        if value.is_integer():
            value = int(value)
    if isinstance(value, bytes):
        value = value.decode("utf8", "backslashreplace")
    text = str(value).strip()
    return text or None


def _as_int(value: Any, what: str) -> Optional[int]:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if _INT.fullmatch(text):
        return int(text)
    raise ValueError(f"{what} {value!r} is not an integer")


def _as_date(value: Any) -> Optional[dt.date]:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime().date()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"note date {value!r} is not an ISO date (YYYY-MM-DD)") from None


def check_note(
    record: SourceNote, max_chars: int
) -> Tuple[Optional[Note], Optional[Tuple[str, str]]]:
    """(note, None) when the record can be annotated, else (None, (reason, detail))."""
    if record.problem:
        return None, record.problem
    source_id = source_id_of(record.note_id)
    if source_id is None:
        return None, ("missing_id", "the note id is empty or missing")
    text = record.text
    if text is None or (isinstance(text, float) and text != text):
        return None, ("null_text", "the text is null")
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf8")
        except UnicodeDecodeError as err:
            return None, ("invalid_utf8", f"byte {err.start}: {err.reason}")
    if not isinstance(text, str):
        return None, ("invalid_text", f"the text is {type(text).__name__}, not a string")
    try:
        text.encode("utf8")
    except UnicodeEncodeError as err:  # undecodable bytes kept by errors="surrogateescape"
        return None, ("invalid_utf8", f"character {err.start}: not UTF-8")
    if not text.strip():
        return None, ("empty_text", "the text is empty or only whitespace")
    if len(text) > max_chars:
        return None, ("oversize", f"{len(text)} characters > --max-chars {max_chars}")
    try:
        person_id = _as_int(record.person_id, "person id")
        note_date = _as_date(record.note_date)
    except ValueError as err:
        return None, ("invalid_field", str(err))
    note = Note(
        source_id,
        omop_note_id(source_id),
        text,
        person_id,
        note_date,
        len(text.split()),
        record.location,
    )
    return note, None
