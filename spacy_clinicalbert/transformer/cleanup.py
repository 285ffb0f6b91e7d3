"""Drop transformer output from docs once every listener has read it."""
from spacy.language import Language
from spacy.tokens import Doc

CLEANUP_FACTORY = "clinicalbert_cleanup"


class TrfDataCleanup:
    """Sets `doc._.trf_data` to None; place it after the last listener."""

    def __init__(self, name: str = CLEANUP_FACTORY):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        if Doc.has_extension("trf_data"):
            doc._.trf_data = None
        return doc


@Language.factory(CLEANUP_FACTORY, requires=["doc._.trf_data"])
def make_trf_data_cleanup(nlp: Language, name: str) -> TrfDataCleanup:
    """Keep memory flat in long `nlp.pipe` runs; remove it to keep hidden states."""
    return TrfDataCleanup(name)
