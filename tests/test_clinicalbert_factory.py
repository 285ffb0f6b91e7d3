"""The clinicalbert factory: found by entry points, clinical defaults, flat memory."""
import subprocess
import sys

import spacy

from spacy_clinicalbert.transformer.component import ClinicalBert


def test_found_through_entry_points_without_import():
    code = (
        "import sys, spacy\n"
        "from importlib.metadata import entry_points\n"
        "eps = {ep.name: ep.value for ep in entry_points(group='spacy_factories')}\n"
        "assert eps['clinicalbert'].startswith('spacy_clinicalbert.'), eps\n"
        "nlp = spacy.blank('en')\n"
        "pipe = nlp.add_pipe('clinicalbert')\n"
        "nlp.add_pipe('ner'); nlp.add_pipe('textcat_multilabel')\n"
        "from spacy_transformers import Transformer\n"
        "assert isinstance(pipe, Transformer), type(pipe)\n"
        "cfg = nlp.config['components']['clinicalbert']['model']\n"
        "assert cfg['@architectures'] == 'spacy-clinicalbert.ClinicalBertTransformer.v1'\n"
        "assert cfg['name'] == 'emilyalsentzer/Bio_ClinicalBERT' and cfg['max_length'] == 512\n"
        "print('ok', nlp.pipe_names)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ok ['clinicalbert', 'ner', 'textcat_multilabel']" in proc.stdout


def test_tokenizer_gets_max_length_and_fast(tiny_bert, tmp_path):
    # A copy of the tiny model whose tokenizer files lack model_max_length,
    # as Bio_ClinicalBERT's do.
    import json
    import shutil

    folder = tmp_path / "no_max_len"
    shutil.copytree(tiny_bert, folder)
    cfg_file = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg.pop("model_max_length", None)
    cfg_file.write_text(json.dumps(cfg))
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(folder)}})
    nlp.initialize()
    tokenizer = nlp.get_pipe("clinicalbert").model.tokenizer
    assert tokenizer.model_max_length == 512
    assert tokenizer.is_fast


def test_config_max_batch_items_wins_over_stored_cfg(tiny_bert, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}, "max_batch_items": 4096})
    nlp.initialize()
    nlp.to_disk(tmp_path / "saved")
    assert spacy.load(tmp_path / "saved").get_pipe("clinicalbert").cfg["max_batch_items"] == 4096
    override = {"components": {"clinicalbert": {"max_batch_items": 20000}}}
    loaded = spacy.load(tmp_path / "saved", config=override)
    assert loaded.get_pipe("clinicalbert").cfg["max_batch_items"] == 20000
    copy = spacy.blank("en")
    copy.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}, "max_batch_items": 8192})
    copy.get_pipe("clinicalbert").from_bytes(loaded.get_pipe("clinicalbert").to_bytes())
    assert copy.get_pipe("clinicalbert").cfg["max_batch_items"] == 8192
    docs = list(loaded.pipe(["patient denies chest pain", "no fever"]))
    assert len(docs) == 2


def test_trf_data_released_after_last_listener(tiny_bert):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    nlp.initialize()
    assert nlp.pipe_names == ["clinicalbert", "clinicalbert_cleanup"]
    docs = list(nlp.pipe(["patient denies chest pain"] * 5))
    assert all(doc._.trf_data is None for doc in docs)


def test_trf_data_kept_when_asked(tiny_bert):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert",
                 config={"model": {"name": str(tiny_bert)}, "release_trf_data": False})
    nlp.initialize()
    assert nlp.pipe_names == ["clinicalbert"]
    doc = nlp("patient denies chest pain")
    assert doc._.trf_data is not None
    assert isinstance(nlp.get_pipe("clinicalbert"), ClinicalBert)


def test_mixed_precision_off_on_cpu(tiny_bert):
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    assert pipe.model.layers[0].shims[0]._mixed_precision is False


def test_empty_and_whitespace_docs(tiny_bert):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert",
                 config={"model": {"name": str(tiny_bert)}, "release_trf_data": False})
    nlp.initialize()
    docs = list(nlp.pipe(["", "   ", "pain", ""]))
    assert [len(doc) for doc in docs] == [0, 1, 1, 0]
    assert docs[2]._.trf_data.align.lengths[0] > 0
