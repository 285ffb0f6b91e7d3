"""`clinical_spancat`: no loss from docs whose entity layer is missing, a loss from docs
annotated as having none; an untrained model does not flood the doc with spans."""
import spacy
from spacy.training import Example
from spacy.util import fix_random_seed

from spacy_clinicalbert.layers import CATEGORIES, ENTITIES, set_layers

TEXT = "severe rash after aspirin daily"


def _pipeline():
    fix_random_seed(0)  # the weights are random: without a seed, 1 start in 40 labels one span
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_spancat")
    gold = nlp.make_doc(TEXT)
    gold.spans["entities"] = [gold.char_span(0, 11, "Condition"), gold.char_span(18, 25, "Drug")]
    set_layers(gold, {ENTITIES})
    optimizer = nlp.initialize(lambda: [Example(nlp.make_doc(TEXT), gold)])
    return nlp, optimizer


def _doc(nlp, layers):
    doc = nlp.make_doc(TEXT)
    if ENTITIES in layers:
        doc.spans["entities"] = []
    set_layers(doc, layers)
    return doc


def test_missing_entity_layer_gives_no_loss_and_empty_one_does():
    nlp, optimizer = _pipeline()
    missing = Example(nlp.make_doc(TEXT), _doc(nlp, {CATEGORIES}))
    none_here = Example(nlp.make_doc(TEXT), _doc(nlp, {ENTITIES}))
    assert nlp.update([missing], sgd=optimizer, losses={})["clinical_spancat"] == 0.0
    assert nlp.update([none_here], sgd=optimizer, losses={})["clinical_spancat"] > 0.0


def test_untrained_model_starts_from_a_small_prior():
    nlp, _ = _pipeline()
    doc = nlp(TEXT + " " + " ".join(["rash"] * 50))
    # Over 150 suggested n-grams: spaCy's zero bias would label about half of them.
    assert len(doc.spans["entities"]) <= 2


def test_saves_and_loads(tmp_path):
    nlp, optimizer = _pipeline()
    gold = nlp.make_doc(TEXT)
    gold.spans["entities"] = [gold.char_span(0, 11, "Condition"), gold.char_span(18, 25, "Drug")]
    set_layers(gold, {ENTITIES})
    for _ in range(30):
        nlp.update([Example(nlp.make_doc(TEXT), gold)], sgd=optimizer)
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    before, after = nlp(TEXT), loaded(TEXT)
    assert [(s.text, s.label_) for s in after.spans["entities"]] == [(s.text, s.label_) for s in before.spans["entities"]]
    assert sorted(s.text for s in before.spans["entities"]) == ["aspirin", "severe rash"]
