"""A tiny, transformer-free pipeline and gold DocBin for the evaluation tests.

Every figure the tests check is counted by hand from the five notes below (see
the comments in test_evaluation_scores.py). The pipeline: an entity_ruler, a rule
component that relates every DRUG/ADE pair by their order in the text, one that
sets exclusive categories from keywords, and one that flags entities after "no"
as negated.
"""
from pathlib import Path
from typing import List

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from spacy_clinicalbert.relations.data import Relation, set_relations

PATTERNS = [
    {"label": "DRUG", "pattern": [{"LOWER": "aspirin"}]},
    {"label": "DRUG", "pattern": [{"LOWER": "warfarin"}]},
    {"label": "DRUG", "pattern": [{"LOWER": "anti"}, {"ORTH": "-"}, {"LOWER": "nausea"}, {"LOWER": "drug"}]},
    {"label": "ADE", "pattern": [{"LOWER": "pain"}]},
    {"label": "ADE", "pattern": [{"LOWER": "rash"}]},
    {"label": "ADE", "pattern": [{"LOWER": "bleeding"}]},
    {"label": "ADE", "pattern": [{"LOWER": "vomiting"}]},
]

if not Span.has_extension("is_negated"):
    Span.set_extension("is_negated", default=False)


@Language.component("test_eval_relations", assigns=["doc._.relations"])
def order_relations(doc: Doc) -> Doc:
    """DRUG before ADE: causes(drug, ade); ADE before DRUG: treated_by(ade, drug)."""
    rels = []
    for drug in (e for e in doc.ents if e.label_ == "DRUG"):
        for ade in (e for e in doc.ents if e.label_ == "ADE"):
            if drug.start < ade.start:
                rels.append(Relation(drug, ade, "causes"))
            else:
                rels.append(Relation(ade, drug, "treated_by"))
    set_relations(doc, rels)
    return doc


@Language.component("test_eval_cats", assigns=["doc.cats"])
def keyword_cats(doc: Doc) -> Doc:
    text = doc.text.lower()
    severe = 0.9 if "bleeding" in text else 0.6 if "rash" in text else 0.2
    doc.cats = {"SEVERE": severe, "MILD": 1.0 - severe}
    return doc


@Language.component("test_eval_negation", assigns=["span._.is_negated"])
def after_no(doc: Doc) -> Doc:
    for ent in doc.ents:
        if ent.start > 0 and doc[ent.start - 1].lower_ == "no":
            ent._.is_negated = True
    return doc


def build_nlp(*, relations: bool = True, cats: bool = True, negation: bool = True) -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(PATTERNS)
    if relations:
        nlp.add_pipe("test_eval_relations")
    if cats:
        nlp.add_pipe("test_eval_cats")
    if negation:
        nlp.add_pipe("test_eval_negation")
    return nlp


# (words, spaces, entities (start, end, label), relations (head idx, tail idx, label),
#  gold cats, negated entity idx)
NOTES = [
    # A: "pain" is an ADE the ruler finds but the gold does not have.
    (["Took", "aspirin", "for", "pain", "and", "developed", "rash", "."],
     [True] * 6 + [False, False],
     [(1, 2, "DRUG"), (6, 7, "ADE")], [(0, 1, "causes")], {"MILD": 1.0, "SEVERE": 0.0}, []),
    # B: the ruler also relates warfarin to the negated rash.
    (["Warfarin", "caused", "bleeding", ";", "no", "rash", "."],
     [True, True, False, True, True, False, False],
     [(0, 1, "DRUG"), (2, 3, "ADE"), (5, 6, "ADE")], [(0, 1, "causes")],
     {"MILD": 0.0, "SEVERE": 1.0}, [2]),
    # C: gold tokens keep "anti-nausea" whole; the pipeline splits it in three.
    (["Gave", "anti-nausea", "drug", "for", "vomiting", "."],
     [True, True, True, True, False, False],
     [(1, 3, "DRUG"), (4, 5, "ADE")], [(1, 0, "treated_by")], {"MILD": 1.0, "SEVERE": 0.0}, []),
    # D: gold says the vomiting is negated; the pipeline does not.
    (["Vomiting", "resolved", "with", "aspirin", "."],
     [True, True, True, False, False],
     [(0, 1, "ADE"), (3, 4, "DRUG")], [(0, 1, "treated_by")], {"MILD": 0.0, "SEVERE": 1.0}, [0]),
    # E: the ruler knows neither entity.
    (["Patient", "had", "hives", "after", "penicillin", "."],
     [True, True, True, True, False, False],
     [(2, 3, "ADE"), (4, 5, "DRUG")], [(1, 0, "causes")], {"MILD": 1.0, "SEVERE": 0.0}, []),
]


def gold_docs(vocab, *, relations: bool = True, cats: bool = True) -> List[Doc]:
    docs = []
    for words, spaces, ents, rels, doc_cats, negated in NOTES:
        doc = Doc(vocab, words=words, spaces=spaces)
        spans = [Span(doc, s, e, label=lab) for s, e, lab in ents]
        doc.ents = spans
        doc.spans["entities"] = spans
        if negated:
            doc.spans["entity_attributes"] = [
                Span(doc, spans[i].start, spans[i].end, label="Negation") for i in negated
            ]
        if relations:
            set_relations(doc, [Relation(spans[h], spans[t], lab) for h, t, lab in rels])
        if cats:
            doc.cats = dict(doc_cats)
        docs.append(doc)
    return docs


def write_gold(path: Path, vocab, **kwargs) -> Path:
    DocBin(docs=gold_docs(vocab, **kwargs), store_user_data=True).to_disk(path)
    return path
