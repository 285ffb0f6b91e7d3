"""Each PHI kind the patterns and context rules find, with cases they must not flag."""
import pytest

from spacy_clinicalbert.deid.component import ClinicalDeid
from spacy_clinicalbert.deid.context import find_context
from spacy_clinicalbert.deid.dates import find_dates, shift_date
from spacy_clinicalbert.deid.merge import merge_detections
from spacy_clinicalbert.deid.patterns import find_structured


def found(text):
    """(label, text) of the merged rule detections."""
    dets = merge_detections(find_structured(text) + find_context(text))
    return {(d.label, text[d.start:d.end]) for d in dets}


@pytest.mark.parametrize("text,value", [
    ("Admitted on May 3, 2019 for pain.", "May 3, 2019"),
    ("She was seen on the 3rd of May.", "3rd of May"),
    ("Surgery 03/05/2019.", "03/05/2019"),
    ("Labs drawn 2019-05-03 at noon.", "2019-05-03"),
    ("Follow-up on 5/12 in clinic.", "5/12"),
    ("Dated 05-MAY-19.", "05-MAY-19"),
    ("Seen Monday, May 3rd.", "Monday, May 3rd"),
    ("Diagnosed in 2015 with diabetes.", "2015"),
    ("Last colonoscopy March 2012.", "March 2012"),
    ("Return 3 December 2020.", "3 December 2020"),
    ("Mammogram 11/2019.", "11/2019"),
])
def test_dates_found(text, value):
    assert ("DATE", value) in found(text)


@pytest.mark.parametrize("text", [
    "Take 5/12 tablet twice daily.",
    "Strength is 5/5 in all extremities.",
    "Vision 20/20 bilaterally.",
    "Blood pressure 120/80.",
    "She took 2000 mg of acetaminophen.",
    "He may 3 times a day take it.",
])
def test_non_dates_not_flagged(text):
    assert not [v for label, v in found(text) if label == "DATE"], found(text)


def test_date_shift_keeps_format_and_interval():
    assert shift_date("May 3, 2019", 31) == "June 3, 2019"
    assert shift_date("03/05/2019", 1) == "03/06/2019"
    assert shift_date("2019-05-03", -3) == "2019-04-30"
    assert shift_date("the 3rd of May".replace("the ", ""), 20) == "23rd of May"
    assert shift_date("05-MAY-19", 30) == "04-JUN-19"
    assert shift_date("Dec. 31, 1999", 1) == "Jan. 1, 2000"
    assert shift_date("Monday", 2) == "Wednesday"
    assert shift_date("1/1/19", 366) == "1/2/20"


@pytest.mark.parametrize("text,label,value", [
    ("Call (617) 555-0100 with questions.", "PHONE", "(617) 555-0100"),
    ("Phone: 617.555.0100", "PHONE", "617.555.0100"),
    ("Fax 617-555-0199.", "FAX", "617-555-0199"),
    ("Tel: +44 20 7946 0958", "PHONE", "+44 20 7946 0958"),
    ("Email jdoe77@example.com today.", "EMAIL", "jdoe77@example.com"),
    ("See https://portal.example.org/x?id=3.", "URL", "https://portal.example.org/x?id=3"),
    ("Logged from 192.168.10.4 yesterday.", "IPADDR", "192.168.10.4"),
    ("SSN 123-45-6789.", "SSN", "123-45-6789"),
    ("MRN: 00123456.", "MEDICALRECORD", "00123456"),
    ("Account #: AC-99812", "ACCOUNT", "AC-99812"),
    ("Insurance ID XJH448812", "HEALTHPLAN", "XJH448812"),
    ("DEA number BX1234563", "LICENSE", "BX1234563"),
    ("Pacemaker serial number PM-77812-A", "DEVICE", "PM-77812-A"),
    ("Accession number 2019-55123", "IDNUM", "2019-55123"),
    ("Boston, MA 02115", "ZIP", "02115"),
    ("A 92-year-old woman.", "AGE", "92"),
    ("Patient is 101 yo.", "AGE", "101"),
])
def test_structured_found(text, label, value):
    assert (label, value) in found(text), found(text)


@pytest.mark.parametrize("text", [
    "Heart rate 95, temperature 98.6.",
    "A 45-year-old man.",
    "Sodium 140, potassium 4.1, glucose 112.",
    "Gave 650 mg every 6 hours.",
    "No MRN available.",
    "Record number of visits this year.",
    "He is 5 feet 10 inches.",
])
def test_numbers_without_cue_not_flagged(text):
    assert not found(text), found(text)


@pytest.mark.parametrize("text,label,value", [
    ("Seen by Dr. Parkinson today.", "DOCTOR", "Parkinson"),
    ("Mr. Robert Jones was admitted.", "PATIENT", "Robert Jones"),
    ("Electronically signed by Emily Carter, MD.", "DOCTOR", "Emily Carter"),
    ("Patient: Smith, John", "PATIENT", "Smith, John"),
    ("His wife Mary came along.", "PATIENT", "Mary"),
    ("Transferred to St. Mary's Hospital.", "HOSPITAL", "St. Mary's Hospital"),
    ("He works at Acme Tools Inc.", "ORGANIZATION", "Acme Tools Inc."),
    ("Lives at 123 Oak Street with his wife.", "STREET", "123 Oak Street"),
    ("He lives in Springfield.", "CITY", "Springfield"),
    ("She recently traveled to Mexico.", "COUNTRY", "Mexico"),
    ("He works as a carpenter.", "PROFESSION", "carpenter"),
])
def test_context_found(text, label, value):
    assert (label, value) in found(text), found(text)


@pytest.mark.parametrize("text", [
    "History of Parkinson's disease.",
    "A Foley catheter was placed.",
    "Left Bell's palsy.",
    "A Kelly clamp was used and the Metzenbaum scissors.",
    "Positive Murphy's sign.",
    "Follow up in the Pain Clinic.",
    "Crohn disease flare.",
])
def test_eponyms_not_names(text):
    assert not found(text), found(text)


def test_name_recurs_in_note():
    text = "Mr. Albert Dawson presents. Dawson denies pain."
    assert ("PATIENT", "Dawson") in found(text)


def test_dictionary_needs_two_name_words():
    assert ("PATIENT", "Linda Morrison") in found("Linda Morrison presents with pain.")
    assert not found("Morrison presents with pain.")


def test_find_dates_returns_sorted_non_overlapping():
    spans = find_dates("On May 3, 2019 and 5/12/2019 and 2019-05-03.")
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_model_name_over_eponym_is_dropped():
    import spacy

    nlp = spacy.blank("en")
    deid = ClinicalDeid(nlp, patterns=False, context=False, model="")
    doc = nlp("History of Parkinson's disease, seen by Dr. Smith.")
    assert deid.model_detections(doc) == []


def test_names_do_not_cross_lines():
    text = "Consultant: Dr Harris\n\nDear Dr Tyler,\n\nThank you."
    assert {("DOCTOR", "Harris"), ("DOCTOR", "Tyler")} <= found(text), found(text)
