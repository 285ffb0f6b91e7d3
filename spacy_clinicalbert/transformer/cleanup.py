"""Drop transformer output from docs once every listener has read it, and keep the
process's resident memory flat over long `nlp.pipe` runs."""
from spacy.language import Language
from spacy.tokens import Doc

from .memory import release_free_memory

CLEANUP_FACTORY = "clinicalbert_cleanup"


class TrfDataCleanup:
    """Sets `doc._.trf_data` to None; place it after the last listener.

    Every `trim_memory_every` docs it also hands freed heap memory back to the OS
    (glibc `malloc_trim`), which otherwise stays with the process (0 turns it off).
    """

    def __init__(self, name: str = CLEANUP_FACTORY, trim_memory_every: int = 64):
        if trim_memory_every < 0:
            raise ValueError(
                f"{CLEANUP_FACTORY}: trim_memory_every must be >= 0 (0 = off), got "
                f"{trim_memory_every}."
            )
        self.name = name
        self.trim_memory_every = int(trim_memory_every)
        self._since_trim = 0

    def __call__(self, doc: Doc) -> Doc:
        if Doc.has_extension("trf_data"):
            doc._.trf_data = None
        if self.trim_memory_every:
            self._since_trim += 1
            if self._since_trim >= self.trim_memory_every:
                self._since_trim = 0
                release_free_memory()
        return doc


@Language.factory(
    CLEANUP_FACTORY,
    requires=["doc._.trf_data"],
    default_config={"trim_memory_every": 64},
)
def make_trf_data_cleanup(nlp: Language, name: str, trim_memory_every: int) -> TrfDataCleanup:
    """Keep memory flat in long `nlp.pipe` runs; remove it to keep hidden states."""
    return TrfDataCleanup(name, trim_memory_every=trim_memory_every)
