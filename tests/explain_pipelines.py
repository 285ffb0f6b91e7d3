"""A tiny trained pipeline for the explain tests (not a test module): clinicalbert (the tiny
random BERT) + ner + clinical_relations + textcat (exclusive), all listening to the encoder,
trained in-process on synthetic sentences until it gets them right. Trained once per session."""
import atexit
import functools
import random
import shutil
import tempfile
from pathlib import Path
from typing import List

import spacy
from spacy.language import Language
from spacy.training import Example

from spacy_clinicalbert.relations.data import Relation, set_relations

DRUGS = ["aspirin", "metformin", "lisinopril", "warfarin"]
PROBLEMS = ["rash", "nausea", "headache", "bleeding", "vomiting"]
LISTENER = {"@architectures": "spacy-clinicalbert.TransformerListener.v1", "grad_factor": 1.0,
            "upstream": "*", "pooling": {"@layers": "reduce_mean.v1"}}
NER = {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner",
       "extra_state_tokens": False, "hidden_width": 32, "maxout_pieces": 2, "use_upper": False,
       "tok2vec": LISTENER}
TEXTCAT = {"@architectures": "spacy.TextCatReduce.v1", "exclusive_classes": True,
           "use_reduce_first": False, "use_reduce_last": False, "use_reduce_max": False,
           "use_reduce_mean": True, "tok2vec": LISTENER}
RELATIONS = {"model": {"@architectures": "spacy-clinicalbert.RelationModel.v1",
                       "hidden_width": 32, "tok2vec": LISTENER},
             "multi_label": False}


def sentence(rng: random.Random):
    drug, problem = rng.choice(DRUGS), rng.choice(PROBLEMS)
    if rng.random() < 0.5:
        return f"patient denies {problem} on {drug} .", drug, problem, "NEGATED"
    return f"patient developed {problem} after {drug} .", drug, problem, "ADVERSE"


def examples(nlp: Language, n: int, seed: int) -> List[Example]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text, drug, problem, cat = sentence(rng)
        doc = nlp.make_doc(text)
        ents = []
        for label, word in (("PROBLEM", problem), ("DRUG", drug)):
            start = text.index(f" {word} ") + 1
            ents.append(doc.char_span(start, start + len(word), label=label))
        doc.ents = sorted(ents, key=lambda s: s.start)
        by = {e.label_: e for e in doc.ents}
        set_relations(doc, [Relation(by["DRUG"], by["PROBLEM"], "CAUSES")] if cat == "ADVERSE"
                      else [])
        doc.cats = {"ADVERSE": float(cat == "ADVERSE"), "NEGATED": float(cat == "NEGATED")}
        out.append(Example(nlp.make_doc(text), doc))
    return out


def train(base_model: Path, epochs: int = 30) -> Language:
    random.seed(0)
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(base_model)}})
    nlp.add_pipe("ner", config={"model": NER})
    nlp.add_pipe("clinical_relations", config=RELATIONS)
    nlp.add_pipe("textcat", config={"model": TEXTCAT})
    train_set = examples(nlp, 48, seed=1)
    optimizer = nlp.initialize(lambda: train_set)
    for epoch in range(epochs):
        random.shuffle(train_set)
        for i in range(0, len(train_set), 8):
            nlp.update(train_set[i:i + 8], sgd=optimizer, drop=0.0)
        if epoch % 5 == 4 and accuracy(nlp, train_set) == 1.0:
            return nlp
    raise AssertionError(f"the tiny pipeline did not learn its sentences in {epochs} epochs: "
                         f"{accuracy(nlp, train_set)}")


def accuracy(nlp: Language, data: List[Example]) -> float:
    right = 0
    for eg, doc in zip(data, nlp.pipe(eg.reference.text for eg in data), strict=True):
        gold = eg.reference
        right += (max(doc.cats, key=doc.cats.get) == max(gold.cats, key=gold.cats.get)
                  and [(e.text, e.label_) for e in doc.ents]
                  == [(e.text, e.label_) for e in gold.ents])
    return right / len(data)


@functools.lru_cache(maxsize=None)
def _trained_path(base_model: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tiny_explain_"))
    atexit.register(shutil.rmtree, folder, True)
    train(Path(base_model)).to_disk(folder)
    return folder


def load_tiny_explain(base_model) -> Language:
    return spacy.load(_trained_path(str(base_model)))
