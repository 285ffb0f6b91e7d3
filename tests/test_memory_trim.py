"""clinicalbert_cleanup hands freed heap memory back every `trim_memory_every` docs."""
import platform

import pytest
import spacy

from spacy_clinicalbert.transformer import cleanup, memory


def test_release_free_memory_works_on_glibc():
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert memory.release_free_memory() is True
    else:
        assert memory.release_free_memory() in (True, False)


@pytest.mark.parametrize("every,n_docs,expected", [(3, 10, 3), (1, 4, 4), (0, 10, 0), (20, 10, 0)])
def test_cleanup_trims_every_n_docs(monkeypatch, every, n_docs, expected):
    calls = []
    monkeypatch.setattr(cleanup, "release_free_memory", lambda: calls.append(1) or True)
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert_cleanup", config={"trim_memory_every": every})
    list(nlp.pipe(f"note {i}" for i in range(n_docs)))
    assert len(calls) == expected


def test_cleanup_rejects_negative_interval():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="trim_memory_every"):
        nlp.add_pipe("clinicalbert_cleanup", config={"trim_memory_every": -1})
