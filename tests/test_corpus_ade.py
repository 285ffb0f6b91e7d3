"""ADE Corpus V2 reader: one consistent shift per sentence (not string search), DOSE,
overlap set aside from doc.ents, negatives de-duplicated, PMID groups; and the real corpus."""
from pathlib import Path

import pytest

from spacy_clinicalbert.corpus import ConversionStats, CorpusError, convert
from spacy_clinicalbert.corpus.ade import find_shift, read_ade
from spacy_clinicalbert.relations import get_relations
from spacy_clinicalbert.text import blank_clinical

# Sentence 1: "rash" occurs twice; the annotation means the second one (shift 100).
S1 = "A rash was noted; lithium toxicity and rash followed lithium."
AE_ROWS = [
    f"111|{S1}|rash|139|143|lithium|153|160",
    f"111|{S1}|lithium toxicity|118|134|lithium|153|160",
    "222|Intravenous azithromycin-induced ototoxicity.|ototoxicity|43|54|azithromycin|22|34",
]
DOSE_ROWS = ["222|Intravenous azithromycin-induced ototoxicity.|Intravenous|10|21|azithromycin|22|34"]
NEG_ROWS = ["333 NEG No drug was given.", "333 NEG No drug was given.", "444 NEG Nothing happened."]


def write_ade(folder: Path, ae=AE_ROWS, dose=DOSE_ROWS, neg=NEG_ROWS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "DRUG-AE.rel").write_text("\n".join(ae) + "\n", encoding="utf8")
    (folder / "DRUG-DOSE.rel").write_text("\n".join(dose) + "\n", encoding="utf8")
    (folder / "ADE-NEG.txt").write_text("\n".join(neg) + "\n", encoding="utf8")
    return folder


@pytest.fixture(scope="module")
def nlp():
    return blank_clinical()


def test_shift_picks_the_occurrence_all_mentions_agree_on():
    mentions = [("rash", 139, 143), ("lithium", 153, 160), ("lithium toxicity", 118, 134)]
    assert find_shift(S1, mentions) == [100]
    assert S1.find("rash") == 2  # plain search would take the wrong "rash"


def test_ade_docs(tmp_path, nlp):
    result = convert("ade", write_ade(tmp_path), nlp=nlp, ratios=(1.0, 0.0, 0.0))
    docs = {d.text: d for d in result.docs["train"]}
    assert len(docs) == 4  # 2 positive sentences, 2 distinct negatives
    doc = docs[S1]
    assert doc.cats == {"ADE": 1.0}
    spans = {(s.start_char, s.text, s.label_) for s in doc.spans["entities"]}
    assert spans == {(39, "rash", "AE"), (18, "lithium toxicity", "AE"), (53, "lithium", "DRUG")}
    assert {(r.head.text, r.tail.start_char, r.label) for r in get_relations(doc)} == {
        ("lithium", 39, "DRUG-AE"),
        ("lithium", 18, "DRUG-AE"),
    }
    doc2 = docs["Intravenous azithromycin-induced ototoxicity."]
    assert {(r.head.text, r.tail.text, r.label) for r in get_relations(doc2)} == {
        ("azithromycin", "ototoxicity", "DRUG-AE"),
        ("azithromycin", "Intravenous", "DRUG-DOSE"),
    }
    assert docs["No drug was given."].cats == {"ADE": 0.0}
    assert result.stats.omissions["ade_duplicate_negative_line"] == 1


def test_overlap_set_aside_from_ents(tmp_path, nlp):
    sentence = "Severe lithium toxicity occurred."
    rows = [f"9|{sentence}|lithium toxicity|7|23|lithium|7|14"]
    result = convert("ade", write_ade(tmp_path, ae=rows, dose=[], neg=["8 NEG x."]), nlp=nlp, ratios=(1, 0, 0))
    doc = next(d for d in result.docs["train"] if d.text == sentence)
    assert len(doc.spans["entities"]) == 2
    assert [(e.text, e.label_) for e in doc.ents] == [("lithium toxicity", "AE")]
    assert result.stats.omissions["ents_set_aside_overlap:DRUG"] == 1
    first = convert("ade", tmp_path, nlp=nlp, ratios=(1, 0, 0), ents_policy="first")
    doc = next(d for d in first.docs["train"] if d.text == sentence)
    assert [(e.text, e.label_) for e in doc.ents] == [("lithium toxicity", "AE")]


@pytest.mark.parametrize(
    "ae,message",
    [
        (["1|Bad line|rash"], r"DRUG-AE\.rel:1: expected 8 '\|'-separated fields, found 3"),
        (["1|A rash.|rash|x|6|d|0|1"], r"DRUG-AE\.rel:1: offsets .* must be integers"),
        (["1|A rash.|hives|2|7|A|0|1"], r"DRUG-AE\.rel:1: no single shift maps all mentions"),
    ],
)
def test_bad_rows(tmp_path, nlp, ae, message):
    with pytest.raises(CorpusError, match=message):
        convert("ade", write_ade(tmp_path, ae=ae, dose=[]), nlp=nlp)


def test_missing_file(tmp_path, nlp):
    write_ade(tmp_path)
    (tmp_path / "ADE-NEG.txt").unlink()
    with pytest.raises(CorpusError, match=r"ADE-NEG\.txt: missing ADE Corpus V2 file"):
        convert("ade", tmp_path, nlp=nlp)


def test_real_corpus_counts(shared_data):
    """The reader recovers every sentence and annotation of PROVENANCE.md (the full
    conversion with tokenization runs in benchmarks/convert_corpora.py)."""
    stats = ConversionStats()
    records = list(read_ade(shared_data / "ade_corpus_v2", stats))
    positives = [r for r in records if r.cats["ADE"] == 1.0]
    assert len(positives) == 4272
    assert len(records) - len(positives) == 16688
    rel_labels = [rel.label for r in records for rel in r.relations]
    assert rel_labels.count("DRUG-AE") == 6821 and rel_labels.count("DRUG-DOSE") == 279
    ae = sum(1 for r in records for e in r.entities if e.label == "AE")
    assert ae == 5776
    for rec in positives:
        for ent in rec.entities:
            (s, e), = ent.fragments
            assert rec.text[s:e] == ent.text
    assert len({r.group for r in records}) == len({r.group for r in positives} | {r.group for r in records if r.cats["ADE"] == 0})


def test_ade_neg_sentences_leave_entities_missing_and_ner_learns_nothing_there(tmp_path, nlp):
    """ADE-NEG annotates only its category: ENT_IOB stays missing (not O), no entity group,
    no relation layer; spaCy's ner then has zero loss on such a sentence, while the same
    sentence annotated as having no entities would teach it "O" everywhere."""
    import spacy
    from spacy.training import Example

    from spacy_clinicalbert.layers import CATEGORIES, ENTITIES, RELATIONS, annotates, set_layers

    result = convert("ade", write_ade(tmp_path / "ade"), nlp=nlp, ratios=(1.0, 0.0, 0.0))
    docs = result.docs["train"]
    neg = [d for d in docs if d.cats == {"ADE": 0.0}]
    pos = [d for d in docs if d.cats == {"ADE": 1.0}]
    assert len(neg) == 2 and len(pos) == 2
    for doc in neg:
        assert not doc.has_annotation("ENT_IOB") and {t.ent_iob_ for t in doc} == {""}
        assert "entities" not in doc.spans and not get_relations(doc)
        assert annotates(doc, CATEGORIES) and not annotates(doc, ENTITIES) and not annotates(doc, RELATIONS)
    assert all(annotates(d, ENTITIES) and annotates(d, RELATIONS) for d in pos)
    assert result.stats.to_dict()["layers"]["total"] == {"entities": 2, "relations": 2, "categories": 4, "attributes": 0}

    ner_nlp = spacy.blank("en")
    ner_nlp.add_pipe("ner")
    optimizer = ner_nlp.initialize(lambda: [Example(ner_nlp.make_doc(d.text), d) for d in pos])
    assert ner_nlp.update([Example(ner_nlp.make_doc(d.text), d) for d in neg], sgd=optimizer)["ner"] == 0.0
    empty = nlp.make_doc(neg[0].text)
    empty.ents = []
    set_layers(empty, {ENTITIES})
    assert ner_nlp.update([Example(ner_nlp.make_doc(empty.text), empty)], sgd=optimizer)["ner"] > 0.0
