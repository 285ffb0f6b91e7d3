"""CoNLL, JSONL (Prodigy), CSV notes and i2b2 readers, each on small files written here."""
import json
from pathlib import Path

import pytest

from spacy_clinicalbert.corpus import CorpusError, convert
from spacy_clinicalbert.relations import get_relations
from spacy_clinicalbert.text import blank_clinical


@pytest.fixture(scope="module")
def nlp():
    return blank_clinical()


def docs_of(result):
    return [d for split in ("train", "dev", "test") for d in result.docs[split]]


# ---------------------------------------------------------------- CoNLL
CONLL_IOB2 = """-DOCSTART- -X- O O

Patient NN O
took VB O
aspirin NN B-DRUG
81 CD B-DOSE
mg NN I-DOSE
. . O

Rash NN B-AE
developed VB O
. . O

-DOCSTART- -X- O O

No DT O
chest NN B-PROBLEM
pain NN I-PROBLEM
"""


def test_conll_iob2_docs_and_sentences(tmp_path, nlp):
    path = tmp_path / "train.conll"
    path.write_text(CONLL_IOB2, encoding="utf8")
    result = convert("conll", path, nlp=nlp, ratios=(1, 0, 0))
    docs = docs_of(result)
    assert len(docs) == 2
    first = next(d for d in docs if d[0].text == "Patient")
    assert [(e.text, e.label_) for e in first.ents] == [("aspirin", "DRUG"), ("81 mg", "DOSE"), ("Rash", "AE")]
    assert [s.text for s in first.sents] == ["Patient took aspirin 81 mg .", "Rash developed ."]
    # The given tokens are kept, even where the clinical tokenizer would split ("81mg").
    assert len(first) == 9


def test_conll_iob1_biluo_and_columns(tmp_path, nlp):
    iob1 = tmp_path / "a.iob"
    iob1.write_text("aspirin I-DRUG\nwarfarin I-DRUG\nheparin B-DRUG\nok O\n", encoding="utf8")
    doc = docs_of(convert("conll", iob1, nlp=nlp, ratios=(1, 0, 0)))[0]
    assert [e.text for e in doc.ents] == ["aspirin warfarin", "heparin"]
    biluo = tmp_path / "b.txt"
    biluo.write_text("U-DRUG aspirin\nB-AE chest x\nL-AE pain y\n", encoding="utf8")
    doc = docs_of(convert("conll", biluo, nlp=nlp, ratios=(1, 0, 0), token_column=1, tag_column=0))[0]
    assert [(e.text, e.label_) for e in doc.ents] == [("aspirin", "DRUG"), ("chest pain", "AE")]


@pytest.mark.parametrize(
    "content,scheme,message",
    [
        ("aspirin X-DRUG\n", "auto", r"c\.conll:1: unknown tag 'X-DRUG'"),
        ("aspirin B-DRUG\nx O\ny I-AE\nz L-AE\n", "biluo", r"c\.conll:2: 'O' inside the DRUG entity opened at .*c\.conll:1"),
        ("a U-DRUG\nb L-AE\n", "auto", r"c\.conll:2: 'L-AE' does not continue"),
        ("onlyonecolumn\n", "auto", r"c\.conll:1: line has 1 columns"),
    ],
)
def test_conll_errors(tmp_path, nlp, content, scheme, message):
    path = tmp_path / "c.conll"
    path.write_text(content, encoding="utf8")
    with pytest.raises(CorpusError, match=message):
        convert("conll", path, nlp=nlp, scheme=scheme, token_column=0, tag_column=1)


def test_conll_iob2_repair_counted(tmp_path, nlp):
    path = tmp_path / "r.conll"
    path.write_text("aspirin B-DRUG\nrash O\nhives I-AE\n", encoding="utf8")
    result = convert("conll", path, nlp=nlp, ratios=(1, 0, 0))
    assert [e.text for e in docs_of(result)[0].ents] == ["aspirin", "hives"]
    assert result.stats.repairs["conll_iob2_I_starts_entity"] == 1


# ---------------------------------------------------------------- JSONL
def write_jsonl(path: Path, tasks) -> Path:
    path.write_text("\n".join(t if isinstance(t, str) else json.dumps(t) for t in tasks) + "\n", encoding="utf8")
    return path


def test_jsonl_prodigy_tasks(tmp_path, nlp):
    text = "Started lisinopril 10mg, developed cough."
    tasks = [
        {
            "text": text,
            "spans": [
                {"start": 8, "end": 18, "label": "DRUG"},
                {"start": 19, "end": 23, "label": "DOSE"},
                {"start": 35, "end": 40, "label": "AE"},
            ],
            "relations": [
                {"head": 0, "child": 2, "head_span": {"start": 8, "end": 18, "label": "DRUG"},
                 "child_span": {"start": 35, "end": 40, "label": "AE"}, "label": "ADE"},
                {"head_span": {"start": 8, "end": 18}, "child_span": {"start": 19, "end": 23}, "label": "DOSAGE"},
            ],
            "cats": {"ADE": 1.0, "NO_ADE": 0.0},
            "meta": {"group": "note-1"},
        },
        {"text": "Patient stable.", "label": "ADE", "answer": "reject", "meta": {"group": "note-2"}},
        {"text": "Ignored.", "label": "ADE", "answer": "ignore"},
        {"text": "Rejected spans.", "spans": [], "answer": "reject"},
    ]
    result = convert("jsonl", write_jsonl(tmp_path / "a.jsonl", tasks), nlp=nlp, ratios=(1, 0, 0))
    docs = docs_of(result)
    assert len(docs) == 2
    doc = next(d for d in docs if d.text == text)
    assert [(e.text, e.label_) for e in doc.ents] == [("lisinopril", "DRUG"), ("10mg", "DOSE"), ("cough", "AE")]
    assert {(r.head.text, r.tail.text, r.label) for r in get_relations(doc)} == {
        ("lisinopril", "cough", "ADE"), ("lisinopril", "10mg", "DOSAGE")
    }
    assert doc.cats == {"ADE": 1.0, "NO_ADE": 0.0}
    assert next(d for d in docs if d.text == "Patient stable.").cats == {"ADE": 0.0}
    assert result.stats.omissions["jsonl_ignored"] == 1 and result.stats.omissions["jsonl_rejected"] == 1
    assert not result.stats.repairs  # "10mg" is two tokens, 10 | mg: the span covers both


@pytest.mark.parametrize(
    "line,message",
    [
        ("{not json", r"a\.jsonl:2: invalid JSON"),
        (json.dumps({"spans": []}), r"a\.jsonl:2: no 'text' string"),
        (json.dumps({"text": "abc", "spans": [{"start": 0, "end": "2", "label": "X"}]}), r"a\.jsonl:2: span 0 needs integer"),
        (json.dumps({"text": "abc", "spans": [{"start": 0, "end": 9, "label": "X"}]}), r"a\.jsonl:2: entity .* fall outside the text"),
    ],
)
def test_jsonl_errors(tmp_path, nlp, line, message):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "fine", "cats": {"A": 1.0}}, line])
    with pytest.raises(CorpusError, match=message):
        convert("jsonl", path, nlp=nlp)
    skipped = convert("jsonl", path, nlp=nlp, on_invalid="skip") if "outside" not in message else None
    if skipped is not None:
        assert skipped.stats.omissions["jsonl_invalid_record"] == 1


# ---------------------------------------------------------------- CSV notes
CSV = (
    "note_id,transcription,medical_specialty,extra\n"
    '1,"HISTORY:,  Chest pain.",Cardiology,a\n'
    '2,"HISTORY:, Chest  pain.",Surgery,b\n'
    "3,Knee swelling.,Orthopedic,c\n"
    "4,,Surgery,d\n"
    "5,Rash on arm.,,e\n"
)


def test_csv_exclusive_grouped_by_text(tmp_path, nlp):
    path = tmp_path / "notes.csv"
    path.write_text(CSV, encoding="utf8")
    result = convert(
        "csv", path, nlp=nlp, text_column="transcription", label_columns=["medical_specialty"], id_column="note_id",
        ratios=(0.34, 0.33, 0.33),
    )
    docs = docs_of(result)
    assert len(docs) == 3
    assert docs[0].cats.keys() == {"Cardiology", "Orthopedic", "Surgery"}
    assert all(sum(d.cats.values()) == 1.0 for d in docs)
    # The two copies of one note (whitespace aside) share a split.
    splits = {d._.note_id: s for s, ds in result.docs.items() for d in ds}
    assert splits["1"] == splits["2"]
    assert result.stats.omissions["csv_empty_text"] == 1 and result.stats.omissions["csv_no_label"] == 1


def test_csv_dedupe_multilabel_and_tsv(tmp_path, nlp):
    path = tmp_path / "notes.csv"
    path.write_text(CSV, encoding="utf8")
    result = convert(
        "csv", path, nlp=nlp, text_column="transcription", label_columns=["medical_specialty"],
        multilabel=True, dedupe=True, ratios=(1, 0, 0),
    )
    docs = docs_of(result)
    assert len(docs) == 2
    chest = next(d for d in docs if "Chest" in d.text)
    assert chest.cats == {"Cardiology": 1.0, "Orthopedic": 0.0, "Surgery": 1.0}
    tsv = tmp_path / "n.tsv"
    tsv.write_text("text\tlabels\nA note.\tx|y\nB note.\ty\n", encoding="utf8")
    docs = docs_of(convert("csv", tsv, nlp=nlp, label_columns=["labels"], multilabel=True, label_separator="|", ratios=(1, 0, 0)))
    assert docs[0].cats == {"x": 1.0, "y": 1.0}


def test_csv_errors(tmp_path, nlp):
    path = tmp_path / "notes.csv"
    path.write_text(CSV, encoding="utf8")
    with pytest.raises(CorpusError, match=r"notes\.csv:1: unknown column 'specialty'; the header has"):
        convert("csv", path, nlp=nlp, text_column="transcription", label_columns=["specialty"])
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nok,A\ntoo,many,fields\n", encoding="utf8")
    with pytest.raises(CorpusError, match=r"bad\.csv:3 \(record 2\): row has 3 fields"):
        convert("csv", bad, nlp=nlp)
    with pytest.raises(CorpusError, match="unknown format 'xml'"):
        convert("xml", bad, nlp=nlp)


# ---------------------------------------------------------------- i2b2
I2B2_TEXT = "Admission Date :\n2010-01-01\nHe was given lasix for chest pain .\nNo fever .\n"


def write_i2b2(folder: Path, con: str, ast: str = "", rel: str = "") -> Path:
    (folder / "txt").mkdir(parents=True, exist_ok=True)
    (folder / "concept").mkdir(exist_ok=True)
    (folder / "txt" / "r1.txt").write_text(I2B2_TEXT, encoding="utf8")
    (folder / "concept" / "r1.con").write_text(con, encoding="utf8")
    if ast:
        (folder / "r1.ast").write_text(ast, encoding="utf8")
    if rel:
        (folder / "r1.rel").write_text(rel, encoding="utf8")
    return folder


CON = 'c="lasix" 3:3 3:3||t="treatment"\nc="chest pain" 3:5 3:6||t="problem"\nc="fever" 4:1 4:1||t="problem"\n'
AST = 'c="chest pain" 3:5 3:6||t="problem"||a="present"\nc="fever" 4:1 4:1||t="problem"||a="absent"\n'
REL = 'c="lasix" 3:3 3:3||r="TrAP"||c="chest pain" 3:5 3:6\n'


def test_i2b2_concepts_assertions_relations(tmp_path, nlp):
    result = convert("i2b2", write_i2b2(tmp_path, CON, AST, REL), nlp=nlp, ratios=(1, 0, 0))
    doc = docs_of(result)[0]
    assert [(e.text, e.label_) for e in doc.ents] == [("lasix", "treatment"), ("chest pain", "problem"), ("fever", "problem")]
    assert {(s.text, s.label_) for s in doc.spans["entity_attributes"]} == {
        ("chest pain", "assertion=present"), ("fever", "assertion=absent")
    }
    assert [(r.head.text, r.tail.text, r.label) for r in get_relations(doc)] == [("lasix", "chest pain", "TrAP")]


@pytest.mark.parametrize(
    "con,rel,message",
    [
        ('c="lasix" 9:3 9:3||t="treatment"\n', "", r"r1\.con:1: line 9 is outside the text"),
        ('c="lasix" 3:30 3:30||t="treatment"\n', "", r"r1\.con:1: token 30 is outside line 3"),
        ('c="lasix" 3:3 3:3 t="treatment"\n', "", r"r1\.con:1: malformed concept line"),
        ('c="aspirin" 3:3 3:3||t="treatment"\n', "", r"r1\.con:1: entity .* text 'aspirin' does not match"),
        (CON, 'c="lasix" 3:3 3:3||r="TrAP"||c="pain" 3:6 3:6\n', r"r1\.rel:1: refers to a concept that is not in"),
    ],
)
def test_i2b2_errors(tmp_path, nlp, con, rel, message):
    with pytest.raises(CorpusError, match=message):
        convert("i2b2", write_i2b2(tmp_path, con, rel=rel), nlp=nlp)
