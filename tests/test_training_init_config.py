"""The pipeline follows the corpus: each corpus shape our converters produce gets a config
with exactly the components it has gold data for, trains a few steps on the tiny BERT and
loads; given splits stay as given; a corpus without annotation stops at convert."""
import json
import random
from pathlib import Path

import pytest
import spacy
from thinc.api import Config

from spacy_clinicalbert.corpus import CorpusError, convert
from spacy_clinicalbert.corpus.writer import read_docbin
from spacy_clinicalbert.layers import CATEGORIES, ENTITIES, RELATIONS, annotates
from spacy_clinicalbert.training import init_config, profile_corpus
from spacy_clinicalbert.training.init_config import CATEGORY_GRAD_FACTOR

DRUGS = ["aspirin", "metformin", "lisinopril", "warfarin"]
AES = ["rash", "nausea", "headache", "bleeding", "vomiting"]


def _sentence(rng):
    drug, ae = rng.choice(DRUGS), rng.choice(AES)
    text = f"patient developed {ae} after {drug} ."
    return text, (text.index(ae), text.index(ae) + len(ae)), (text.index(drug), text.index(drug) + len(drug))


def write_partial_jsonl(folder: Path, n: int = 40) -> Path:
    """ADE's shape: a quarter of the sentences annotate entities, relations and the
    category, the rest only their category (no 'spans' key: entities missing)."""
    rng = random.Random(0)
    lines = []
    for i in range(n):
        text, ae, drug = _sentence(rng)
        if i % 4:
            lines.append({"text": f"no {rng.choice(AES)} was given .", "cats": {"ADE": 0.0}, "meta": {"group": str(i)}})
            continue
        spans = [{"start": ae[0], "end": ae[1], "label": "AE"}, {"start": drug[0], "end": drug[1], "label": "DRUG"}]
        rel = {"head_span": spans[1], "child_span": spans[0], "label": "DRUG-AE"}
        lines.append({"text": text, "spans": spans, "relations": [rel], "cats": {"ADE": 1.0}, "meta": {"group": str(i)}})
    path = folder / "partial.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf8")
    return path


def write_conll_splits(folder: Path) -> dict:
    """BC5CDR's shape: entities only, official train/dev/test files."""
    paths = {}
    for split, n, seed in (("train", 30, 1), ("devel", 8, 2), ("test", 8, 3)):
        rng = random.Random(seed)
        rows = []
        for _ in range(n):
            drug, ae = rng.choice(DRUGS), rng.choice(AES)
            for word, tag in (("patient", "O"), ("developed", "O"), (ae, "B-Disease"), ("after", "O"),
                              (drug, "B-Chemical"), (".", "O")):
                rows.append(f"{word}\t{tag}")
            rows.append("")
        paths[split] = folder / f"{split}.tsv"
        paths[split].write_text("\n".join(rows) + "\n", encoding="utf8")
    return paths


def write_brat_overlapping(folder: Path, n: int = 30) -> Path:
    """Chia's shape: entities (many nested) and relations, no categories."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(4)
    for i in range(n):
        drug, ae = rng.choice(DRUGS), rng.choice(AES)
        text = f"severe {ae} after {drug} daily\n"
        a0 = text.index(ae)
        d0 = text.index(drug)
        ann = [
            f"T1\tCondition {a0} {a0 + len(ae)}\t{ae}",
            f"T2\tCondition 0 {a0 + len(ae)}\tsevere {ae}",  # nests T1: cannot share doc.ents
            f"T3\tDrug {d0} {d0 + len(drug)}\t{drug}",
            "R1\tCaused_by Arg1:T2 Arg2:T3",
        ]
        (folder / f"NCT{i:08d}_inc.txt").write_text(text, encoding="utf8")
        (folder / f"NCT{i:08d}_inc.ann").write_text("\n".join(ann) + "\n", encoding="utf8")
    return folder


def write_csv_categories(folder: Path, n: int = 45) -> Path:
    """MTSamples' shape: one exclusive category per note, nothing else."""
    rng = random.Random(5)
    rows = ["note_id,text,specialty"]
    for i in range(n):
        label = ["Cardiology", "Neurology", "Dermatology"][i % 3]
        word = {"Cardiology": "chest pain", "Neurology": "headache", "Dermatology": "rash"}[label]
        rows.append(f"{i},patient {i} with {word} and {rng.choice(AES)} .,{label}")
    path = folder / "notes.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf8")
    return path


def _convert(shape: str, tmp_path: Path) -> Path:
    out = tmp_path / "corpus"
    if shape == "partial":
        convert("jsonl", write_partial_jsonl(tmp_path), out, ratios=(0.6, 0.2, 0.2))
    elif shape == "entities":
        p = write_conll_splits(tmp_path)
        convert("conll", p["train"], out, dev_input=p["devel"], test_input=p["test"])
    elif shape == "overlapping":
        convert("brat", write_brat_overlapping(tmp_path / "brat"), out, ratios=(0.6, 0.2, 0.2))
    else:
        convert("csv", write_csv_categories(tmp_path), out, text_column="text", label_columns=["specialty"],
                multilabel=False, ratios=(0.6, 0.2, 0.2))
    return out


EXPECTED = {
    "partial": ["clinicalbert", "ner", "clinical_relations", "textcat_multilabel"],
    "entities": ["clinicalbert", "ner"],
    "overlapping": ["clinicalbert", "clinical_spancat", "clinical_relations"],
    "categories": ["clinicalbert", "textcat"],
}


@pytest.mark.parametrize("shape", list(EXPECTED))
def test_init_config_follows_the_corpus_and_trains(shape, tmp_path, tiny_bert):
    from spacy.cli.train import train

    corpus = _convert(shape, tmp_path)
    cfg_path = tmp_path / "training.cfg"
    init_config(corpus, cfg_path, base_model=str(tiny_bert))
    config = Config().from_disk(cfg_path, interpolate=False)
    assert config["nlp"]["pipeline"] == EXPECTED[shape]
    weights = {k: v for k, v in config["training"]["score_weights"].items() if v}
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-3)
    if "clinical_relations" in EXPECTED[shape]:
        # The recognizer annotates (relations train on its entities); the encoder, updated
        # every step, leaves its output on the docs instead of encoding them again.
        assert config["training"]["annotating_components"] == [EXPECTED[shape][1]]
        rel = config["components"]["clinical_relations"]
        assert rel["model"]["@architectures"] == "spacy-clinicalbert.RelationModel.v2"
        assert rel["candidates"]["source"] == ("entities" if shape == "overlapping" else "ents")
    elif shape != "categories":  # a categories-only corpus on CPU freezes the encoder
        assert config["training"]["annotating_components"] == []
    reader = config["corpora"]["train"]
    if shape == "partial":  # a quarter of the docs annotate entities and relations
        assert reader["@readers"] == "spacy-clinicalbert.LayerBalancedCorpus.v1"
        assert reader["min_layer_share"] == {"entities": 0.5, "relations": 0.5}
    else:  # every doc annotates what the pipeline trains
        assert reader["@readers"] == "spacy-clinicalbert.Corpus.v1"
    out = tmp_path / "out"
    train(cfg_path, out, use_gpu=-1, overrides={"training.max_steps": 4, "training.eval_frequency": 2})
    nlp = spacy.load(out / "model-last")
    assert nlp.pipe_names == EXPECTED[shape] + ["clinicalbert_cleanup"]
    doc = nlp("patient developed rash after aspirin .")
    assert doc._.trf_data is None


def _grad_factors(config) -> dict:
    return {name: comp["model"]["tok2vec"]["grad_factor"] for name, comp in config["components"].items()
            if "tok2vec" in comp.get("model", {})}


def test_category_gradient_is_scaled_only_where_token_layers_share_the_encoder(tmp_path):
    """Token losses sum over tokens, the category's is one term a doc: beside a token layer
    the category listener gets CATEGORY_GRAD_FACTOR; alone (fine-tuned) it keeps 1."""
    (tmp_path / "p").mkdir()
    (tmp_path / "c").mkdir()
    partial = Config().from_str(init_config(_convert("partial", tmp_path / "p")), interpolate=False)
    assert _grad_factors(partial) == {
        "ner": 1.0, "clinical_relations": 1.0, "textcat_multilabel": CATEGORY_GRAD_FACTOR}
    assert CATEGORY_GRAD_FACTOR > 1.0
    alone = init_config(_convert("categories", tmp_path / "c"), encoder="fine-tune")
    assert _grad_factors(Config().from_str(alone, interpolate=False)) == {"textcat": 1.0}


def test_gpu_config_differs_only_in_hardware_settings(tmp_path):
    corpus = _convert("partial", tmp_path)
    cpu = Config().from_str(init_config(corpus, hardware="cpu"), interpolate=False)
    gpu = Config().from_str(init_config(corpus, hardware="gpu"), interpolate=False)
    assert cpu["nlp"]["pipeline"] == gpu["nlp"]["pipeline"]
    assert gpu["components"]["clinicalbert"]["model"]["mixed_precision"] is True
    assert gpu["training"]["batcher"]["@batchers"] == "spacy.batch_by_padded.v1"
    assert cpu["system"]["gpu_allocator"] is None and gpu["system"]["gpu_allocator"] == "pytorch"


def test_shipped_cpu_and_gpu_configs_are_what_init_config_writes_for_ade(tmp_path):
    """configs/cpu.cfg and gpu.cfg are the generated configs of ADE's shape, so the
    recommended setup lives in one place (the template)."""
    corpus = _convert("partial", tmp_path)
    root = Path(__file__).resolve().parents[1]
    for hardware in ("cpu", "gpu"):
        text = init_config(corpus, hardware=hardware, base_model="models/pretrained")
        generated = Config().from_str(text, interpolate=False)
        shipped = Config().from_disk(root / "configs" / f"{hardware}.cfg", interpolate=False)
        for section in ("paths",):
            generated.pop(section), shipped.pop(section)
        # The candidate distance follows the corpus's relations: ADE's reach 36 tokens (99.5 %),
        # so ADE keeps 100 (test_relation_settings_of_the_public_corpora); the toy's are short.
        for config in (generated, shipped):
            config["components"]["clinical_relations"]["candidates"].pop("max_distance")
        # Labels differ between the toy corpus and ADE, the components and settings do not.
        assert generated == shipped, hardware
        assert shipped["components"]["clinical_relations"]["training_pairs"]["negative_ratio"] == -1


def test_missing_entity_layer_is_missing_and_ner_learns_nothing_there(tmp_path):
    corpus = _convert("partial", tmp_path)
    nlp = spacy.blank("en")
    docs = read_docbin(corpus / "train.spacy", nlp.vocab)
    neg = [d for d in docs if not annotates(d, ENTITIES)]
    pos = [d for d in docs if annotates(d, ENTITIES)]
    assert neg and pos
    for doc in neg:
        assert not doc.has_annotation("ENT_IOB")  # missing, not "O"
        assert all(t.ent_iob_ == "" for t in doc)
        assert annotates(doc, CATEGORIES) and not annotates(doc, RELATIONS)
        assert "entities" not in doc.spans
    assert all(t.ent_iob_ in ("B", "I", "O") for t in pos[0])

    from spacy.training import Example

    ner_nlp = spacy.blank("en")
    ner = ner_nlp.add_pipe("ner")
    examples = [Example(ner_nlp.make_doc(d.text), d) for d in pos]
    optimizer = ner_nlp.initialize(lambda: examples)
    missing = [Example(ner_nlp.make_doc(d.text), d) for d in neg[:4]]
    assert ner_nlp.update(missing, sgd=optimizer, losses={})["ner"] == 0.0
    assert ner.update(examples[:4], sgd=optimizer, losses={})["ner"] > 0.0


def test_given_splits_are_never_mixed(tmp_path):
    p = write_conll_splits(tmp_path)
    result = convert("conll", p["train"], tmp_path / "c", dev_input=p["devel"], test_input=p["test"])
    stems = {"train": "train", "dev": "devel", "test": "test"}
    for split, docs in result.docs.items():
        assert docs and {d._.note_id.split(":")[0] for d in docs} == {stems[split]}
    assert [len(result.docs[s]) for s in ("train", "dev", "test")] == [30, 8, 8]
    # Only train and test given: dev is carved out of train's groups, test stays whole.
    carved = convert("conll", p["train"], tmp_path / "d", test_input=p["test"], ratios=(0.8, 0.1, 0.1))
    assert {d._.note_id.split(":")[0] for d in carved.docs["dev"]} == {"train"}
    assert len(carved.docs["test"]) == 8 and len(carved.docs["train"]) + len(carved.docs["dev"]) == 30
    assert carved.docs["dev"]


def test_corpus_without_any_annotation_stops_at_convert(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"note {i}"}) for i in range(5)) + "\n", encoding="utf8")
    with pytest.raises(CorpusError, match="no annotation at all"):
        convert("jsonl", path, tmp_path / "out")
    assert not (tmp_path / "out" / "train.spacy").exists()


def test_stats_count_docs_per_layer(tmp_path):
    corpus = _convert("partial", tmp_path)
    stats = json.loads((corpus / "stats.json").read_text())
    layers = stats["layers"]["total"]
    assert layers[CATEGORIES] == 40 and layers[ENTITIES] == layers[RELATIONS] == 10
    profile = profile_corpus(corpus)
    assert profile.textcat == "textcat_multilabel" and profile.entities == "ner" and profile.relations


def _encoder_weights(nlp) -> dict:
    shim = next(layer for layer in nlp.get_pipe("clinicalbert").model.walk() if layer.shims).shims[0]
    return {k: v.detach().clone() for k, v in shim._model.named_parameters()}


def test_categories_alone_on_cpu_train_heads_on_a_frozen_encoder(tmp_path, tiny_bert):
    """--encoder auto freezes the encoder for a categories-only corpus on a CPU: the base
    model's weights load (before_init), stay exactly as they were, and the heads train."""
    from spacy.cli.train import train
    from transformers import BertModel

    corpus = _convert("categories", tmp_path)
    cfg_path = tmp_path / "frozen.cfg"
    init_config(corpus, cfg_path, base_model=str(tiny_bert))
    config = Config().from_disk(cfg_path, interpolate=False)
    assert config["training"]["frozen_components"] == ["clinicalbert"]
    assert config["training"]["annotating_components"] == ["clinicalbert"]
    assert config["initialize"]["before_init"]["@callbacks"] == "spacy-clinicalbert.initialize_frozen.v1"
    assert config["components"]["textcat"]["model"]["tok2vec"]["grad_factor"] == 0.0
    out = tmp_path / "out"
    train(cfg_path, out, use_gpu=-1, overrides={"training.max_steps": 4, "training.eval_frequency": 2})
    nlp = spacy.load(out / "model-last")
    base = dict(BertModel.from_pretrained(str(tiny_bert)).named_parameters())
    trained = _encoder_weights(nlp)
    shared = [k for k in base if k in trained]
    assert len(shared) == len(base)
    assert all(bool((trained[k] == base[k].detach()).all()) for k in shared)
    cats = nlp("patient with chest pain .").cats
    assert set(cats) == {"Cardiology", "Neurology", "Dermatology"}
    # The other choices: fine-tuning when asked, and on a GPU.
    for kwargs in ({"encoder": "fine-tune"}, {"hardware": "gpu"}):
        text = init_config(corpus, None, base_model=str(tiny_bert), **kwargs)
        assert Config().from_str(text, interpolate=False)["training"]["frozen_components"] == []
    # Token-level layers keep fine-tuning on a CPU too.
    (tmp_path / "p").mkdir()
    partial = _convert("partial", tmp_path / "p")
    text = init_config(partial, None, base_model=str(tiny_bert))
    assert Config().from_str(text, interpolate=False)["training"]["frozen_components"] == []


def test_layer_balanced_reader_repeats_the_sparse_layer_and_drops_nothing(tmp_path, capsys):
    from spacy.util import registry

    from spacy_clinicalbert.corpus.layer_balance import repeat_factor

    corpus = _convert("partial", tmp_path)
    nlp = spacy.blank("en")
    plain = list(registry.readers.get("spacy-clinicalbert.Corpus.v1")(corpus / "train.spacy")(nlp))
    reader = registry.readers.get("spacy-clinicalbert.LayerBalancedCorpus.v1")(
        corpus / "train.spacy", {"entities": 0.5})
    balanced = list(reader(nlp))
    with_ents = [eg for eg in plain if annotates(eg.reference, ENTITIES)]
    n_with, n_without = len(with_ents), len(plain) - len(with_ents)
    assert 0 < n_with < n_without
    k = repeat_factor(n_with, n_without, 0.5)
    assert k >= 2 and (k - 1) * n_with < n_without <= k * n_with
    texts = sorted(eg.reference.text for eg in balanced)
    expected = sorted([eg.reference.text for eg in plain if not annotates(eg.reference, ENTITIES)]
                      + [eg.reference.text for eg in with_ents] * k)
    assert texts == expected  # every doc kept, each entity doc read k times
    share = sum(annotates(eg.reference, ENTITIES) for eg in balanced) / len(balanced)
    assert share >= 0.5
    said = capsys.readouterr().out
    assert f"{n_with} of {len(plain)} docs annotate entities" in said and f"read {k} time" in said
    list(reader(nlp))  # read again (spacy train reads at init and to train): said once
    assert "docs annotate entities" not in capsys.readouterr().out
    assert repeat_factor(10, 5, 0.5) == 1 and repeat_factor(0, 5, 0.5) == 1
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        reader_bad = registry.readers.get("spacy-clinicalbert.LayerBalancedCorpus.v1")
        reader_bad(corpus / "train.spacy", {"entities": 1.0})
    with pytest.raises(ValueError, match="unknown annotation layer"):
        registry.readers.get("spacy-clinicalbert.LayerBalancedCorpus.v1")(
            corpus / "train.spacy", {"entity": 0.5})


def write_brat_sparse_relations(folder: Path, n: int = 30) -> Path:
    """Many entities a line, one relation among them, head and tail up to 11 tokens apart."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(6)
    for i in range(n):
        words = [rng.choice(AES) for _ in range(14)]
        text = " ".join(words) + "\n"
        starts = [sum(len(w) + 1 for w in words[:k]) for k in range(len(words))]
        ann = [f"T{k + 1}\tCondition {s} {s + len(w)}\t{w}" for k, (s, w) in enumerate(zip(starts, words))]
        gap = 1 + i % 11  # tokens between head (word 0) and tail
        ann.append(f"R1\tOR Arg1:T1 Arg2:T{gap + 2}")
        (folder / f"NCT{i:08d}_exc.txt").write_text(text, encoding="utf8")
        (folder / f"NCT{i:08d}_exc.ann").write_text("\n".join(ann) + "\n", encoding="utf8")
    return folder


def _relation_settings(config) -> tuple:
    rel = config["components"]["clinical_relations"]
    return rel["candidates"]["max_distance"], rel["training_pairs"]["negative_ratio"]


def test_relation_candidates_follow_the_training_relations(tmp_path):
    """max_distance reaches 99.5 % of the training relations (the next of 8/16/32/100);
    negatives are sampled (20 per positive) only where relations are sparse among the pairs of
    gold entities, and all kept where every gold pair is related (ADE's shape)."""
    (tmp_path / "dense").mkdir()
    dense = _convert("partial", tmp_path / "dense")
    profile = profile_corpus(dense)
    assert profile.gold_negatives_per_positive == 0.0
    assert _relation_settings(Config().from_str(init_config(dense), interpolate=False)) == (8, -1)
    sparse = tmp_path / "sparse"
    convert("brat", write_brat_sparse_relations(tmp_path / "brat"), sparse, ratios=(1.0, 0.0, 0.0))
    profile = profile_corpus(sparse)
    assert profile.relation_gap_quantile == 11
    assert profile.gold_negatives_per_positive > 5
    text = init_config(sparse)
    assert _relation_settings(Config().from_str(text, interpolate=False)) == (16, 20.0)
    assert "Relations are sparse here" in text


def test_relation_settings_of_the_public_corpora(shared_data, tmp_path):
    """On the real corpora: Chia's relations are close but sparse (32 tokens, negatives
    sampled), ADE's farther apart in a sentence but every gold pair related (100, all kept)."""
    chia = tmp_path / "chia"
    convert("brat", shared_data / "chia" / "chia_without_scope", chia, on_invalid="skip",
            on_mismatch="keep")
    profile = profile_corpus(chia)
    assert (profile.relation_max_distance, profile.relation_negative_ratio) == (32, 20.0)
    ade = tmp_path / "ade"
    convert("ade", shared_data / "ade_corpus_v2", ade)
    profile = profile_corpus(ade)
    assert (profile.relation_max_distance, profile.relation_negative_ratio) == (100, -1.0)
