"""The offline recipe for QuickUMLS's NLTK stop words, with medspaCy's sample UMLS data."""
import json
import os
import subprocess
import sys

import pytest

RUN = r"""
import json, socket, sys
def refuse(*args, **kwargs):
    raise OSError("network blocked")
socket.create_connection = refuse
socket.socket.connect = refuse
import nltk
def no_download(*args, **kwargs):
    raise AssertionError("nltk.download called")
nltk.download = no_download
from spacy_clinicalbert.rules.quickumls import prepare_nltk_stopwords
prepare_nltk_stopwords(sys.argv[1])
import spacy
import medspacy  # registers medspacy_quickumls
nlp = spacy.blank("en")
nlp.add_pipe("medspacy_quickumls")  # medspaCy's small UMLS sample
doc = nlp("Decreased dipalmitoyllecithin content found in lung specimens.")
print(json.dumps({"ents": [[e.text, e.label_] for e in doc.ents], "n_stop": len(nltk.corpus.stopwords.words("english"))}))
"""


def test_quickumls_runs_offline_with_prepared_stopwords(tmp_path):
    pytest.importorskip("quickumls")
    env = {k: v for k, v in os.environ.items() if k != "NLTK_DATA"}
    env["HOME"] = str(tmp_path)  # no ~/nltk_data left over from elsewhere
    proc = subprocess.run([sys.executable, "-c", RUN, str(tmp_path / "nltk_data")], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["n_stop"] > 300
    # The sample holds a handful of concepts; C0000039 is one of them.
    assert got["ents"] == [["dipalmitoyllecithin", "C0000039"]], got


def test_empty_stopword_list_is_refused(tmp_path):
    from spacy_clinicalbert.rules.quickumls import prepare_nltk_stopwords

    with pytest.raises(ValueError, match="empty"):
        prepare_nltk_stopwords(tmp_path, words=[" "])
