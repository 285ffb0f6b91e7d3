"""Realistic fake values, the same for the same patient and original in every note.

Every choice comes from HMAC-SHA256 over (patient, kind, original) under a secret key, so
a surrogate is reproducible by whoever holds the key and by nobody else, and a different
key gives different surrogates. The key is read from an environment variable
(`SPACY_CLINICALBERT_DEID_KEY` by default) and is never stored on an object's repr, written
to an output or logged. Dates move by one offset per patient (30 to 395 days either way),
written back in their own format (`dates.shift_date`), so intervals within a patient stay
exact. Ages over 89 become "90+" (HIPAA's single group). Names are replaced word by word
(`John Smith` and a later `Mr. Smith` keep the same surname); numbers keep their shape
(digits for digits, letters for letters, separators kept); e-mails, URLs and IP addresses
use the reserved example domains and documentation address blocks, so no surrogate is
anyone's real address.
"""

import hashlib
import hmac
import os
import random
import re
from typing import Callable, Dict, Sequence

from .categories import CATEGORIES
from .dates import HOLIDAYS, shift_date
from .patterns import US_STATES

KEY_ENV = "SPACY_CLINICALBERT_DEID_KEY"
MIN_KEY_BYTES = 16


class KeyError_(ValueError):
    """The surrogate key is missing or too short (message never shows the key)."""


def key_from_env(variable: str = KEY_ENV) -> bytes:
    value = os.environ.get(variable, "")
    if not value:
        raise KeyError_(
            f"The surrogate strategy needs a secret key in the environment variable {variable} "
            f"(at least {MIN_KEY_BYTES} characters), e.g. `export {variable}=$(openssl rand -hex 32)`. "  # noqa: E501
            "Keep it: the same key gives the same surrogates."
        )
    if len(value.encode("utf8")) < MIN_KEY_BYTES:
        raise KeyError_(
            f"The key in {variable} is too short ({len(value)} characters); use at least "
            f"{MIN_KEY_BYTES}."
        )
    return value.encode("utf8")


_PROFESSIONS = (
    "accountant",
    "electrician",
    "librarian",
    "plumber",
    "pharmacist",
    "engineer",
    "teacher",
    "architect",
    "mechanic",
    "chef",
    "journalist",
    "lawyer",
    "carpenter",
    "musician",
    "farmer",
)
_HOSPITAL_WORDS = ("Memorial", "Regional", "General", "Community", "County", "Valley", "Mercy")


def _case_like(like: str, value: str) -> str:
    if like.isupper() and len(like) > 1:
        return value.upper()
    if like.islower():
        return value.lower()
    return value


class SurrogateMaker:
    """Keyed, consistent surrogates. `SurrogateMaker(key_from_env())`."""

    def __init__(self, key: bytes, locale: str = "en_US"):
        if not key:
            raise KeyError_("An empty surrogate key was given.")
        self.__key = key
        from faker import Faker

        self._fake = Faker(locale)
        self._first = list(self._provider("first_names"))
        self._last = list(self._provider("last_names"))
        self._makers: Dict[str, Callable[[str, random.Random], str]] = {
            "PROFESSION": self._profession,
            "HOSPITAL": self._hospital,
            "ORGANIZATION": self._faker("company"),
            "STREET": self._faker("street_address"),
            "CITY": self._faker("city"),
            "STATE": self._state,
            "COUNTRY": self._faker("country"),
            "LOCATION-OTHER": self._faker("city"),
            "EMAIL": self._email,
            "URL": self._url,
            "IPADDR": self._ip,
            "AGE": lambda value, rng: "90+",
        }

    def __repr__(self) -> str:
        return "SurrogateMaker(key=<hidden>)"

    def _provider(self, attribute: str) -> Sequence[str]:
        for provider in self._fake.get_providers():
            if hasattr(provider, attribute):
                return tuple(getattr(provider, attribute))
        return ()

    # ------------------------------------------------------------ keyed randomness
    def _rng(self, *parts: str) -> random.Random:
        digest = hmac.new(self.__key, "\x1f".join(parts).encode("utf8"), hashlib.sha256).digest()
        return random.Random(int.from_bytes(digest, "big"))

    def date_shift(self, patient: str) -> int:
        """Days every date of this patient moves (never less than 30 either way)."""
        rng = self._rng("date-shift", patient)
        return rng.choice((-1, 1)) * rng.randint(30, 395)

    # ------------------------------------------------------------ per kind
    def surrogate(
        self,
        label: str,
        original: str,
        patient: str = "",
        *,
        default_year: int = 2000,
        day_first: bool = False,
    ) -> str:
        """The surrogate of `original` (a `label` span) for `patient`; never equal to it."""
        group = CATEGORIES[label][0] if label in CATEGORIES else "ID"
        if label == "DATE":
            shifted = shift_date(
                original, self.date_shift(patient), default_year=default_year, day_first=day_first
            )
            if shifted is not None:
                return shifted
            return self._choose(self._rng(patient, "HOLIDAY", original.lower()), HOLIDAYS, original)
        kind = "NAME" if group == "NAME" and label != "USERNAME" else label
        maker = self._makers.get(kind, self._shape)
        normalized = " ".join(original.lower().split())
        for attempt in range(20):
            if kind == "NAME":
                value = self._name(original, patient, attempt)
            else:
                value = maker(original, self._rng(patient, kind, normalized, str(attempt)))
            if value.lower() != original.lower() or kind == "AGE":
                return value
        return value

    def _choose(self, rng: random.Random, options: Sequence[str], avoid: str) -> str:
        options = [o for o in options if o.lower() != avoid.lower()] or list(options)
        return rng.choice(options)

    def _faker(self, method: str) -> Callable[[str, random.Random], str]:
        def make(original: str, rng: random.Random) -> str:
            self._fake.seed_instance(rng.getrandbits(64))
            return _case_like(original, str(getattr(self._fake, method)()).replace("\n", ", "))

        return make

    def _name(self, original: str, patient: str, attempt: int = 0) -> str:
        """Word by word, each word keyed by (patient, word): `John Smith` and a later
        `Mr. Smith` of the same patient keep the same surname."""
        first = set(self._first)

        def word(match: "re.Match[str]") -> str:
            w = match.group()
            rng = self._rng(patient, "NAME-WORD", w.lower().rstrip("."), str(attempt))
            if len(w.rstrip(".")) == 1:  # an initial
                return rng.choice("ABCDEFGHIJKLMNOPRSTW") + w[1:]
            pool = self._first if w.capitalize() in first else self._last
            return _case_like(w, self._choose(rng, pool, w))

        return re.sub(r"[A-Za-z][A-Za-z'’-]*\.?", word, original)

    def _profession(self, original: str, rng: random.Random) -> str:
        return _case_like(original, self._choose(rng, _PROFESSIONS, original))

    def _hospital(self, original: str, rng: random.Random) -> str:
        heads = re.search(
            r"(Hospital|Medical Cent(?:er|re)|Clinic|Health Cent(?:er|re)|Infirmary|"
            r"Hospice|Nursing Home|Health System)\s*$",
            original,
        )
        head = heads.group(1) if heads else "Hospital"
        return f"{rng.choice(self._last)} {rng.choice(_HOSPITAL_WORDS)} {head}"

    def _state(self, original: str, rng: random.Random) -> str:
        if re.fullmatch(r"[A-Z]{2}", original):
            return self._choose(rng, list(US_STATES), original)
        return _case_like(original, self._choose(rng, list(US_STATES.values()), original))

    def _email(self, original: str, rng: random.Random) -> str:
        return (
            f"{rng.choice(self._first).lower()}.{rng.choice(self._last).lower()}"
            f"{rng.randint(1, 99)}@example.{rng.choice(('com', 'org', 'net'))}"
        )

    def _url(self, original: str, rng: random.Random) -> str:
        word = rng.choice(self._last).lower()
        if original.lower().startswith(("http://", "https://")):
            return f"https://www.example.org/{word}"
        return f"www.example.org/{word}"

    def _ip(self, original: str, rng: random.Random) -> str:
        if ":" in original:
            return "2001:db8::" + ":".join(f"{rng.randint(0, 65535):x}" for _ in range(4))
        block = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
        return f"{block}.{rng.randint(1, 254)}"

    def _shape(self, original: str, rng: random.Random) -> str:
        out = []
        for i, ch in enumerate(original):
            if ch.isdigit():
                out.append(str(rng.randint(1 if i == 0 else 0, 9)))
            elif ch.isalpha():
                letter = rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
                out.append(letter if ch.isupper() else letter.lower())
            else:
                out.append(ch)
        value = "".join(out)
        if re.fullmatch(r"\d{3}-\d{2}-\d{4}", value) and value[:3] in ("000", "666"):
            value = "1" + value[1:]
        return value


def day_first_note(date_texts: Sequence[str]) -> bool:
    """A note writes numeric dates day first if one of them can only be read that way."""
    return any(
        re.fullmatch(r"(?:1[3-9]|2\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.]\d{2,4}", t)
        for t in date_texts
    )


def note_year(date_texts: Sequence[str], default: int = 2000) -> int:
    """The year a date without one is read in: the note's most frequent four-digit year."""
    years = [int(y) for t in date_texts for y in re.findall(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)", t)]
    return max(set(years), key=years.count) if years else default
