"""Pipelines shared by the tests/test_rules_*.py files (not a test module).

`rule_pipeline()` finds entities with an entity_ruler (stands in for a model);
`train_tiny_ner()` trains clinicalbert (the tiny random BERT) + ner on a few
synthetic sentences until it finds their entities; `add_clinical_rules()`
appends our rule components after whatever found the entities.
"""
import atexit
import functools
import random
import shutil
import tempfile
from pathlib import Path
from typing import List, Tuple

import spacy
from spacy.language import Language
from spacy.training import Example

PROBLEMS = ["chest pain", "breast cancer", "pneumonia", "MI", "fever", "headache", "rash"]
# The four sentences of the issue, and variations for training.
CASES = {
    "Patient denies chest pain.": ("chest pain", "is_negated"),
    "Family history: mother with breast cancer.": ("breast cancer", "is_family"),
    "Rule out pneumonia.": ("pneumonia", ("is_uncertain", "is_hypothetical")),
    "History of MI in 2015.": ("MI", "is_historical"),
}
TEMPLATES = [
    "Patient denies {p}.", "Family history: mother with {p}.", "Rule out {p}.",
    "History of {p} in 2015.", "Patient admitted for {p}.", "No {p}.", "Developed {p} after aspirin.",
]
NER_MODEL = {
    "@architectures": "spacy.TransitionBasedParser.v2",
    "state_type": "ner",
    "extra_state_tokens": False,
    "hidden_width": 32,
    "maxout_pieces": 2,
    "use_upper": False,
    "tok2vec": {
        "@architectures": "spacy-clinicalbert.TransformerListener.v1",
        "grad_factor": 1.0,
        "upstream": "*",
        "pooling": {"@layers": "reduce_mean.v1"},
    },
}


def rule_pipeline() -> Language:
    """blank:en + an entity_ruler for PROBLEMS: entities without a model."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns([{"label": "PROBLEM", "pattern": p} for p in PROBLEMS])
    return nlp


def add_clinical_rules(nlp: Language) -> Language:
    """Our components after the entity finders, in the order configs/rules.cfg uses."""
    nlp.add_pipe("clinical_sentences")
    nlp.add_pipe("clinical_target_rules")
    nlp.add_pipe("clinical_sectionizer")
    nlp.add_pipe("clinical_context")
    return nlp


def synthetic_examples(nlp: Language) -> List[Example]:
    examples = []
    for template in TEMPLATES:
        for problem in PROBLEMS:
            text = template.format(p=problem)
            doc = nlp.make_doc(text)
            start = text.index(problem)
            span = doc.char_span(start, start + len(problem), label="PROBLEM")
            examples.append(Example.from_dict(doc, {"entities": [(span.start_char, span.end_char, "PROBLEM")]}))
    return examples


def predicted(nlp: Language, texts) -> List[List[Tuple[str, str]]]:
    return [[(e.text, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]


def train_tiny_ner(base_model, max_epochs: int = 60) -> Language:
    """clinicalbert (tiny random BERT) + ner, trained until it finds every training entity."""
    random.seed(0)
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(base_model)}})
    nlp.add_pipe("ner", config={"model": NER_MODEL})
    examples = synthetic_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    texts = [ex.reference.text for ex in examples]
    gold = [[(e.text, e.label_) for e in ex.reference.ents] for ex in examples]
    order = list(examples)
    for epoch in range(max_epochs):
        random.shuffle(order)
        for i in range(0, len(order), 8):
            nlp.update(order[i:i + 8], sgd=optimizer, drop=0.0)
        if epoch % 5 == 4 and predicted(nlp, texts) == gold:
            return nlp
    raise AssertionError(f"the tiny ner did not learn its {len(gold)} training sentences in {max_epochs} epochs")


@functools.lru_cache(maxsize=None)
def _trained_tiny_ner_path(base_model: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tiny_ner_"))
    atexit.register(shutil.rmtree, folder, True)
    train_tiny_ner(base_model).to_disk(folder)
    return folder


def load_tiny_ner(base_model) -> Language:
    """A fresh copy of the trained tiny pipeline (trained once per test session)."""
    return spacy.load(_trained_tiny_ner_path(str(base_model)))
