"""`spacy-clinicalbert.initialize_frozen.v1`: load a frozen encoder's weights at `spacy train`.

spaCy leaves frozen components uninitialized (it expects them sourced from a trained pipeline),
so a config that freezes `clinicalbert` on a fresh base model would train its heads on an
encoder that never loaded its weights. This callback, set as `[initialize.before_init]`,
initializes the named components from one placeholder doc before the rest of the pipeline: the
transformer only needs a doc to build its shapes; its weights come from `paths.base_model`.
"""
from typing import Callable, List

from spacy.language import Language
from spacy.training import Example
from spacy.util import registry


@registry.callbacks("spacy-clinicalbert.initialize_frozen.v1")
def initialize_frozen_v1(components: List[str]) -> Callable[[Language], Language]:
    """The before_init callback that initializes `components` (normally those in
    `[training] frozen_components` that do not come from a `source`)."""

    def before_init(nlp: Language) -> Language:
        for name in components:
            pipe = nlp.get_pipe(name)
            doc = nlp.make_doc("initialize")
            # spaCy types get_pipe as a plain callable; `doc=doc` binds this iteration's doc.
            pipe.initialize(  # type: ignore[attr-defined]
                lambda doc=doc: [Example(doc, doc.copy())], nlp=nlp
            )
            # spaCy runs this with the frozen pipes disabled, so the encoder's own initialize
            # did not see itself in `nlp.pipeline` and linked no listener: link them here,
            # from the full component list, so each listener learns the encoder's width.
            find_listeners = getattr(pipe, "find_listeners", None)
            if find_listeners is not None:
                for _, other in nlp.components:
                    if other is not pipe:
                        find_listeners(other)
        return nlp

    return before_init

