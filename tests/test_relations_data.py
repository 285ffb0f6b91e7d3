"""The relation data model: JSON-safe storage that survives every round trip."""
import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span

from spacy_clinicalbert.relations import (
    Relation,
    add_relation,
    get_relations,
    relation_key,
    set_relations,
)


@pytest.fixture
def nlp():
    return spacy.blank("en")


def _annotated(nlp) -> Doc:
    doc = nlp("Severe warfarin induced bleeding after aspirin 81 mg daily.")
    drug = Span(doc, 1, 2, label="DRUG")            # warfarin
    ae = Span(doc, 0, 4, label="AE")                # Severe warfarin induced bleeding (nests DRUG)
    aspirin = Span(doc, 5, 6, label="DRUG")
    dose = Span(doc, 6, 8, label="DOSE")
    doc.spans["entities"] = [ae, drug, aspirin, dose]
    add_relation(doc, drug, ae, "ADE")
    add_relation(doc, aspirin, dose, "DOSAGE", 0.75)
    return doc


def _as_tuples(doc):
    return sorted((r.head.text, r.head.label_, r.tail.text, r.tail.label_, r.label, r.score)
                  for r in doc._.relations)


EXPECTED = [
    ("aspirin", "DRUG", "81 mg", "DOSE", "DOSAGE", 0.75),
    ("warfarin", "DRUG", "Severe warfarin induced bleeding", "AE", "ADE", 1.0),
]


def test_getter_returns_spans_with_labels(nlp):
    doc = _annotated(nlp)
    rels = doc._.relations
    assert all(isinstance(r, Relation) and r.head.doc is doc for r in rels)
    assert _as_tuples(doc) == EXPECTED


def test_nested_spans_keep_identity(nlp):
    doc = nlp("chest pain")
    outer, inner = Span(doc, 0, 2, label="AE"), Span(doc, 1, 2, label="AE")
    # Same start token, different ends: both relations must be kept apart.
    set_relations(doc, [Relation(outer, inner, "PART_OF"), Relation(inner, outer, "PART_OF")])
    keys = {relation_key(r) for r in get_relations(doc)}
    assert keys == {(0, 2, "AE", 1, 2, "AE", "PART_OF"), (1, 2, "AE", 0, 2, "AE", "PART_OF")}


def test_duplicates_keep_highest_score(nlp):
    doc = nlp("aspirin rash")
    h, t = Span(doc, 0, 1, label="DRUG"), Span(doc, 1, 2, label="AE")
    set_relations(doc, [Relation(h, t, "ADE", 0.2), Relation(h, t, "ADE", 0.9)])
    assert [r.score for r in doc._.relations] == [0.9]


def test_setter_extension(nlp):
    doc = nlp("aspirin rash")
    doc._.relations = [Relation(doc[0:1], doc[1:2], "ADE")]
    assert len(doc._.relations) == 1


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda d, o: Relation(o[0:1], d[1:2], "ADE"), "another Doc"),
        (lambda d, o: Relation(d[0:1], d[1:2], ""), "non-empty"),
        (lambda d, o: Relation(d[0:1], d[1:2], "ADE", 1.5), r"\[0, 1\]"),
        (lambda d, o: Relation(d[0:0], d[1:2], "ADE"), "empty span"),
        (lambda d, o: Relation("aspirin", d[1:2], "ADE"), "must be a Span"),
    ],
)
def test_invalid_relations_are_refused(nlp, make, error):
    doc, other = nlp("aspirin rash"), nlp("aspirin rash")
    with pytest.raises((ValueError, TypeError), match=error):
        set_relations(doc, [make(doc, other)])


def test_docbin_round_trip(nlp):
    doc = _annotated(nlp)
    data = DocBin(docs=[doc], store_user_data=True).to_bytes()
    restored = list(DocBin().from_bytes(data).get_docs(nlp.vocab))[0]
    assert _as_tuples(restored) == EXPECTED
    assert len(restored.spans["entities"]) == 4


def test_doc_bytes_round_trip(nlp):
    doc = _annotated(nlp)
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert _as_tuples(restored) == EXPECTED


def _relate_first_two(doc):
    """Module-level so worker processes can run it."""
    if len(doc) >= 2:
        add_relation(doc, Span(doc, 0, 1, label="X"), Span(doc, 1, 2, label="Y"), "R", 0.5)
    return doc


def test_relations_survive_multiprocessing():
    nlp = spacy.blank("en")
    nlp.add_pipe("relate_first_two_test")
    texts = [f"aspirin rash number {i}" for i in range(20)]
    docs = list(nlp.pipe(texts, n_process=2, batch_size=4))
    assert all(len(d._.relations) == 1 for d in docs)
    assert {(r.head.text, r.tail.text, r.label, r.score) for d in docs for r in d._.relations} == {
        ("aspirin", "rash", "R", 0.5)
    }


from spacy.language import Language  # noqa: E402

Language.component("relate_first_two_test")(_relate_first_two)
