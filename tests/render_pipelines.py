"""A transformer-free pipeline for the render and browser tests (not a test module).

An entity_ruler finds PROBLEM and DRUG mentions; our medspaCy wrappers add sentences,
sections and ConText flags; three small components stand in for the models: every DRUG
before a PROBLEM in a sentence is related (score 0.8), keywords set two categories, and
`[NAME]` placeholders become PHI spans, as a de-identification stage would."""
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from spacy_clinicalbert.relations.data import Relation, set_relations

PROBLEMS = ["chest pain", "rash", "breast cancer", "pneumonia", "nausea", "hypertension",
            "fever", "headache", "diabetes", "bleeding"]
DRUGS = ["aspirin", "warfarin", "metformin", "lisinopril", "ibuprofen"]

NOTE = (
    "HISTORY OF PRESENT ILLNESS: [NAME] developed a rash after aspirin. "
    "Patient denies chest pain.\n\n"
    "FAMILY HISTORY: Mother with breast cancer.\n\n"
    "ASSESSMENT: Rule out pneumonia. Warfarin caused bleeding <b>not html</b>."
)


@Language.component("test_render_relations", assigns=["doc._.relations"])
def drug_problem_relations(doc: Doc) -> Doc:
    rels = []
    for sent in doc.sents:
        drugs = [e for e in sent.ents if e.label_ == "DRUG"]
        problems = [e for e in sent.ents if e.label_ == "PROBLEM"]
        rels += [Relation(d, p, "CAUSES", 0.8) for d in drugs for p in problems]
    set_relations(doc, rels)
    return doc


@Language.component("test_render_cats", assigns=["doc.cats"])
def keyword_cats(doc: Doc) -> Doc:
    adverse = 0.9 if "caused" in doc.text or "after" in doc.text else 0.1
    doc.cats = {"ADVERSE": adverse, "OTHER": 1.0 - adverse}
    return doc


@Language.component("test_render_phi", assigns=["doc.spans"])
def placeholder_phi(doc: Doc) -> Doc:
    doc.spans["phi"] = [Span(doc, t.i, t.i + 1, label="NAME") for t in doc if t.text == "[NAME]"]
    return doc


def render_pipeline() -> Language:
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {
        "@tokenizers": "spacy-clinicalbert.ClinicalTokenizer.v1"}}})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns([{"label": "PROBLEM", "pattern": p} for p in PROBLEMS]
                       + [{"label": "DRUG", "pattern": d} for d in DRUGS])
    nlp.add_pipe("clinical_sentences")
    nlp.add_pipe("clinical_sectionizer")
    nlp.add_pipe("clinical_context")
    nlp.add_pipe("test_render_relations")
    nlp.add_pipe("test_render_cats")
    nlp.add_pipe("test_render_phi")
    return nlp
