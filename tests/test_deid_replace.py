"""Replacement: strategies, keyed consistent surrogates, the key never written, the offset
map round trip, the CLI on txt/JSONL/CSV, and the component's save/load."""
import datetime as dt
import json
import pytest
import spacy

from spacy_clinicalbert.deid.component import phi_detections
from spacy_clinicalbert.deid.dates import date_value
from spacy_clinicalbert.deid.replace import (
    Deidentifier, apply_replacements, deidentify_text, offset_map_from_record,
)
from spacy_clinicalbert.deid.surrogates import KEY_ENV, KeyError_, SurrogateMaker

KEY = "test-key-0123456789abcdef-not-a-real-secret"
NOTE_1 = ("Patient: John Smith  MRN: 00123456\nSeen by Dr. Alan Parkinson on 03/05/2019 for "
          "Parkinson's disease. A Foley catheter was placed. Follow-up on May 20, 2019. "
          "Call (617) 555-0100. Mr. Smith is a 92-year-old man.")
NOTE_2 = "Mr. Smith returned on 04/02/2019 with Dr. Alan Parkinson. Phone (617) 555-0100."


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    return KEY


def test_placeholder_mask_redact():
    text = "Seen by Dr. Smith on 5/12/2019."
    assert deidentify_text(text).text == "Seen by Dr. [NAME] on [DATE]."
    assert deidentify_text(text, "mask").text == "Seen by Dr. ***** on *********."
    assert deidentify_text(text, "redact").text == "Seen by Dr.  on ."


def test_placeholders_tokenize_as_one_token():
    from spacy_clinicalbert.text.tokenizer import blank_clinical

    out = deidentify_text(NOTE_1).text
    tokens = [t.text for t in blank_clinical()(out)]
    assert "[NAME]" in tokens and "[DATE]" in tokens and "[PHONE]" in tokens


def test_surrogates_consistent_per_patient_and_key(key):
    deid = Deidentifier(strategy="surrogate")
    a1, a2 = deid(NOTE_1, "p1"), deid(NOTE_2, "p1")
    b2 = deid(NOTE_2, "p2")
    surname_1 = a1.text.split("Mr. ")[1].split()[0]
    surname_2 = a2.text.split("Mr. ")[1].split()[0]
    assert surname_1 == surname_2 != "Smith"
    doctor_1 = a1.text.split("Dr. ")[1].split(" on ")[0]
    assert doctor_1 == a2.text.split("Dr. ")[1].split(".")[0]
    assert b2.text != a2.text  # another patient, other surrogates
    again = Deidentifier(strategy="surrogate")(NOTE_1, "p1")
    assert again.text == a1.text  # reproducible under the same key
    other_key = SurrogateMaker(b"another-key-0123456789abcdef")
    assert other_key.surrogate("PATIENT", "John Smith", "p1") != deid.surrogates.surrogate(
        "PATIENT", "John Smith", "p1")
    for original in ("John Smith", "00123456", "(617) 555-0100", "Alan Parkinson", "03/05/2019"):
        assert original not in a1.text
    assert "Parkinson's disease" in a1.text and "Foley catheter" in a1.text
    assert "90+" in a1.text


def test_date_intervals_kept_within_patient(key):
    deid = Deidentifier(strategy="surrogate")
    text = "Admitted 03/05/2019, discharged March 9, 2019, seen again on 2019-04-01."
    result = deid(text, "p9")
    originals = [dt.date(2019, 3, 5), dt.date(2019, 3, 9), dt.date(2019, 4, 1)]
    dates = [r for r in result.replacements if r.label == "DATE"]
    shifted = [date_value(result.text[r.output_start:r.output_end]) for r in dates]
    assert len(shifted) == 3
    deltas = {(s - o).days for s, o in zip(shifted, originals)}
    assert len(deltas) == 1 and abs(deltas.pop()) >= 30
    assert result.text[dates[0].output_start:dates[0].output_end].count("/") == 2
    assert "-" in result.text[dates[2].output_start:dates[2].output_end]


def test_missing_or_short_key_is_an_error(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(KeyError_, match=KEY_ENV):
        Deidentifier(strategy="surrogate")
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(KeyError_) as err:
        Deidentifier(strategy="surrogate")
    assert "short" not in str(err.value).replace("too short", "")
    assert "hidden" in repr(SurrogateMaker(b"k" * 20))


@pytest.mark.parametrize("strategy", ["placeholder", "mask", "redact", "surrogate"])
def test_offset_map_round_trip(key, strategy):
    result = Deidentifier(strategy=strategy)(NOTE_1, "p1")
    offsets = result.offsets
    # untouched text maps both ways onto the same characters
    for word in ("Seen by", "for Parkinson's disease", "Foley catheter", "-year-old man."):
        start = NOTE_1.index(word)
        out_start, out_end = offsets.span_to_prepared(start, start + len(word))
        assert result.text[out_start:out_end] == word
        assert offsets.span_to_original(out_start, out_end) == (start, start + len(word))
    # each replacement maps onto its PHI and back
    for r in result.replacements:
        if r.output_end > r.output_start:  # a redacted stretch is an empty point in the output
            assert offsets.span_to_original(r.output_start, r.output_end) == (r.input_start, r.input_end)
        assert offsets.span_to_prepared(r.input_start, r.input_end) == (r.output_start, r.output_end)
    rebuilt = offset_map_from_record(json.loads(json.dumps(result.offsets_record())))
    assert all(rebuilt.to_original(i) == offsets.to_original(i) for i in range(len(result.text) + 1))


def test_overlapping_detections_rejected():
    from spacy_clinicalbert.deid.detection import Detection

    with pytest.raises(ValueError, match="Overlapping"):
        apply_replacements("abcdef", [Detection(0, 3, "DATE", "pattern"), Detection(2, 4, "DATE", "pattern")])


def test_component_on_blank_pipeline_saves_and_loads(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_deid", config={"context": False})
    doc = nlp(NOTE_1)
    labels = {s.label_ for s in doc.spans["phi"]}
    assert {"DATE", "PHONE", "MEDICALRECORD", "AGE"} <= labels and "PATIENT" not in labels
    assert all(s._.phi_group in ("DATE", "CONTACT", "ID", "AGE") for s in doc.spans["phi"])
    assert {s.label_: s._.phi_hipaa for s in doc.spans["phi"]}["DATE"] is True
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.get_pipe("clinical_deid").context is False
    doc2 = loaded(NOTE_1)
    assert [(s.start_char, s.label_) for s in doc2.spans["phi"]] == [
        (s.start_char, s.label_) for s in doc.spans["phi"]]
    # the exact characters survive the doc's own serialization
    from spacy.tokens import Doc

    restored = Doc(loaded.vocab).from_bytes(doc2.to_bytes())
    assert phi_detections(restored) == phi_detections(doc2)


def test_model_part_joins_from_a_ner(tmp_path):
    """A ner with PHI labels earlier in the pipeline is read ("auto") and merged."""
    from spacy.tokens import Span

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in ("PATIENT", "DATE"):
        ner.add_label(label)
    nlp.initialize()
    deid = nlp.add_pipe("clinical_deid", config={"patterns": False, "context": False})
    assert deid.model_pipe() == "ner"
    doc = nlp.make_doc("Zorblat came in today.")
    doc.ents = [Span(doc, 0, 1, "PATIENT")]
    doc = deid(doc)
    assert [(s.text, s.label_) for s in doc.spans["phi"]] == [("Zorblat", "PATIENT")]
    assert doc.spans["phi"].attrs["sources"] == ["model"]
    with pytest.raises(ValueError, match="not before"):
        nlp.add_pipe("clinical_deid", name="deid2", first=True, config={"model": "ner"}).model_pipe()


def test_cli_run_key_never_written(tmp_path, monkeypatch, capsys):
    import csv

    from typer.testing import CliRunner

    from spacy_clinicalbert.cli import app

    rows = [{"patient_id": "P1", "text": NOTE_1}, {"patient_id": "P1", "text": NOTE_2},
            {"patient_id": "P2", "text": NOTE_2}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
    with (tmp_path / "in.csv").open("w", newline="", encoding="utf8") as fh:
        writer = csv.DictWriter(fh, ["patient_id", "text"])
        writer.writeheader()
        writer.writerows(rows)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "p7.txt").write_text(NOTE_1, encoding="utf8")
    monkeypatch.setenv(KEY_ENV, KEY)
    runner = CliRunner(mix_stderr=False)
    logs = []
    for source, target in (("in.jsonl", "out.jsonl"), ("in.csv", "out.csv"), ("notes", "out_notes")):
        result = runner.invoke(app, [
            "deid", "run", str(tmp_path / source), str(tmp_path / target), "--strategy", "surrogate",
            "--offsets", str(tmp_path / f"{target}.offsets.jsonl")])
        assert result.exit_code == 0, result.output
        logs.append(result.stdout + result.stderr)
    captured = capsys.readouterr()
    logs.append(captured.out + captured.err)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(out) == 3
    assert out[0]["patient_pseudonym"] == out[1]["patient_pseudonym"] != out[2]["patient_pseudonym"]
    assert "P1" not in json.dumps(out)
    assert (tmp_path / "out_notes" / "p7.txt").exists()
    written = "\n".join(p.read_text(encoding="utf8") for p in tmp_path.rglob("*") if p.is_file()
                        and ("out" in p.name or p.parent.name == "out_notes"))
    assert "John Smith" not in written and "(617) 555-0100" not in written
    assert "Parkinson's disease" in written
    for blob in logs + [written]:
        assert KEY not in blob and KEY[:12] not in blob
    # without the key the surrogate strategy stops with a clear message
    monkeypatch.delenv(KEY_ENV)
    result = runner.invoke(app, ["deid", "run", str(tmp_path / "in.jsonl"), str(tmp_path / "x.jsonl"),
                                 "-s", "surrogate"])
    assert result.exit_code == 1 and KEY_ENV in result.stdout + result.stderr
