"""A 5,000-word note full of abbreviations and numbers: every window fits, every token is seen."""
import random

import pytest
import spacy
from spacy_transformers.span_getters import configure_strided_spans

VITALS = [
    "BP {a}/{b} HR {c} RR {d} SpO2 {e}% on {f}L NC, T {g}.{h}C.",
    "Pt s/p CABG x{f} 2/2 CAD, HbA1c {g}.{h}%, eGFR {c} mL/min/1.73m2.",
    "Meds: metoprolol {c}mg PO b.i.d., ASA 81mg qd, KCl {d}mEq IV q{f}h prn.",
    "MRN {m}; acct {m}-{c}; ICD-10 I25.{f}{d}, CPT 9{m}.",
    "Specimen {m}{m}{m} barcode {code}, lot {code}-{m}.",
    "Outside record {code}{m} scanned, order {m}{code}.",
    "Labs {a}/{b}: Na {a} K {f}.{h} Cl {c} HCO3 {d} BUN {d} Cr {f}.{h} Glu {a}.",
]


def clinical_note(n_words: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = []
    while len(words) < n_words:
        template = rng.choice(VITALS)
        words.extend(template.format(
            a=rng.randint(90, 190), b=rng.randint(40, 110), c=rng.randint(10, 150),
            d=rng.randint(8, 40), e=rng.randint(85, 100), f=rng.randint(1, 6),
            g=rng.randint(35, 40), h=rng.randint(0, 9), m=rng.randint(10**8, 10**9),
            code="".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(24)),
        ).split())
        if rng.random() < 0.1:
            words[-1] += "\n\n"  # paragraph breaks, not counted as words
    return " ".join(words[:n_words])


@pytest.fixture(scope="module", params=["tiny_bert", "minilm_path"])
def nlp(request):
    folder = request.getfixturevalue(request.param)
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert",
                 config={"model": {"name": str(folder)}, "release_trf_data": False})
    nlp.initialize()
    return nlp


def test_long_note_windows_fit_and_cover_every_token(nlp):
    text = clinical_note(5000)
    assert len(text.split()) == 5000
    pipe = nlp.get_pipe("clinicalbert")
    tokenizer = pipe.model.tokenizer
    doc = nlp(text)
    windows = pipe.model.attrs["get_spans"]([doc])[0]
    budget = tokenizer.model_max_length - tokenizer.num_special_tokens_to_add()
    sizes = [len(tokenizer(w.text, add_special_tokens=False)["input_ids"]) for w in windows]
    assert max(sizes) <= budget
    trf = doc._.trf_data
    assert trf.wordpieces.input_ids.shape[1] <= 512
    lengths = trf.align.lengths
    unseen = [t.i for t in doc if not t.is_space and lengths[t.i] == 0]
    assert unseen == []
    vectors = trf.model_output.last_hidden_state
    assert vectors.shape[-1] == pipe.model.get_dim("nO")


def test_stock_windows_would_overflow_on_this_note(nlp):
    """The same note with spacy-transformers' token-count windows exceeds the limit,
    so the test above is a real check of our windows, not of an easy text."""
    tokenizer = nlp.get_pipe("clinicalbert").model.tokenizer
    doc = nlp.make_doc(clinical_note(5000))
    stock = configure_strided_spans(window=128, stride=96)([doc])[0]
    sizes = [len(tokenizer(w.text, add_special_tokens=False)["input_ids"]) for w in stock]
    assert max(sizes) > tokenizer.model_max_length - 2
