"""QuickUMLS offline: give it the NLTK stop words it would otherwise download.

QuickUMLS (medspaCy's `medspacy_quickumls`, optional: it needs a UMLS-derived
database, which we do not ship) calls `nltk.download("stopwords")` when
`nltk.corpus.stopwords` is missing: offline that fails or hangs. NLTK only needs
the file `<NLTK_DATA>/corpora/stopwords/english` (one word per line).

Recipe (no network):

    from spacy_clinicalbert.rules.quickumls import prepare_nltk_stopwords
    prepare_nltk_stopwords("/opt/nltk_data")          # or any writable folder
    nlp.add_pipe("medspacy_quickumls", config={"quickumls_fp": "/path/to/QuickUMLS"})

or from a shell, once per machine or image, then `export NLTK_DATA=/opt/nltk_data`:

    python -c "from spacy_clinicalbert.rules.quickumls import prepare_nltk_stopwords as p; \\
        p('/opt/nltk_data')"

By default the words are spaCy's English stop words (326 words; NLTK's own list has
179, so QuickUMLS skips a few more candidate n-grams at their edges). To get NLTK's
exact list, copy `corpora/stopwords` from a machine where `nltk.download("stopwords")`
worked, or pass your list as `words`.
"""
import os
import sys
from pathlib import Path
from typing import Iterable, Optional, Union


def prepare_nltk_stopwords(
    nltk_data: Union[str, Path], words: Optional[Iterable[str]] = None, *, language: str = "english"
) -> Path:
    """Write `<nltk_data>/corpora/stopwords/<language>` and point NLTK at `nltk_data`.

    Returns the file written. Sets `NLTK_DATA` for this process (and child
    processes) and, if NLTK is already imported, adds the folder to its search path.
    """
    if words is None:
        from spacy.lang.en.stop_words import STOP_WORDS

        words = STOP_WORDS
    words = sorted({w.strip().lower() for w in words if w and w.strip()})
    if not words:
        raise ValueError("prepare_nltk_stopwords: the stop-word list is empty.")
    root = Path(nltk_data).absolute()
    target = root / "corpora" / "stopwords" / language
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(words) + "\n", encoding="utf8")
    paths = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    if str(root) not in paths:
        os.environ["NLTK_DATA"] = os.pathsep.join([str(root)] + paths)
    if "nltk" in sys.modules:
        import nltk

        if str(root) not in nltk.data.path:
            nltk.data.path.insert(0, str(root))
    return target
