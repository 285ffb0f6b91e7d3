"""BRAT reader: entities (incl. discontinuous), relations, attributes, equivalences, events,
CRLF offsets, multi-line texts, grouping by trial, and errors that name file and line."""
from pathlib import Path

import pytest

from spacy_clinicalbert.corpus import CorpusError, convert
from spacy_clinicalbert.relations import get_relations
from spacy_clinicalbert.text import blank_clinical

TEXT = "Patients on warfarin or heparin.\r\nNo history of severe liver disease\r\n"
ANN = (
    "T1\tDrug 12 20\twarfarin\n"
    "T2\tDrug 24 31\theparin\n"
    "T3\tCondition 48 54;61 68\tsevere disease\n"
    "T4\tQualifier 55 60\tliver\n"
    "T5\tNegation 34 36\tNo\n"
    "R1\tHas_qualifier Arg1:T3 Arg2:T4\t\n"
    "*\tOR T1 T2\n"
    "A1\tOptional T3\n"
    "M2\tSeverity T4 High\n"
    "E1\tNeg:T5 Theme:T3\n"
    "#1\tAnnotatorNotes T1\tcheck\n"
    "\n"
)


def write(folder: Path, stem: str, text: str, ann: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.txt").write_bytes(text.encode("utf8"))
    (folder / f"{stem}.ann").write_bytes(ann.encode("utf8"))


@pytest.fixture(scope="module")
def nlp():
    return blank_clinical()


def one_doc(result):
    docs = [d for split in result.docs.values() for d in split]
    assert len(docs) == 1
    return docs[0]


def test_brat_full(tmp_path, nlp):
    write(tmp_path, "NCT1_inc", TEXT, ANN)
    result = convert("brat", tmp_path, nlp=nlp)
    doc = one_doc(result)
    # CRLF counted in the offsets: text kept byte for byte, spans land on their words.
    assert doc.text == TEXT
    spans = {(s.text, s.label_) for s in doc.spans["entities"]}
    assert ("warfarin", "Drug") in spans and ("liver", "Qualifier") in spans
    assert ("severe liver disease", "Condition") in spans  # discontinuous: first to last fragment
    assert [f.text for f in doc.spans["entity_fragments"]] == ["severe", "disease"]
    # doc.ents: fragments compete with the qualifier, nothing overlaps.
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("warfarin", "Drug"), ("heparin", "Drug"), ("No", "Negation"),
        ("severe", "Condition"), ("liver", "Qualifier"), ("disease", "Condition"),
    ]
    rels = {(r.head.text, r.tail.text, r.label) for r in get_relations(doc)}
    assert rels == {
        ("severe liver disease", "liver", "Has_qualifier"),
        ("warfarin", "heparin", "OR"),
        ("No", "severe liver disease", "Theme"),
    }
    attrs = {(s.text, s.label_) for s in doc.spans["entity_attributes"]}
    assert attrs == {("severe liver disease", "Optional"), ("liver", "Severity=High")}
    stats = result.stats.to_dict()
    assert stats["ignored"]["brat_notes"] == 1 and stats["ignored"]["brat_equivalence_groups"] == 1
    assert stats["ignored"]["entities_discontinuous"] == 1
    assert doc._.note_id == "NCT1_inc"


def test_discontinuous_policies(tmp_path, nlp):
    write(tmp_path, "d", TEXT, ANN)
    hull = one_doc(convert("brat", tmp_path, nlp=nlp, discontinuous="hull"))
    assert ("severe liver disease", "Condition") in {(e.text, e.label_) for e in hull.ents}
    skip = convert("brat", tmp_path, nlp=nlp, discontinuous="skip")
    assert "Condition" not in {e.label_ for e in one_doc(skip).ents}
    assert skip.stats.omissions["ents_set_aside_discontinuous"] == 1


def test_multiline_text_and_trailing_cr(tmp_path, nlp):
    text = "Age 18-65\r\nscheduled for surgery\r\n"
    ann = "T1\tPerson 0 20\tAge 18-65\nscheduled\nT2\tProcedure 25 34\tsurgery\n"  # T2 covers "surgery\r\n"
    write(tmp_path, "m", text, ann)
    result = convert("brat", tmp_path, nlp=nlp)
    doc = one_doc(result)
    assert {s.text for s in doc.spans["entities"]} == {"Age 18-65\r\nscheduled", "surgery"}
    assert result.stats.repairs["brat_multiline_text_joined"] == 1
    assert result.stats.repairs["whitespace_trimmed"] == 1


def test_groups_keep_trials_together(tmp_path, nlp):
    for i in range(12):
        for part in ("inc", "exc"):
            write(tmp_path, f"NCT{i:03d}_{part}", "Adults with asthma.\n", "T1\tCondition 12 18\tasthma\n")
    result = convert("brat", tmp_path, nlp=nlp, ratios=(0.5, 0.25, 0.25), seed=3)
    where = {}
    for split, docs in result.docs.items():
        for doc in docs:
            trial = doc._.note_id.split("_")[0]
            assert where.setdefault(trial, split) == split
    assert len(where) == 12 and set(where.values()) == {"train", "dev", "test"}


@pytest.mark.parametrize(
    "ann,message",
    [
        ("T1\tDrug 12 20\twarfarin\nXYZ nonsense\n", r"x\.ann:2: unrecognised annotation line"),
        ("T1\tDrug 12-20\twarfarin\n", r"x\.ann:1: entity T1 has malformed offsets"),
        ("T1\tDrug 12 200\twarfarin\n", r"x\.ann:1: entity T1 \(Drug\) offsets 12-200 fall outside the text"),
        ("T1\tDrug 12 20\taspirin\n", r"x\.ann:1: entity T1 \(Drug\) text 'aspirin' does not match"),
        ("T1\tDrug 12 20\twarfarin\nR1\tX Arg1:T1 Arg2:T9\n", r"x\.ann:2: relation X tail refers to unknown entity 'T9'"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path, nlp, ann, message):
    write(tmp_path, "x", TEXT, ann)
    with pytest.raises(CorpusError, match=message):
        convert("brat", tmp_path, nlp=nlp)


def test_missing_ann_and_skip_mode(tmp_path, nlp):
    write(tmp_path, "a", TEXT, "T1\tDrug 12 20\twarfarin\nstray line\n")
    (tmp_path / "b.txt").write_text("orphan text\n", encoding="utf8")
    with pytest.raises(CorpusError, match=r"b\.txt: missing annotation file b\.ann"):
        convert("brat", tmp_path, nlp=nlp)
    result = convert("brat", tmp_path, nlp=nlp, on_invalid="skip")
    assert result.stats.omissions["brat_txt_without_ann"] == 1
    assert result.stats.omissions["brat_invalid_line"] == 1
    assert result.stats.examples["omission:brat_invalid_line"] == [f"{tmp_path / 'a.ann'}:2"]


def test_mismatch_keep_and_skip(tmp_path, nlp):
    write(tmp_path, "x", TEXT, "T1\tDrug 12 20\taspirin\nT2\tDrug 24 31\theparin\n")
    kept = convert("brat", tmp_path, nlp=nlp, on_mismatch="keep")
    assert len(one_doc(kept).spans["entities"]) == 2 and kept.stats.repairs["entity_text_mismatch_kept"] == 1
    skipped = convert("brat", tmp_path, nlp=nlp, on_mismatch="skip")
    assert [s.text for s in one_doc(skipped).spans["entities"]] == ["heparin"]
    assert skipped.stats.omissions["entity_text_mismatch"] == 1


def test_chia_every_span_matches(shared_data, nlp):
    """Chia (both variants): every entity's text is checked against its offsets; the
    only disagreements are the known annotation slips, which `keep` reports by line."""
    from spacy_clinicalbert.corpus import ConversionStats
    from spacy_clinicalbert.corpus.brat import read_brat
    from spacy_clinicalbert.corpus.docs import BuildOptions, build_doc

    expected = {"chia_without_scope": (44616, 3), "chia_with_scope": (48870, 1)}
    for variant, (n_entities, n_mismatch) in expected.items():
        stats = ConversionStats()
        records = list(read_brat(shared_data / "chia" / variant, stats, on_invalid="skip"))
        assert len(records) == 2000
        assert sum(len(r.entities) for r in records) == n_entities
        opts = BuildOptions(on_mismatch="keep")
        # Build a sample of docs fully (tokenizing all 2,000 is the benchmark's job).
        for rec in records[::20]:
            build_doc(nlp, rec, opts, stats)
        from spacy_clinicalbert.corpus.docs import _text_matches

        mismatches = [
            e.where for r in records for e in r.entities
            if not _text_matches(e.text, " ".join(r.text[s:t] for s, t in e.fragments))
        ]
        assert len(mismatches) == n_mismatch, mismatches
        assert "NCT03460002_inc.ann:6" in mismatches[-1]
