"""Names, places, institutions and professions found from the words around them.

A name list alone flags "Parkinson", "Foley" and "Bell" in "Parkinson's disease", "Foley
catheter" and "Bell's palsy". Here the surrounding words decide:

- a title (`Dr.`, `Mr.`, `Mrs.` ...), a post-nominal (`, MD`, `RN`), or a cue phrase (`seen by`,
  `signed by`, `referred by`, `cc:`, `Patient:`, `his wife`) makes the capitalised words next
  to it a name: DOCTOR for clinicians' cues, PATIENT for the patient's and relatives';
- without a cue, two capitalised words that faker's English name lists know as a first and a
  last name are a PATIENT name (the lists are evidence; the shape and the cue-less position
  still have to fit);
- a capitalised word followed by a medical head noun (`disease`, `syndrome`, `catheter`,
  `clamp`, `sign` ...) or listed as a medical eponym is never a name unless a title stands
  before it (`Dr. Parkinson`);
- a name found once is found again wherever it recurs in the note (`Mr. Smith ... Smith`);
- institutions end in a head word (`Hospital`, `Medical Center`, `Clinic`, `Inc`, `LLC`,
  `University` ...) with a proper name before it; streets are a number, words and a street
  type; cities and countries follow `lives in`, `from`, `moved to`, `traveled to` or stand
  before `, <state> <zip>`; professions follow `works as`, `occupation:` and the like.
"""

import functools
import re
from typing import FrozenSet, List, Optional, Tuple

from .detection import Detection
from .patterns import TERRITORIES, US_STATES

_PART = r"(?:O'[A-Z][a-z]+|Mc[A-Z][a-z]+|Mac[A-Z][a-z]+|[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?|[A-Z]\.)"
# Name words stay on one line: "Dr Harris\n\nDear Dr Tyler" is two names, not one.
_NAME = rf"{_PART}(?:[ \t]+{_PART}){{0,3}}"
_LAST_FIRST = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?,\s+[A-Z][a-z]+(?:\s+[A-Z]\.)?"
_UPPER_NAME = r"[A-Z][A-Z'-]+(?:,\s+|\s+)[A-Z][A-Z'-]+(?:\s+[A-Z]\.?)?"

# Words that start with a capital in notes but are never part of a name.
STOPWORDS: FrozenSet[str] = frozenset(
    """A An And As At Be But By For From He Her Hers Him His I If In Is It Its Me My No Nor Not
    Of On
    Or Our She So The Their Them Then There These They This Those To Was We Were What When Where
    Which While Who Will With You Your Patient Patients Pt Name Date Time Today Yesterday Tomorrow
    History Physical Exam Examination Assessment Plan Impression Diagnosis Diagnoses Procedure
    Procedures Findings Indications Indication Medications Medication Allergies Allergy Social
    Family Review Systems General Vital Signs Signs HEENT Neck Chest Lungs Heart Abdomen Extremities
    Neurologic Neurological Skin Labs Laboratory Data Discussion Recommendations Recommendation
    Disposition Condition Follow Followup Return Discharge Admission Admitted Attending Physician
    Surgeon Assistant Anesthesia Anesthesiologist Anesthetic Preoperative Postoperative Operative
    Operation Report Note Notes Summary Chief Complaint Present Illness Past Medical Surgical
    Hospital Clinic Center Medical Health Department Emergency Service Services Unit Room Floor
    Ward ICU ER OR PACU Practitioner Practitioners Doctor Dr Mr Mrs Ms Miss Mx Prof Professor Nurse
    MD DO RN NP PA Sincerely
    Thank Thanks Dear Regards Signed Electronically Dictated Transcribed Reviewed Referred Referring
    Primary Care Provider PCP CC Copy Mother Father Sister Brother Wife Husband Son Daughter
    January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Right Left Bilateral Normal Negative
    Positive Yes None Denies Status Post Mild Moderate Severe Acute Chronic Cardiology Oncology
    Radiology Pathology Neurology Urology Pediatrics Surgery Medicine Internal Orthopedics
    Also Additionally However Otherwise Please Call Contact Phone Fax Email Address Street
    City State Zip County Country Home Work Office Number Account Record Lab Laboratory""".split()
)
# Capitalised words that are medical eponyms or terms far more often than names in notes.
EPONYMS: FrozenSet[str] = frozenset(
    """Parkinson Parkinson's Foley Alzheimer Alzheimer's Crohn Crohn's Hodgkin Hodgkin's Cushing's
    Addison's Hashimoto Hashimoto's Raynaud Raynaud's Tourette Tourette's Babinski Homan Homans
    McBurney Kernig Brudzinski Apgar Glasgow Gleason Whipple Nissen Roux Swan-Ganz Hickman
    Jackson-Pratt Kussmaul Cheyne-Stokes Epley Heimlich Valsalva Trendelenburg Romberg Tinel Phalen
    Lachman McMurray Spurling Finkelstein Dupuytren Dupuytren's Ewing Kaposi Wilms Lyme Meckel
    Meckel's Marfan Meniere Meniere's Osgood-Schlatter Paget Paget's Peyronie Sjogren Sjogren's
    Stevens-Johnson Wernicke Korsakoff Guillain-Barre Hirschsprung Kawasaki Munchausen Asperger
    Asperger's Bartholin Behcet Charcot Coombs Doppler Gram Holter Mallory-Weiss Pap Schatzki
    Hartmann Pfannenstiel Kocher Mayo Metzenbaum Adson Allis Babcock Bovie Deaver Weitlaner Gelpi
    Penrose Steri-Strips Steri-Strip Vicryl Monocryl Prolene Dexon Maxon Ethibond Tegaderm Betadine
    Xeroform Kerlix Coban Jobst Bair Hugger Mayfield Ilizarov Kirschner Steinmann Bankart Lisfranc
    Chopart Achilles Scarpa Hesselbach Poupart Gerota Glisson Treitz Oddi Vater Wirsung Calot
    Morison's Langerhans Kupffer Purkinje Schwann Auerbach Meissner Brunner Peyer Virchow Trousseau
    Horner Korotkoff Duroziez Quincke Corrigan Traube Biot Medrol Motrin Tylenol Advil Coumadin
    Lasix Zofran Norco Vicodin Percocet Keflex Ancef Toradol Versed Diprivan Marcaine Xylocaine
    Ringer Ringer's Hartmann's Luer Silastic Dacron Gore-Tex Teflon Velcro Bell's""".split()
)
_MEDICAL_HEAD = (
    r"disease|syndrome|palsy|sign|signs|test|tests|catheter|tube|drain|drains|clamp|clamps|forceps|"
    r"retractor|retractors|scissors|fracture|maneuver|manoeuvre|procedure|operation|incision|"
    r"position|reflex|phenomenon|law|score|scale|classification|criteria|stage|grade|cyst|node|"
    r"nodes|ulcer|tumor|tumour|sarcoma|lymphoma|esophagus|hernia|ligament|fascia|space|triangle|"
    r"canal|duct|gland|cell|cells|body|bodies|area|line|point|needle|cautery|stain|solution|method|"
    r"technique|approach|pouch|tear|lesion|nodule|spots|stockings|hose|dressing|bandage|cannula|"
    r"tip|suction|applicator|knot|mask|wire|pin|plate|nail|screw|prosthesis|valve|shunt|filter|"
    r"port|monitor|curette|elevator|rongeur|dilator|speculum|sound|probe|splint|cast|boot|brace|"
    r"collar|frame|table|bed|chair|lift|walker|hugger|pump|bag|balloon|sheath|stent|graft|flap|"
    r"repair|closure|anastomosis|fundoplication|gastrectomy|pancreaticoduodenectomy|sutures?|"
    r"staples?|drape|electrocautery|bur|saw|drill|rasp|osteotome|awl|chisel|hook|loop|net|membrane|"
    r"murmur|rub|gallop|sounds?|respirations?|breathing|criteria|equation|formula|rule|protocol|"
    r"regimen|classification|stockinette|dressings?|wrap|tape|ointment|gauze|packing|monitoring|"
    r"esophagus|diverticulum|ring|web|plug|dementia|chorea|lymphoma|sarcoma|carcinoma|neuroma|"
    r"tumors|ileus|body|ligature|pessary|hemorrhoid|knife|blade|tenaculum|tray|sponge|loupe|holder|"
    r"positioner|support|rest|boots?|device|apparatus|system|unit|machine|lens|implant"
)
_EPONYM_AFTER = re.compile(rf"^(?:'s|’s|s')?[- ]+(?:[A-Za-z'-]+[- ]+)?(?:{_MEDICAL_HEAD})\b", re.I)

DOCTOR_TITLE = re.compile(rf"\b(?:Dr|Doctor|Prof|Professor|Drs)\.?\s+(?P<n>{_NAME})")
PATIENT_TITLE = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Master)\.?\s+(?P<n>{_NAME})")
POSTNOMINAL = re.compile(
    rf"(?P<n>{_PART}(?:[ \t]+{_PART}){{1,3}}),?\s+"
    rf"(?:M\.D\.|MD|D\.O\.|DO|R\.N\.|RN|N\.P\.|NP|PA-C|P\.A\.|PhD|Ph\.D\.|MBBS|FACS|FACP|DPM|DDS|CRNA|LPN|CNM|PharmD)\b"
)
DOCTOR_CUE = re.compile(
    rf"\b(?i:seen by|evaluated by|examined by|signed by|electronically signed by|dictated by|"
    rf"transcribed by|reviewed by|referred by|referring physician|referring doctor|attending|"
    rf"attending physician|primary care physician|primary care provider|pcp|cc|surgeon|"
    rf"assistant surgeon|assistant|anesthesiologist|anesthesia by|provider|physician|consultant|"
    rf"consulted|consultation with|covering|under the care of|care of|discussed with|"
    rf"followed by|d/w|per|resident|fellow|nurse practitioner|dictating physician)"
    rf"\s*[:,]?\s*(?:(?:Dr|Doctor)\.?\s+)?(?P<n>{_NAME})"
)
PATIENT_CUE = re.compile(
    rf"\b(?i:patient name|patient|pt\.?|name|emergency contact|next of kin|contact person|"
    rf"his wife|her husband|his husband|her wife|wife|husband|daughter|son|mother|father|sister|"
    rf"brother|spouse|partner|guardian|grandson|granddaughter|niece|nephew|caregiver|"
    rf"accompanied by|lives with|friend)"
    rf"\s*[:,]?\s*(?P<n>{_LAST_FIRST}|{_NAME})"
)
_HEADER_CUE = re.compile(
    r"(?i)(?:patient name|patient|pt\.?|name|emergency contact|next of kin)\s*:\s*$"
)
HEADER_UPPER_NAME = re.compile(
    rf"\b(?i:patient name|patient|pt\.?|name|re|emergency contact|next of kin)\s*:\s*(?P<n>{_UPPER_NAME})(?![\w])"  # noqa: E501
)

_HOSPITAL_HEADS = (
    r"Hospital|Medical Center|Medical Centre|Health Center|Health Centre|Healthcare|Health System|"
    r"Clinic|Infirmary|Hospice|Rehabilitation Center|Rehab Center|Nursing Home|Care Center|"
    r"Surgery Center|Surgical Center|Cancer Center|Heart Institute|Medical Group|Health Care|"
    r"Memorial|Sanatorium|Nursing Facility|Skilled Nursing Facility|Urgent Care|Surgical Hospital"
)
_ORG_HEADS = (
    r"Inc\.?|LLC|Ltd\.?|Corp\.?|Corporation|Company|Group|Associates|Partners|Foundation|"
    r"Industries|PLC|and Sons|Bank|University|College|School|Church|Pharmacy|Laboratories|Labs|"
    r"Systems|Solutions|Services|Enterprises|Agency|Institute"
)
_CAPWORD = r"(?:[A-Z][\w'&.-]*|St\.)"
HOSPITAL = re.compile(
    rf"(?P<n>(?:{_CAPWORD}\s+(?:(?:of|the|and|&|for)\s+)?){{1,5}}(?:{_HOSPITAL_HEADS})"
    rf"(?:\s+(?:of|at)\s+(?:the\s+)?{_CAPWORD}(?:\s+{_CAPWORD}){{0,3}})?)\b"
)
ORGANIZATION = re.compile(
    rf"(?P<n>(?:{_CAPWORD}\s+(?:(?:of|and|&)\s+)?){{1,4}}(?:{_ORG_HEADS}))(?!\w)"
)
ORG_CUE = re.compile(
    rf"\b(?i:(?:works|worked|working|employed)(?:\s+(?:full|part)[- ]time)?(?:\s+as\s+an?\s+[a-z]+(?:\s+[a-z]+)?)?"  # noqa: E501
    rf"\s+(?:at|for|by|with)|employer)\s*[:,]?\s*(?:the\s+)?"
    rf"(?P<n>{_CAPWORD}(?:(?:,\s+|\s+and\s+|\s+&\s+|\s+|-){_CAPWORD}){{0,5}})"
)
_STREET_TYPES = (
    r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|Dr\.?|Court|Ct\.?|"
    r"Way|Place|Pl\.?|Terrace|Ter\.?|Circle|Cir\.?|Parkway|Pkwy\.?|Highway|Hwy\.?|Square|Sq\.?|"
    r"Trail|Trl\.?|Row|Close|Crescent|Gardens|Grove|Hill|Park|Walk|Mews|Rise|Green|Vale|View|"
    r"Heights|Junction|Pike|Run|Loop|Alley|Plaza|Crossing|Point|Ridge|Path|Pass|Landing|Estates"
)


def _street_types() -> str:
    try:
        from faker.providers.address.en_US import Provider

        extra = [re.escape(x) for x in Provider.street_suffixes]
    except ImportError:
        extra = []
    return "|".join([_STREET_TYPES] + sorted(set(extra), key=len, reverse=True))


ADDRESS_CUE = re.compile(
    r"\b(?i:address|addr\.?|home address|lives at|living at|resides at|residing at)\s*[:,]?\s*"
    r"(?P<n>\d{1,6}[A-Za-z]?\s+[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,4}"
    r"(?:\s*,?\s*(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|#|Flat)\s*[\w-]+)?)"
)
STREET = re.compile(
    rf"(?<![\w/-])(?P<n>\d{{1,6}}[A-Z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\.?\s+){{1,3}}(?:{_street_types()})"
    rf"(?:\s*,?\s*(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|#|Flat)\s*[\w-]+)?)(?!\w)"
)
_STATES_FULL = "|".join(sorted(US_STATES.values(), key=len, reverse=True))
CITY_STATE = re.compile(
    rf"(?P<n>[A-Z][a-z]+(?:[ -][A-Z][a-z]+){{0,2}}),\s+(?:(?P<sf>{_STATES_FULL})\b|"
    rf"(?P<sa>{'|'.join(list(US_STATES) + list(TERRITORIES))})\s+\d{{5}})"
)
PLACE_CUE = re.compile(
    r"\b(?i:lives in|living in|resides in|residing in|resident of|from|moved to|moved from|"
    r"moved here from|relocated to|relocated from|born in|native of|traveled to|travelled to|"
    r"traveling to|travelling to|returned from|back from|visiting from|trip to|vacation in|"
    r"vacationing in|immigrated from|emigrated from|originally from|grew up in|raised in|"
    r"visit to|visited|hometown of|town of|city of|county|village of)"
    r"\s+(?:the\s+)?(?P<n>[A-Z][\w'&-]*(?: [A-Z][\w'&-]*){0,2})"
)
PROFESSION_CUE = re.compile(
    r"\b(?i:works as|worked as|working as|employed as|occupation|profession|job title|"
    r"works full[- ]time as|works part[- ]time as|retired|career as|trained as|by occupation)\b"
    r"\s*:?\s*(?:an?\s+|the\s+)?(?P<n>[A-Za-z][A-Za-z-]+(?:\s+[A-Za-z][A-Za-z-]+){0,3})"
)
_PROFESSION_STOP = re.compile(
    r"(?i)\s+(?:at|for|in|with|and|who|since|until|but|from|on|of|to|where|when|because|after|"
    r"before|until|is|was|has|had|he|she|they)\b.*$"
)
_NOT_PROFESSION = frozenset(
    "smoker drinker patient and now since in from for the he she at home currently last being "
    "on off early recently needed necessary required indicated appropriate well employee".split()
)


@functools.lru_cache(maxsize=1)
def name_lists() -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """(first names, last names) from faker's en_US person provider: evidence, not a verdict."""
    try:
        from faker.providers.person.en_US import Provider
    except ImportError:  # faker is in the [deid] extra; cue rules still work without it
        return frozenset(), frozenset()
    first = frozenset(Provider.first_names) - STOPWORDS - EPONYMS
    last = frozenset(Provider.last_names) - STOPWORDS - EPONYMS
    return first, last


@functools.lru_cache(maxsize=1)
def country_names() -> FrozenSet[str]:
    try:
        from faker.providers.address import Provider
    except ImportError:
        return frozenset()
    return frozenset(Provider.countries) | {
        "USA",
        "UK",
        "United States",
        "England",
        "Scotland",
        "Wales",
    }


def _trim_name(text: str, start: int, end: int) -> Optional[Tuple[int, int]]:
    """Drop leading/trailing stopwords (capitalised function words) from a name match."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    while words and text[words[-1][0] : words[-1][1]].rstrip(".,") in STOPWORDS:
        words.pop()
    while words and text[words[0][0] : words[0][1]].rstrip(".,") in STOPWORDS:
        words.pop(0)
    # stop at the first stopword inside
    for i, (s, e) in enumerate(words):
        if text[s:e].rstrip(".,") in STOPWORDS:
            words = words[:i]
            break
    if not words:
        return None
    s, e = words[0][0], words[-1][1]
    while (
        e > s
        and text[e - 1] in ",;:"
        or (
            text[e - 1 : e] == "."
            and not re.search(r"(?:\b[A-Z]|\bSt|\bJr|\bSr|\bInc|\bLtd|\bCorp)\.$", text[s:e])
        )
    ):
        e -= 1
    return s, e


def _eponym_like(text: str, start: int, end: int) -> bool:
    """A capitalised word used as a medical eponym: listed, or followed by a medical noun."""
    if _EPONYM_AFTER.match(text[end : end + 40]):
        return True
    words = text[start:end].replace("'s", "").split()
    return all(w.strip(".,") in EPONYMS for w in words)


def find_names(text: str) -> List[Detection]:
    out: List[Detection] = []
    first, last = name_lists()
    for pattern, label in ((DOCTOR_TITLE, "DOCTOR"), (PATIENT_TITLE, "PATIENT")):
        for m in pattern.finditer(text):
            span = _trim_name(text, m.start("n"), m.end("n"))
            if span:
                out.append(Detection(*span, label, "context"))
    for m in POSTNOMINAL.finditer(text):
        span = _trim_name(text, m.start("n"), m.end("n"))
        if span and not _eponym_like(text, *span):
            out.append(Detection(*span, "DOCTOR", "context"))
    for m in DOCTOR_CUE.finditer(text):
        span = _trim_name(text, m.start("n"), m.end("n"))
        if span and not _eponym_like(text, *span):
            out.append(Detection(*span, "DOCTOR", "context"))
    for m in HEADER_UPPER_NAME.finditer(text):
        out.append(Detection(m.start("n"), m.end("n"), "PATIENT", "context"))
    for m in PATIENT_CUE.finditer(text):
        span = _trim_name(text, m.start("n"), m.end("n"))
        if not span or _eponym_like(text, *span):
            continue
        words = [w.strip(".,") for w in text[span[0] : span[1]].split()]
        header = bool(_HEADER_CUE.search(text[max(0, m.start("n") - 25) : m.start("n")]))
        if header or any(w in first or w in last for w in words):
            out.append(Detection(*span, "PATIENT", "context"))
    # first + last name from the lists, no cue
    for m in re.finditer(
        rf"(?<![\w.])(?P<f>{_PART})[ \t]+(?:[A-Z]\.[ \t]+)?(?P<l>{_PART})(?![\w])", text
    ):
        if (
            m.group("f") in first
            and m.group("l") in last
            and not _eponym_like(text, m.start(), m.end())
        ):
            out.append(Detection(m.start(), m.end(), "PATIENT", "context", 0.6))
    return out


def find_places(text: str) -> List[Detection]:
    out: List[Detection] = []
    countries = country_names()
    states = set(US_STATES.values())
    generic = {
        "Pain",
        "Wound",
        "Cardiology",
        "Oncology",
        "Surgery",
        "Surgical",
        "Eye",
        "Dental",
        "Family",
        "Medical",
        "General",
        "Internal",
        "Outpatient",
        "Inpatient",
        "Emergency",
        "Walk-in",
        "Urgent",
        "Care",
        "Health",
        "Mental",
        "Community",
        "Primary",
        "Sleep",
        "Breast",
        "Heart",
        "Cancer",
        "Orthopedic",
        "Pediatric",
        "Women's",
        "Children's",
        "Rehab",
        "Memorial",
        "Regional",
        "County",
        "City",
        "State",
        "The",
        "Our",
        "This",
        "Your",
        "His",
        "Her",
        "Day",
        "Vein",
        "Allergy",
        "Diabetes",
        "Dialysis",
        "Endoscopy",
        "GI",
        "ENT",
        "Urology",
        "Neurology",
        "Dermatology",
        "Podiatry",
        "Infusion",
        "Lab",
        "Laboratory",
        "Radiology",
        "Imaging",
        "Physical",
        "Therapy",
        "Occupational",
        "Speech",
        "Hospital",
        "Clinic",
        "At",
        "In",
        "To",
        "From",
        "Went",
        "Seen",
        "Admitted",
        "Transferred",
        "Discharged",
        "Patient",
        "Mayo",
        "Renal",
        "Infectious",
        "Disease",
        "VA",
        "Veterans",
        "Neurosurgery",
        "Neurosurgical",
        "Cardiac",
        "Cardiovascular",
        "Vascular",
        "Spine",
        "Sports",
        "Hand",
        "Foot",
        "Ankle",
        "Kidney",
        "Liver",
        "Lung",
        "Pulmonary",
        "Gastroenterology",
        "Hematology",
        "Rheumatology",
        "Psychiatry",
        "Psychiatric",
        "Behavioral",
        "Wellness",
        "Weight",
        "Bariatric",
        "Fertility",
        "Obstetrics",
        "Gynecology",
        "OB",
        "GYN",
        "Plastic",
        "Cosmetic",
        "Hearing",
        "Audiology",
        "Voice",
        "Customer",
        "Service",
        "Services",
        "Student",
        "Employee",
        "Travel",
        "Anticoagulation",
        "Coumadin",
        "Diabetic",
        "Endocrinology",
        "Nephrology",
        "Transplant",
        "Trauma",
        "Burn",
        "Stroke",
        "Memory",
        "Headache",
        "Epilepsy",
        "Movement",
        "Disorders",
        "Operative",
        "Suite",
        "Nurse",
        "Nursing",
        "Private",
        "Group",
        "Multispecialty",
        "Ambulatory",
        "Same",
        "Surgicenter",
        "High",
        "Middle",
        "Elementary",
        "Graduate",
        "Maintenance",
        "Methadone",
        "Lymphedema",
        "Management",
        "Veteran's",
        "Veterans'",
        "Home",
    }
    for pattern, label in ((HOSPITAL, "HOSPITAL"), (ORGANIZATION, "ORGANIZATION")):
        for m in pattern.finditer(text):
            start, end = m.span("n")
            words = text[start:end].split()
            while words and (
                words[0] in generic - {"Memorial", "Regional", "County", "Mayo"}
                or words[0] in STOPWORDS - {"Hospital", "Clinic"}
            ):
                start = text.index(words[0], start) + len(words[0])
                while start < end and text[start].isspace():
                    start += 1
                words.pop(0)
            heads = re.findall(
                _HOSPITAL_HEADS if label == "HOSPITAL" else _ORG_HEADS, text[start:end]
            )
            proper = [
                w
                for w in text[start:end].split()
                if w not in generic
                and w not in STOPWORDS
                and not re.fullmatch(_HOSPITAL_HEADS + "|" + _ORG_HEADS + "|of|the|and|&|for|at", w)
            ]
            if heads and proper:
                out.append(Detection(start, end, label, "context"))
    for m in ORG_CUE.finditer(text):
        span = _trim_name(text, m.start("n"), m.end("n"))
        if span and not all(
            w.strip(",.") in generic or w.strip(",.") in STOPWORDS
            for w in text[span[0] : span[1]].split()
        ):
            out.append(Detection(*span, "ORGANIZATION", "context"))
    for m in ADDRESS_CUE.finditer(text):
        out.append(Detection(m.start("n"), m.end("n"), "STREET", "context"))
    for m in STREET.finditer(text):
        out.append(Detection(m.start("n"), m.end("n"), "STREET", "context"))
    for m in CITY_STATE.finditer(text):
        span = _trim_name(text, m.start("n"), m.end("n"))
        if span:
            out.append(Detection(*span, "CITY", "context"))
        if m.group("sf"):
            out.append(Detection(m.start("sf"), m.end("sf"), "STATE", "context"))
    for m in PLACE_CUE.finditer(text):
        span = _trim_name(text, m.start("n"), m.end("n"))
        if not span:
            continue
        value = text[span[0] : span[1]]
        if (
            any(ch.isdigit() for ch in value)
            or (value.isupper() and len(value) > 3)
            or re.search(r"-[A-Z]-", value)
        ):
            continue  # "from V4", "from HEROIN", "from the Port-A-Cath"
        if value.split()[0] in generic or (value.isupper() and value not in countries):
            continue  # "from Plastic Surgery", "from the LAO projection"
        if value in countries:
            label = "COUNTRY"
        elif value in states:
            label = "STATE"
        elif _eponym_like(text, *span) or re.match(r"(?:Dr|Mr|Mrs|Ms)\b", value):
            continue
        else:
            label = "CITY"
        out.append(Detection(span[0], span[1], label, "context"))
        # ", Country" or ", State" right after a city
        tail = re.match(
            r",\s+(?P<c>[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})", text[span[1] : span[1] + 40]
        )
        if tail and label == "CITY":
            place = tail.group("c")
            s = span[1] + tail.start("c")
            if place in countries:
                out.append(Detection(s, s + len(place), "COUNTRY", "context"))
            elif place in states:
                out.append(Detection(s, s + len(place), "STATE", "context"))
    for m in PROFESSION_CUE.finditer(text):
        start, end = m.span("n")
        value = _PROFESSION_STOP.sub("", text[start:end])
        value = value.rstrip(".,;:")
        if not value or value.split()[0].lower() in _NOT_PROFESSION:
            continue
        out.append(Detection(start, start + len(value), "PROFESSION", "context"))
    return out


def propagate(text: str, found: List[Detection]) -> List[Detection]:
    """Every other occurrence in the note of a name already found (whole words, same case)."""
    out: List[Detection] = []
    seen = set()
    for det in found:
        if det.label not in ("PATIENT", "DOCTOR"):
            continue
        value = text[det.start : det.end]
        parts = {value} | {w.strip(".,") for w in value.replace(",", " ").split()}
        for part in parts:
            if len(part) < 3 or part in STOPWORDS or part in EPONYMS or (part, det.label) in seen:
                continue
            seen.add((part, det.label))
            for m in re.finditer(rf"(?<![\w]){re.escape(part)}(?![\w])", text):
                if not _EPONYM_AFTER.match(text[m.end() : m.end() + 40]):
                    out.append(Detection(m.start(), m.end(), det.label, "context", 0.9 * det.score))
    return out


def find_context(text: str) -> List[Detection]:
    """Names (with recurrences), places, institutions and professions."""
    names = find_names(text)
    return names + propagate(text, names) + find_places(text)
