"""A synthetic PHI corpus, reproducible from a seed, built on real clinical prose.

Generator A (locale en_US): MTSamples notes (public, already scrubbed: "Dr. X", "XYZ
Hospital", "MM/DD/YYYY") with PHI written where notes carry it: a header (name, MRN, DOB,
admission date, attending), the scrubbed stand-ins replaced by real-looking values, "seen
by Dr. ..." and social-history sentences, follow-up dates and phone numbers in the
instructions, a signature; plus short template notes. Names, places and numbers come from
faker, so no real person's PHI is used. Split into train/dev/test by note (each patient's
notes stay in one split).

Generator B (locales en_GB and en_AU): other MTSamples notes, other headers, sentences and
templates, British and Australian name lists, day-first dates and the locale's phone
numbers and postcodes: a test set for how far detection generalises beyond generator A.

Every note is a JSON line {id, patient_id, generator, split, text, spans: [{start, end,
label}]}; gold AGE is an age over 89 (the only ages that are PHI under HIPAA), as the
detector also assumes. Generated corpora are never committed (write them to a temp folder).
"""

import datetime as dt
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .dates import MONTHS

Segment = Tuple[str, Optional[str]]  # (text, label or None)


@dataclass
class Person:
    first: str
    last: str
    sex: str


@dataclass
class Patient:
    pid: str
    person: Person
    dob: dt.date
    age: int
    street: str
    city: str
    state: str
    zip: str
    phone: str
    fax: str
    email: str
    mrn: str
    account: str
    plan: str
    ssn: str
    doctors: List[Person]
    hospital: str
    company: str
    profession: str
    spouse: str
    country: str
    url: str
    visits: List[dt.date] = field(default_factory=list)


PROFESSIONS_A = (
    "teacher",
    "electrician",
    "accountant",
    "nurse",
    "truck driver",
    "carpenter",
    "software engineer",
    "mechanic",
    "cashier",
    "firefighter",
    "pharmacist",
    "farmer",
)
PROFESSIONS_B = (
    "solicitor",
    "plumber",
    "shop assistant",
    "postman",
    "civil servant",
    "builder",
    "hairdresser",
    "bus driver",
    "librarian",
    "chef",
)
HOSPITAL_WORDS_A = (
    "Memorial Hospital",
    "General Hospital",
    "Medical Center",
    "Regional Medical Center",
    "Community Hospital",
)
HOSPITAL_WORDS_B = ("Infirmary", "Royal Hospital", "District Hospital", "Hospital", "Health Centre")


class _Gen:
    def __init__(self, locales: Sequence[str], seed: int, variant: str):
        from faker import Faker

        self.fake = Faker(list(locales))
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self.variant = variant

    def person(self) -> Person:
        sex = self.rng.choice("MF")
        first = self.fake.first_name_male() if sex == "M" else self.fake.first_name_female()
        return Person(first, self.fake.last_name(), sex)

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def patient(self, pid: str) -> Patient:
        p = self.person()
        old = self.rng.random() < 0.15
        age = self.rng.randint(90, 103) if old else self.rng.randint(20, 88)
        year = self.rng.randint(2012, 2023)
        dob = dt.date(year - age, self.rng.randint(1, 12), self.rng.randint(1, 28))
        first_visit = dt.date(year, self.rng.randint(1, 12), self.rng.randint(1, 28))
        visits = sorted(first_visit + dt.timedelta(days=self.rng.randint(0, 200)) for _ in range(4))
        us = self.variant == "A"
        if us:
            phone = self.rng.choice(["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}"]).format(
                a=self.rng.randint(201, 989), b=self.digits(3), c=self.digits(4)
            )
            fax = f"{self.rng.randint(201, 989)}-{self.digits(3)}-{self.digits(4)}"
            state = self.fake.state_abbr(include_territories=False)
            zip_code = self.fake.zipcode()
        else:
            phone = self.fake.phone_number()
            fax = self.fake.phone_number()
            state = self.fake.city()  # en_GB has no states: a county-like second place
            zip_code = self.fake.postcode()
        hospitals = HOSPITAL_WORDS_A if us else HOSPITAL_WORDS_B
        hospital = f"{self.rng.choice([self.fake.last_name(), self.fake.city()])} {self.rng.choice(hospitals)}"  # noqa: E501
        return Patient(
            pid=pid,
            person=p,
            dob=dob,
            age=age,
            street=self.fake.street_address().replace("\n", ", "),
            city=self.fake.city(),
            state=state,
            zip=zip_code,
            phone=phone,
            fax=fax,
            email=f"{p.first.lower()}.{p.last.lower()}{self.rng.randint(1, 99)}@{self.fake.free_email_domain()}",  # noqa: E501
            mrn=self.digits(self.rng.choice([7, 8, 9])),
            account=self.rng.choice(["AC", "ACC", ""]) + self.digits(8),
            plan=self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
            + self.rng.choice("ABCDEFGHJK")
            + self.digits(9),
            ssn=f"{self.rng.randint(100, 665)}-{self.rng.randint(10, 99)}-{self.rng.randint(1000, 9999)}",  # noqa: E501
            doctors=[self.person() for _ in range(3)],
            hospital=hospital,
            company=self.fake.company(),
            profession=self.rng.choice(PROFESSIONS_A if us else PROFESSIONS_B),
            spouse=self.fake.first_name(),
            country=self.rng.choice(
                [
                    "Mexico",
                    "Canada",
                    "India",
                    "Germany",
                    "Brazil",
                    "Japan",
                    "Italy",
                    "Ireland",
                    "Kenya",
                ]
            ),
            url=f"www.{self.fake.domain_word()}.{self.rng.choice(['com', 'org', 'net'])}",
            visits=visits,
        )

    # ---------------------------------------------------------------- dates
    def date(self, day: dt.date, cue: bool = True) -> str:
        rng = self.rng
        if self.variant == "A":
            forms = [
                "%m/%d/%Y",
                "%m/%d/%y",
                "%Y-%m-%d",
                "%B %d, %Y",
                "%b %d, %Y",
                "%d %B %Y",
                "ordinal-of",
                "%B %Y",
                "%d-%b-%y-upper",
            ] + (["%m/%d"] if cue else [])
        else:
            forms = ["%d/%m/%Y", "%d.%m.%Y", "%d %B %Y", "ordinal", "%d %b %Y", "%A %d %B", "%B %Y"]
        form = rng.choice(forms)
        if form == "ordinal-of":
            return f"{_ordinal(day.day)} of {day:%B}"
        if form == "ordinal":
            return f"{_ordinal(day.day)} {day:%B %Y}"
        if form == "%d-%b-%y-upper":
            return f"{day:%d-%b-%y}".upper()
        text = day.strftime(form)
        if form in ("%m/%d/%Y", "%m/%d", "%B %d, %Y") and rng.random() < 0.5:
            text = re.sub(r"\b0(\d)", r"\1", text)
        return text


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _name(p: Person, form: int) -> str:
    return [f"{p.first} {p.last}", f"{p.last}, {p.first}", p.last, f"{p.first[0]}. {p.last}"][form]


# ---------------------------------------------------------------- generator A
def _header_a(g: _Gen, pt: Patient) -> List[Segment]:
    d = pt.doctors[0]
    variant = g.rng.randint(0, 2)
    if variant == 0:
        return [
            ("PATIENT NAME: ", None),
            (_name(pt.person, 1).upper(), "PATIENT"),
            ("\nMRN: ", None),
            (pt.mrn, "MEDICALRECORD"),
            ("\nDOB: ", None),
            (g.date(pt.dob, False), "DATE"),
            ("\nDATE OF ADMISSION: ", None),
            (g.date(pt.visits[0]), "DATE"),
            ("\nATTENDING: Dr. ", None),
            (f"{d.first} {d.last}", "DOCTOR"),
            ("\n\n", None),
        ]
    if variant == 1:
        return [
            ("Patient: ", None),
            (_name(pt.person, 0), "PATIENT"),
            ("    Medical Record #: ", None),
            (pt.mrn, "MEDICALRECORD"),
            ("    Date of service: ", None),
            (g.date(pt.visits[0]), "DATE"),
            ("\nAccount number: ", None),
            (pt.account, "ACCOUNT"),
            ("    Insurance ID: ", None),
            (pt.plan, "HEALTHPLAN"),
            ("\n", None),
            (pt.hospital, "HOSPITAL"),
            ("\n\n", None),
        ]
    return [
        ("Name: ", None),
        (_name(pt.person, 0), "PATIENT"),
        (" (", None),
        (str(pt.age) if pt.age > 89 else "", "AGE" if pt.age > 89 else None),
        (" y/o)\n" if pt.age > 89 else "adult)\n", None),
        ("MRN ", None),
        (pt.mrn, "MEDICALRECORD"),
        (" | DOB ", None),
        (g.date(pt.dob, False), "DATE"),
        (" | SSN ", None),
        (pt.ssn, "SSN"),
        ("\nReferring physician: ", None),
        (_name(pt.doctors[1], 0), "DOCTOR"),
        (", MD\n\n", None),
    ]


def _sentences_a(g: _Gen, pt: Patient) -> List[List[Segment]]:
    he = "He" if pt.person.sex == "M" else "She"
    his = "his wife" if pt.person.sex == "M" else "her husband"
    d = pt.doctors
    options = [
        [
            (f"{he} was seen by Dr. ", None),
            (d[0].last, "DOCTOR"),
            (" on ", None),
            (g.date(pt.visits[1]), "DATE"),
            (".", None),
        ],
        [
            (f"{he} lives in ", None),
            (pt.city, "CITY"),
            (" with ", None),
            (his + " ", None),
            (pt.spouse, "PATIENT"),
            (".", None),
        ],
        [
            (f"{he} works as a ", None),
            (pt.profession, "PROFESSION"),
            (" at ", None),
            (pt.company, "ORGANIZATION"),
            (".", None),
        ],
        [
            (f"{he} was transferred from ", None),
            (pt.hospital, "HOSPITAL"),
            (" on ", None),
            (g.date(pt.visits[0]), "DATE"),
            (".", None),
        ],
        [(f"{he} recently traveled to ", None), (pt.country, "COUNTRY"), (".", None)],
        [
            ("Mr. " if pt.person.sex == "M" else "Ms. ", None),
            (pt.person.last, "PATIENT"),
            (" was last seen in clinic in ", None),
            (str(pt.visits[0].year), "DATE"),
            (".", None),
        ],
    ]
    g.rng.shuffle(options)
    return options[: g.rng.randint(1, 3)]


def _footer_a(g: _Gen, pt: Patient) -> List[Segment]:
    d = pt.doctors
    segs: List[Segment] = [
        ("\n\nFollow up with Dr. ", None),
        (d[0].last, "DOCTOR"),
        (" on ", None),
        (g.date(pt.visits[2]), "DATE"),
        (". Call ", None),
        (pt.phone, "PHONE"),
        (" with questions", None),
    ]
    if g.rng.random() < 0.5:
        segs += [(" or fax records to ", None), (pt.fax, "FAX")]
    segs.append((".\n", None))
    if g.rng.random() < 0.4:
        segs += [
            ("Address: ", None),
            (pt.street, "STREET"),
            (", ", None),
            (pt.city, "CITY"),
            (", ", None),
            (pt.state, "STATE"),
            (" ", None),
            (pt.zip, "ZIP"),
            ("\n", None),
        ]
    if g.rng.random() < 0.3:
        segs += [
            ("Email: ", None),
            (pt.email, "EMAIL"),
            ("  Patient portal: ", None),
            (pt.url, "URL"),
            ("\n", None),
        ]
    segs += [
        ("\nElectronically signed by ", None),
        (f"{d[0].first} {d[0].last}", "DOCTOR"),
        (", MD on ", None),
        (g.date(pt.visits[2], False), "DATE"),
        (f" {g.rng.randint(7, 18):02d}:{g.rng.randint(0, 59):02d}\n", None),
    ]
    if g.rng.random() < 0.5:
        segs += [("cc: Dr. ", None), (_name(d[2], g.rng.choice([0, 2])), "DOCTOR"), ("\n", None)]
    return segs


_SCRUBBED_DOCTOR = re.compile(r"\b(Dr|Doctor)\.? ([A-Z][a-zA-Z]*)\b")
_SCRUBBED_PERSON = re.compile(r"\b(Mr|Mrs|Ms|Miss)\.? (X|XYZ|ABC|XXX|[A-Z][a-z]+)\b")
_SCRUBBED_HOSPITAL = re.compile(
    r"\b(XYZ|ABC|ABCD|XXX)(?: [A-Z][a-z]+){0,2} (Hospital|Medical Center|Clinic|Health Center)\b"
)
# MTSamples was scrubbed with stand-ins, but some real-looking dates are left: they are
# replaced (and annotated) too, so the gold does not miss PHI the note carries.
_SCRUBBED_DATE = re.compile(
    r"\bMM/DD/YYYY\b|\bXX/XX/XXXX\b|(?<![\d/])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])/(?:\d{4}|\d{2})(?![\d/])"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r" (?:\d{1,2}, )?(?:19|20)\d\d\b"
)
_OLD_AGE = re.compile(r"\b(9\d|1[01]\d)(?=-year-old|-year old| year old| years old)")
_AGE_MENTION = re.compile(r"\b([2-8]\d)(-year-old|-year old| year old| years old)")
_DATE_WORDS = set(MONTHS)


def _fill_mtsamples(g: _Gen, text: str, pt: Patient) -> List[Segment]:
    """The scrubbed stand-ins of an MTSamples note replaced by this patient's PHI."""
    segs: List[Segment] = []
    pos = 0
    hits = []
    for pattern, kind in (
        (_SCRUBBED_DOCTOR, "doc"),
        (_SCRUBBED_PERSON, "pt"),
        (_SCRUBBED_HOSPITAL, "hosp"),
        (_SCRUBBED_DATE, "date"),
    ):
        hits += [(m, kind) for m in pattern.finditer(text)]
    hits += [(m, "oldage") for m in _OLD_AGE.finditer(text)]
    age_match = _AGE_MENTION.search(text)
    if age_match and pt.age > 89:
        hits.append((age_match, "age"))
    hits.sort(key=lambda h: h[0].start())
    doctor_map: Dict[str, Person] = {}
    for match, kind in hits:
        if match.start() < pos:
            continue
        if kind == "doc":
            word = match.group(2)
            if word in _DATE_WORDS:
                continue
            doc = doctor_map.setdefault(word, g.rng.choice(pt.doctors))
            segs += [(text[pos : match.start(2)], None), (doc.last, "DOCTOR")]
            pos = match.end(2)
        elif kind == "pt":
            segs += [(text[pos : match.start(2)], None), (pt.person.last, "PATIENT")]
            pos = match.end(2)
        elif kind == "hosp":
            segs += [(text[pos : match.start()], None), (pt.hospital, "HOSPITAL")]
            pos = match.end()
        elif kind == "oldage":
            segs += [(text[pos : match.start()], None), (match.group(), "AGE")]
            pos = match.end()
        elif kind == "date":
            segs += [
                (text[pos : match.start()], None),
                (g.date(g.rng.choice(pt.visits), False), "DATE"),
            ]
            pos = match.end()
        else:
            segs += [(text[pos : match.start(1)], None), (str(pt.age), "AGE")]
            pos = match.end(1)
    segs.append((text[pos:], None))
    return segs


def _insert_sentences(
    g: _Gen, body: List[Segment], sentences: List[List[Segment]]
) -> List[Segment]:
    """Each sentence after a random sentence end in the note's unlabelled text."""
    for sentence in sentences:
        plain = [
            i
            for i, (t, label) in enumerate(body)
            if label is None and re.search(r"[a-z]\. [A-Z]", t)
        ]
        if not plain:
            body = body + [(" ", None)] + sentence
            continue
        i = g.rng.choice(plain)
        text = body[i][0]
        cuts = [m.end() for m in re.finditer(r"[a-z]\. (?=[A-Z])", text)]
        cut = g.rng.choice(cuts)
        body = (
            body[:i] + [(text[:cut], None)] + sentence + [(" " + text[cut:], None)] + body[i + 1 :]
        )
    return body


def mtsamples_note_a(g: _Gen, text: str, pt: Patient) -> List[Segment]:
    body = _fill_mtsamples(g, text, pt)
    body = _insert_sentences(g, body, _sentences_a(g, pt))
    return _header_a(g, pt) + body + _footer_a(g, pt)


def template_note_a(g: _Gen, pt: Patient) -> List[Segment]:
    d = pt.doctors
    he = "He" if pt.person.sex == "M" else "She"
    chief = g.rng.choice(
        ["chest pain", "shortness of breath", "abdominal pain", "a fall", "fever and cough"]
    )
    segs: List[Segment] = [("DISCHARGE SUMMARY\n", None)] + _header_a(g, pt)
    segs += [
        ("HISTORY: ", None),
        ("Mr. " if pt.person.sex == "M" else "Mrs. ", None),
        (pt.person.last, "PATIENT"),
        (" presented to the emergency department of ", None),
        (pt.hospital, "HOSPITAL"),
        (" on ", None),
        (g.date(pt.visits[0]), "DATE"),
        (f" with {chief}. {he} was admitted under Dr. ", None),
        (_name(d[0], g.rng.choice([0, 2])), "DOCTOR"),
        (". ", None),
    ]
    if pt.age > 89:
        segs += [
            (f"{he} is a ", None),
            (str(pt.age), "AGE"),
            ("-year-old with multiple comorbidities. ", None),
        ]
    segs += [
        ("Discharged on ", None),
        (g.date(pt.visits[1]), "DATE"),
        (" in stable condition.\n", None),
    ]
    return segs + _footer_a(g, pt)


# ---------------------------------------------------------------- generator B
def _header_b(g: _Gen, pt: Patient) -> List[Segment]:
    d = pt.doctors[0]
    return [
        ("Clinic letter\nRe: ", None),
        (f"{pt.person.first} {pt.person.last}", "PATIENT"),
        (", born ", None),
        (g.date(pt.dob, False), "DATE"),
        ("\nHospital number ", None),
        (pt.mrn, "MEDICALRECORD"),
        ("   NHS number ", None),
        (f"{pt.mrn[:3]} {pt.mrn[3:6]} {g.digits(4)}", "IDNUM"),
        ("\n", None),
        (pt.street, "STREET"),
        (", ", None),
        (pt.city, "CITY"),
        (" ", None),
        (pt.zip, "ZIP"),
        ("\nConsultant: Dr ", None),
        (d.last, "DOCTOR"),
        ("\n\nDear Dr ", None),
        (pt.doctors[1].last, "DOCTOR"),
        (",\n\n", None),
    ]


def _footer_b(g: _Gen, pt: Patient) -> List[Segment]:
    return [
        ("\n\nWe shall review ", None),
        ("him" if pt.person.sex == "M" else "her", None),
        (" in the clinic on ", None),
        (g.date(pt.visits[2]), "DATE"),
        (". Should there be any concerns please ring the ward on ", None),
        (pt.phone, "PHONE"),
        (".\n\nYours sincerely,\n\n", None),
        (f"{pt.doctors[0].first} {pt.doctors[0].last}", "DOCTOR"),
        ("\nConsultant Physician, ", None),
        (pt.hospital, "HOSPITAL"),
        ("\n", None),
    ]


def _sentences_b(g: _Gen, pt: Patient) -> List[List[Segment]]:
    they = "He" if pt.person.sex == "M" else "She"
    options = [
        [
            (f"{they} is a retired ", None),
            (pt.profession, "PROFESSION"),
            (" and lives alone in ", None),
            (pt.city, "CITY"),
            (".", None),
        ],
        [
            (f"{they} attended the ", None),
            (pt.hospital, "HOSPITAL"),
            (" on ", None),
            (g.date(pt.visits[0]), "DATE"),
            (".", None),
        ],
        [
            (f"{they} has just come back from a holiday in ", None),
            (pt.country, "COUNTRY"),
            (".", None),
        ],
        [
            (f"{they} was reviewed by my colleague Dr ", None),
            (pt.doctors[2].last, "DOCTOR"),
            (" last ", None),
            (g.rng.choice(["Monday", "Tuesday", "Thursday", "Friday"]), "DATE"),
            (".", None),
        ],
    ]
    g.rng.shuffle(options)
    return options[: g.rng.randint(1, 3)]


def mtsamples_note_b(g: _Gen, text: str, pt: Patient) -> List[Segment]:
    body = _fill_mtsamples(g, text, pt)
    body = _insert_sentences(g, body, _sentences_b(g, pt))
    return _header_b(g, pt) + body + _footer_b(g, pt)


def template_note_b(g: _Gen, pt: Patient) -> List[Segment]:
    he = "He" if pt.person.sex == "M" else "She"
    segs = _header_b(g, pt) + [
        ("Thank you for referring this ", None),
        (str(pt.age) if pt.age > 89 else "pleasant", "AGE" if pt.age > 89 else None),
        (" year old" if pt.age > 89 else "", None),
        (" patient, whom I saw on ", None),
        (g.date(pt.visits[0]), "DATE"),
        (f". {he} gives a history of worsening breathlessness. ", None),
        (f"{he} can be contacted on ", None),
        (pt.phone, "PHONE"),
        (" or by email at ", None),
        (pt.email, "EMAIL"),
        (".", None),
    ]
    return segs + _footer_b(g, pt)


# ---------------------------------------------------------------- assembly
def render(segments: Sequence[Segment]) -> Tuple[str, List[Dict[str, Any]]]:
    """The note text and its gold spans (stripped of surrounding spaces)."""
    parts: List[str] = []
    spans: List[Dict[str, Any]] = []
    pos = 0
    for text, label in segments:
        if label and text.strip():
            lead = len(text) - len(text.lstrip())
            value = text.strip()
            spans.append({"start": pos + lead, "end": pos + lead + len(value), "label": label})
        parts.append(text)
        pos += len(text)
    return "".join(parts), spans


def mtsamples_notes(path: Path) -> List[str]:
    """Distinct MTSamples transcriptions (the pretraining CSV reader), in file order."""
    from ..pretraining.readers import ReadStats, read_csv

    seen: Dict[str, None] = {}
    for note in read_csv(path, ReadStats(), "transcription"):
        seen.setdefault(note.text.strip(), None)
    return list(seen)


def default_mtsamples() -> Path:
    import os

    root = os.environ.get("SPACY_CLINICALBERT_DATA") or str(
        Path(__file__).resolve().parents[2].parent / "shared" / "data"
    )
    return Path(root) / "mtsamples" / "mtsamples.csv"


def generate(
    *,
    seed: int = 0,
    mtsamples: Optional[Path] = None,
    n_notes: int = 600,
    n_templates: int = 300,
    n_other: int = 150,
    split: Tuple[float, float, float] = (0.7, 0.15, 0.15),
) -> Dict[str, List[Dict[str, Any]]]:
    """{"train", "dev", "test", "other"} lists of notes."""
    texts = mtsamples_notes(mtsamples or default_mtsamples())
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    if n_notes + n_other // 2 > len(order):
        raise ValueError(
            f"Asked for {n_notes} + {n_other // 2} MTSamples notes; there are {len(order)}."
        )
    used_a, used_b = order[:n_notes], order[n_notes : n_notes + n_other // 2]
    out: Dict[str, List[Dict[str, Any]]] = {"train": [], "dev": [], "test": [], "other": []}
    ga = _Gen(["en_US"], seed, "A")
    notes_a: List[Tuple[str, List[Segment]]] = []
    patients: List[Patient] = []
    for i, index in enumerate(used_a + [-1] * n_templates):
        if i % 2 == 0 or not patients:  # about two notes per patient
            patients.append(ga.patient(f"A{len(patients):05d}"))
        pt = patients[-1]
        segs = mtsamples_note_a(ga, texts[index], pt) if index >= 0 else template_note_a(ga, pt)
        notes_a.append((pt.pid, segs))
    pids = sorted({pid for pid, _ in notes_a})
    random.Random(seed + 1).shuffle(pids)
    cut1, cut2 = int(len(pids) * split[0]), int(len(pids) * (split[0] + split[1]))
    split_of = {
        pid: ("train" if k < cut1 else "dev" if k < cut2 else "test") for k, pid in enumerate(pids)
    }
    for n, (pid, segs) in enumerate(notes_a):
        text, spans = render(segs)
        part = split_of[pid]
        out[part].append(
            {
                "id": f"A-{n:05d}",
                "patient_id": pid,
                "generator": "A",
                "split": part,
                "text": text,
                "spans": spans,
            }
        )
    gb = _Gen(["en_GB", "en_AU"], seed + 7, "B")
    for n in range(n_other):
        pt = gb.patient(f"B{n // 2:05d}")
        index = used_b[n // 2] if n % 2 == 0 and n // 2 < len(used_b) else -1
        segs = mtsamples_note_b(gb, texts[index], pt) if index >= 0 else template_note_b(gb, pt)
        text, spans = render(segs)
        out["other"].append(
            {
                "id": f"B-{n:05d}",
                "patient_id": pt.pid,
                "generator": "B",
                "split": "other",
                "text": text,
                "spans": spans,
            }
        )
    return out


def to_docbin(notes: Sequence[Dict[str, Any]], nlp: Any) -> Tuple[Any, int]:
    """Gold PHI as doc.ents (token-expanded) in a DocBin; the number of spans left out."""
    from spacy.tokens import DocBin

    db = DocBin(store_user_data=False)
    dropped = 0
    for note in notes:
        doc = nlp.make_doc(note["text"])
        ents, last = [], 0
        for s in note["spans"]:
            span = doc.char_span(s["start"], s["end"], label=s["label"], alignment_mode="expand")
            if span is None or span.start < last:
                dropped += 1
                continue
            ents.append(span)
            last = span.end
        doc.ents = ents
        db.add(doc)
    return db, dropped


def write_corpus(output_dir: Path, **settings: Any) -> Dict[str, Any]:
    from ..text.tokenizer import blank_clinical

    corpus = generate(**settings)
    output_dir.mkdir(parents=True, exist_ok=True)
    nlp = blank_clinical()
    stats: Dict[str, Any] = {"seed": settings.get("seed", 0), "splits": {}}
    for part, notes in corpus.items():
        with (output_dir / f"{part}.jsonl").open("w", encoding="utf8") as fh:
            for note in notes:
                fh.write(json.dumps(note, ensure_ascii=False) + "\n")
        db, dropped = to_docbin(notes, nlp)
        db.to_disk(output_dir / f"{part}.spacy")
        labels: Dict[str, int] = {}
        for note in notes:
            for s in note["spans"]:
                labels[s["label"]] = labels.get(s["label"], 0) + 1
        stats["splits"][part] = {
            "notes": len(notes),
            "patients": len({n["patient_id"] for n in notes}),
            "phi": sum(labels.values()),
            "labels": labels,
            "spans_not_token_aligned_dropped_from_spacy": dropped,
        }
    (output_dir / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf8")
    return stats
