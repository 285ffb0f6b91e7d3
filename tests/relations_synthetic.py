"""A small synthetic relation task where predicting every (DRUG, AE) pair is wrong.

Each sentence has two drugs and one adverse effect; only the drug that "induced"
the effect (or was "taken" before it) is related, so the all-pairs floor has
precision 0.5. Words come from the tiny BERT's vocabulary (tests/conftest.py).
"""
import random
from typing import List

from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_clinicalbert.relations import add_relation

DRUGS = "aspirin metformin lisinopril warfarin".split()
AES = "rash nausea vomiting headache bleeding fever".split()


def synthetic_doc(vocab, rng: random.Random) -> Doc:
    d1, d2 = rng.sample(DRUGS, 2)
    ae = rng.choice(AES)
    pattern = rng.randrange(4)
    if pattern == 0:
        words, h, t, o = [d1, "induced", ae, "and", d2, "was", "given"], 0, 2, 4
    elif pattern == 1:
        words, h, t, o = [d2, "was", "given", "and", d1, "induced", ae], 4, 6, 0
    elif pattern == 2:
        words = ["patient", "developed", ae, "after", "taking", d1, ";", d2, "daily"]
        h, t, o = 5, 2, 7
    else:
        words = [d2, "daily", ";", "patient", "developed", ae, "after", "taking", d1]
        h, t, o = 8, 5, 0
    doc = Doc(vocab, words=words)
    ents = [Span(doc, h, h + 1, "DRUG"), Span(doc, t, t + 1, "AE"), Span(doc, o, o + 1, "DRUG")]
    doc.ents = sorted(ents, key=lambda s: s.start)
    add_relation(doc, ents[0], ents[1], "ADE")
    return doc


def synthetic_docs(vocab, n: int, seed: int) -> List[Doc]:
    rng = random.Random(seed)
    return [synthetic_doc(vocab, rng) for _ in range(n)]


def with_gold_entities(docs: List[Doc]) -> List[Example]:
    """Examples whose predicted doc carries the gold entities but no relations."""
    examples = []
    for doc in docs:
        pred = Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        pred.ents = [Span(pred, e.start, e.end, e.label_) for e in doc.ents]
        examples.append(Example(pred, doc))
    return examples


def plain(docs: List[Doc]) -> List[Example]:
    """Examples whose predicted doc has only the words (as `spacy train` builds them)."""
    return [
        Example(Doc(d.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]), d)
        for d in docs
    ]


TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "width": 48,
    "depth": 2,
    "embed_size": 1000,
    "window_size": 1,
    "maxout_pieces": 3,
    "subword_features": True,
    "pretrained_vectors": None,
}


LISTENER = {
    "@architectures": "spacy-clinicalbert.TransformerListener.v1",
    "grad_factor": 1.0,
    "upstream": "*",
    "pooling": {"@layers": "reduce_mean.v1"},
}
# The small setup these tests were written for (softmax, gold training entities, no
# boundary negatives), pinned so they test the component, not its current defaults.
SMALL_SETUP = {"multi_label": False, "training_entities": "gold", "boundary_negatives": 0}
# Settings of the training-pair policy, by the component's older names -> the block's.
POLICY_SETTINGS = {
    "training_entities": "entities",
    "max_predicted_entities": "max_predicted_entities",
    "boundary_negatives": "boundary_negatives",
    "negative_ratio": "negative_ratio",
}


def relation_config(
    tok2vec=None, architecture="spacy-clinicalbert.RelationModel.v1", legacy: bool = False, **settings
) -> dict:
    """Component config; policy settings go to the `training_pairs` block, or (legacy)
    stay top-level as configs from before the block set them."""
    model = {"@architectures": architecture, "hidden_width": 64, "tok2vec": tok2vec or LISTENER}
    merged = {**SMALL_SETUP, **settings}
    if legacy:
        return {"model": model, **merged}
    policy = {"@misc": "spacy-clinicalbert.relation_training_pairs.v1"}
    for old, new in POLICY_SETTINGS.items():
        if old in merged:
            policy[new] = merged.pop(old)
    return {"model": model, "training_pairs": policy, **merged}
