"""The merge policy's support for model spans: a span that runs on keeps only its PHI words,
a clean model-only span is kept, and a rule's extent is widened only by agreeing words."""
from spacy_clinicalbert.deid.detection import Detection
from spacy_clinicalbert.deid.merge import merge_detections
from spacy_clinicalbert.deid.support import agrees, supported


def _text(text, dets):
    return [(text[d.start:d.end], d.label) for d in dets]


def test_shapes():
    assert agrees("DATE", "12/92") and agrees("DATE", "March") and not agrees("DATE", "09:35")
    assert not agrees("DATE", "she") and agrees("PHONE", "(617)") and not agrees("PHONE", "with")
    assert agrees("DOCTOR", "Smith") and not agrees("DOCTOR", "She") and not agrees("DOCTOR", "Dr")
    assert agrees("HOSPITAL", "Hospital") and not agrees("HOSPITAL", "The")
    assert agrees("STREET", "12") and agrees("EMAIL", "a.b@c.org")


def test_runaway_model_span_keeps_its_phi():
    text = "Call (617) 555-0100 with questions or fax records to (617) 555-0199 today."
    model = Detection(5, text.index(" today"), "PHONE", "model", 0.95)
    fax = Detection(text.index("(617) 555-0199"), text.index(" today"), "FAX", "pattern")
    # no rule found the first number: the model's first run is kept, the bridge is not
    assert _text(text, supported(text, model, [fax])) == [
        ("(617) 555-0100", "PHONE"), ("(617) 555-0199", "PHONE")]
    merged = merge_detections([model, fax], text)
    assert _text(text, merged) == [("(617) 555-0100", "PHONE"), ("(617) 555-0199", "FAX")]
    # without the text (peers' detections) the policy is the old one: the union
    old = merge_detections([model, fax])
    assert "with questions" in text[old[0].start:old[0].end]


def test_model_date_loses_time_and_words():
    text = "In 12/92 she presented at 09:35 with weakness."
    model = Detection(3, text.index(" with"), "DATE", "model", 0.95)
    assert _text(text, merge_detections([model], text)) == [("12/92", "DATE")]


def test_model_name_widens_a_rule_name_only_by_name_words():
    text = "Seen by Dr. John Smith The next day."
    rule = Detection(text.index("Smith"), text.index("Smith") + 5, "DOCTOR", "context")
    model = Detection(text.index("John"), text.index(" next"), "DOCTOR", "model", 0.95)
    assert _text(text, merge_detections([rule, model], text)) == [("John Smith", "DOCTOR")]


def test_leftover_stretches_on_both_sides_of_another_group():
    text = "NHS 943 476 5919 ref 2024 ok"
    idnum = Detection(4, 16, "IDNUM", "pattern")
    date = Detection(8, 11, "DATE", "pattern", 1.0)
    merged = merge_detections([date, idnum._replace(score=0.5)], text)
    # the ID's characters on both sides of the date stay covered
    assert _text(text, merged) == [("943", "IDNUM"), ("476", "DATE"), ("5919", "IDNUM")]
