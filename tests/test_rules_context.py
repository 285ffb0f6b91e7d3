"""ConText and the sectionizer on entities from rules and from a trained tiny pipeline."""
import warnings

import pytest
import spacy
from spacy.tokens import DocBin

from rules_pipelines import CASES, add_clinical_rules, rule_pipeline, load_tiny_ner
from spacy_clinicalbert.rules.assertions import ASSERTION_FLAGS as FLAGS


@pytest.fixture(scope="module")
def rule_nlp():
    return add_clinical_rules(rule_pipeline())


@pytest.fixture(scope="module")
def tiny_nlp(tiny_bert):
    return add_clinical_rules(load_tiny_ner(tiny_bert))


def flags_of(span):
    return {flag for flag in FLAGS if getattr(span._, flag)}


def check_case(doc, entity, expected):
    ents = [e for e in doc.ents if e.text == entity]
    assert len(ents) == 1, (doc.text, [(e.text, e.label_) for e in doc.ents])
    expected = {expected} if isinstance(expected, str) else set(expected)
    got = flags_of(ents[0])
    # "Rule out" is uncertain or hypothetical per ConText's rules: at least one of them.
    assert got & expected, (doc.text, got)
    # ... and nothing unrelated, except history set by the "Family history" header cue.
    allowed = expected | ({"is_historical"} if "is_family" in expected else set())
    assert got <= allowed, (doc.text, got)
    assert ents[0]._.context_cues, "the cue that set the flag is recorded"


@pytest.mark.parametrize("text", list(CASES))
def test_assertions_on_rule_entities(rule_nlp, text):
    entity, expected = CASES[text]
    check_case(rule_nlp(text), entity, expected)


@pytest.mark.parametrize("text", list(CASES))
def test_assertions_on_trained_model_entities(tiny_nlp, text):
    entity, expected = CASES[text]
    doc = tiny_nlp(text)
    assert all(e._.clinical_rule is None for e in doc.ents), "entities come from the model"
    check_case(doc, entity, expected)


def test_plain_entity_has_no_flags(rule_nlp):
    doc = rule_nlp("Patient admitted for pneumonia.")
    assert [flags_of(e) for e in doc.ents] == [set()]


def test_negation_stops_at_sentence_end(rule_nlp):
    doc = rule_nlp("Patient denies chest pain. Fever since Monday.")
    assert {e.text: e._.is_negated for e in doc.ents} == {"chest pain": True, "Fever": False}


def test_sections_set_and_family_section_flags(rule_nlp):
    doc = rule_nlp("Past medical history: pneumonia.\nFamily history: breast cancer.")
    cats = {e.text: e[0]._.section_category for e in doc.ents}
    assert cats == {"pneumonia": "past_medical_history", "breast cancer": "family_history"}
    assert {e.text: e._.is_family for e in doc.ents}["breast cancer"] is True


def test_user_context_rule(rule_nlp):
    nlp = add_clinical_rules(rule_pipeline())
    doc = nlp("Pt refuses to discuss fever.")
    assert not doc.ents[0]._.is_negated
    nlp.get_pipe("clinical_context").add_rules(
        [{"literal": "refuses to discuss", "category": "NEGATED_EXISTENCE", "direction": "FORWARD"}]
    )
    assert nlp("Pt refuses to discuss fever.").ents[0]._.is_negated


def test_docs_stay_serializable(rule_nlp):
    docs = list(rule_nlp.pipe(list(CASES)))
    db = DocBin(store_user_data=True, docs=docs)
    back = list(DocBin().from_bytes(db.to_bytes()).get_docs(rule_nlp.vocab))
    assert [[flags_of(e) for e in d.ents] for d in back] == [[flags_of(e) for e in d.ents] for d in docs]
    assert [d._.context_graph for d in back] == [None] * len(back)


def test_keep_graph_keeps_medspacy_objects():
    nlp = rule_pipeline()
    nlp.add_pipe("clinical_sentences")
    nlp.add_pipe("clinical_context", config={"keep_graph": True})
    doc = nlp("Patient denies chest pain.")
    assert doc._.context_graph is not None
    assert doc.ents[0]._.modifiers[0].category == "NEGATED_EXISTENCE"


def test_missing_sentences_is_a_clear_error():
    nlp = rule_pipeline()
    nlp.add_pipe("clinical_context")
    with pytest.raises(ValueError, match="no sentence boundaries.*clinical_sentences"):
        nlp("Patient denies chest pain.")


def test_tokenizer_is_never_replaced():
    nlp = rule_pipeline()
    tokenizer = nlp.tokenizer
    before = [t.text for t in nlp("Pt c/o CP x3d, s/p CABG. Denies SOB.")]
    add_clinical_rules(nlp)
    assert nlp.tokenizer is tokenizer
    assert [t.text for t in nlp("Pt c/o CP x3d, s/p CABG. Denies SOB.")] == before


def test_medspacy_does_not_silence_our_warnings(rule_nlp):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        warnings.warn("still audible", UserWarning)
    assert [str(w.message) for w in caught] == ["still audible"]
    assert ("ignore", None, Warning, None, 0) not in warnings.filters


def test_bad_rule_names_its_position(rule_nlp):
    with pytest.raises(ValueError, match=r"rules\[1\].*category"):
        rule_nlp.get_pipe("clinical_context").add_rules(
            [{"literal": "ok", "category": "NEGATED_EXISTENCE"}, {"literal": "no category"}]
        )
    with pytest.raises(ValueError, match="unknown key"):
        rule_nlp.get_pipe("clinical_sectionizer").add_rules([{"literal": "A:", "category": "a", "colour": 1}])


def test_same_findings_as_plain_medspacy_on_real_notes(shared_data):
    """Our wrappers (phrase-compiled patterns, JSON-safe cues) find what medspaCy finds."""
    import csv

    from spacy_clinicalbert.rules._medspacy import medspacy_module
    from spacy_clinicalbert.rules.fast_patterns import compile_simple_patterns  # noqa: F401

    medspacy_module("context")  # registers medspaCy's own factories
    with (shared_data / "mtsamples" / "mtsamples.csv").open(encoding="utf8", newline="") as handle:
        notes = [row["transcription"] for _, row in zip(range(12), csv.DictReader(handle))]
    terms = ["pain", "fever", "cough", "hypertension", "diabetes", "obesity", "nausea", "infection", "mass"]
    rules = [{"literal": t, "category": "PROBLEM"} for t in terms]

    ours = spacy.blank("en")
    ours.add_pipe("clinical_sentences")
    ours.add_pipe("clinical_target_rules").add_rules(rules)
    ours.add_pipe("clinical_sectionizer")
    ctx = ours.add_pipe("clinical_context")
    assert ctx.context._ConText__matcher._MedspacyMatcher__matcher.__len__() == 0, "all default patterns compiled"

    plain = spacy.blank("en")
    plain.add_pipe("clinical_sentences")
    plain.add_pipe("clinical_target_rules").add_rules(rules)
    plain.add_pipe("medspacy_sectionizer", config={"apply_sentence_boundary": True})
    plain.add_pipe("medspacy_context")

    def findings(doc, json_safe):
        out = []
        for e in doc.ents:
            cues = ([(c["category"], c["start"], c["end"]) for c in e._.context_cues] if json_safe
                    else [(m.category, *m.modifier_span) for m in e._.modifiers])
            out.append((e.start, e.end, e.label_, flags_of(e), sorted(cues)))
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [findings(d, True) for d in ours.pipe(notes)]
        want = [findings(d, False) for d in plain.pipe(notes)]
    assert got == want
    assert sum(1 for doc in got for e in doc if e[3]) > 10, "the notes exercise ConText"
