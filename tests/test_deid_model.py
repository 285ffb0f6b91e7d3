"""configs/deid_ner.cfg builds, trains a few steps on a tiny BERT, and clinical_deid reads its
ner as the model part, also after save and load."""
from pathlib import Path

import spacy
from spacy.training import Example

ROOT = Path(__file__).resolve().parents[1]
NOTES = [
    ("Patient: John Smith seen on 03/05/2019 by Dr. Jones.", [(9, 19, "PATIENT"), (28, 38, "DATE"), (46, 51, "DOCTOR")]),
    ("Call 617-555-0100 after 5/12/2019.", [(5, 17, "PHONE"), (24, 33, "DATE")]),
    ("Mr. Brown was discharged.", [(4, 9, "PATIENT")]),
]


def test_deid_ner_config_trains_and_joins(tiny_bert, tmp_path):
    config = spacy.util.load_config(ROOT / "configs" / "deid_ner.cfg",
                                    overrides={"paths.base_model": str(tiny_bert)}, interpolate=True)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == ["clinicalbert", "ner"]
    examples = []
    for text, spans in NOTES:
        doc = nlp.make_doc(text)
        ref = nlp.make_doc(text)
        ref.ents = [ref.char_span(s, e, label=lab) for s, e, lab in spans]
        examples.append(Example(doc, ref))
    optimizer = nlp.initialize(lambda: examples)
    assert set(nlp.get_pipe("ner").labels) == {"PATIENT", "DATE", "DOCTOR", "PHONE"}
    for _ in range(2):
        losses = nlp.update(examples, sgd=optimizer)
    assert losses["ner"] > 0
    deid = nlp.add_pipe("clinical_deid")
    assert deid.model_pipe() == "ner"
    doc = nlp(NOTES[0][0])
    assert {"PATIENT", "DATE", "DOCTOR"} <= {s.label_ for s in doc.spans["phi"]}
    nlp.to_disk(tmp_path / "deid_model")
    loaded = spacy.load(tmp_path / "deid_model")
    assert loaded.get_pipe("clinical_deid").model_pipe() == "ner"
    again = loaded(NOTES[0][0])
    assert [(s.start_char, s.end_char, s.label_) for s in again.spans["phi"]] == [
        (s.start_char, s.end_char, s.label_) for s in doc.spans["phi"]]
