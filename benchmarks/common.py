"""What the benchmark scripts share: where things are, MTSamples notes, and process measurements.

Scripts import it as `benchmarks.common`. Run as `python benchmarks/bench_x.py`, a script
first puts the repository root on `sys.path` (see `benchmarks/__init__.py`).

The data folder is `$SPACY_CLINICALBERT_DATA` when set, else `../shared/data` beside the
repository (the tests read the same variable).
"""
import csv
import gc
import os
import random
import re
import resource
import warnings
from pathlib import Path
from typing import Iterator, List

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SPACY_CLINICALBERT_DATA") or REPO.parent / "shared" / "data").expanduser()
RESULTS = REPO / "benchmarks" / "results"
MTSAMPLES = DATA / "mtsamples" / "mtsamples.csv"


def quiet_offline() -> None:
    """What the encoder benchmarks set first: no hub calls, no tokenizer threads of its own,
    and none of the per-call Future/UserWarnings (thinc's autocast, ...) in the output."""
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# ---------------------------------------------------------------- texts
def distinct_mtsamples() -> Iterator[str]:
    """MTSamples transcriptions in file order, stripped, without empty ones and copies
    (only 2,357 of 4,966 are distinct: one note sits under several specialties)."""
    seen = set()
    with MTSAMPLES.open(newline="", encoding="utf8") as fh:
        for row in csv.DictReader(fh):
            text = (row.get("transcription") or "").strip()
            if text and text not in seen:
                seen.add(text)
                yield text


def mtsamples_texts(limit: int, max_words: int = 0) -> List[str]:
    """`limit` distinct notes in a fixed random order, each cut to `max_words` words (0: whole)."""
    texts = [" ".join(t.split(" ")[:max_words]) if max_words else t for t in distinct_mtsamples()]
    random.Random(0).shuffle(texts)
    return texts[:limit]


def sentences(texts: List[str]) -> List[str]:
    """Sentences of four or more words, split after . ! or ?."""
    out = []
    for text in texts:
        out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4)
    return out


def synthetic_note(pool: List[str], n_words: int, rng: random.Random) -> str:
    """A note of about n_words whitespace words: MTSamples sentences drawn at random."""
    parts, count = [], 0
    while count < n_words:
        sent = rng.choice(pool)
        parts.append(sent)
        count += len(sent.split())
    return " ".join(parts)


def count_words(nlp, texts) -> int:
    """Tokens as the pipeline's tokenizer counts them (the unit of words/s)."""
    return sum(len(nlp.make_doc(t)) for t in texts)


# ---------------------------------------------------------------- the process
def rss_mb(field: str = "VmRSS") -> float:
    """Resident (VmRSS) or peak (VmHWM) memory of this process in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load1() -> float:
    """The 1-minute load average, recorded beside every figure (the cores are shared)."""
    return os.getloadavg()[0]


def pin_to_cpus(n_threads: int, cpus: List[int]) -> List[int]:
    """Keep this process on the first n_threads of `cpus` (unpinned 1-thread runs hop between CPUs)."""
    os.sched_setaffinity(0, cpus[:n_threads])
    return sorted(os.sched_getaffinity(0))


def freeze_loaded_objects() -> None:
    """Move everything loaded so far out of Python's full garbage collections, as a service would.

    A loaded pipeline holds ~470,000 Python objects; one full collection walked them in 0.33 s,
    landing at random in whichever run triggered it.
    """
    gc.collect()
    gc.freeze()
