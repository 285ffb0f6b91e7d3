"""The `clinicalbert` factory: a spacy-transformers Transformer with clinical defaults.

spacy-transformers' TransformerListener finds it as it finds `transformer`, so
`ner`, `textcat` and `clinical_relations` listen to it the usual way.
"""
from typing import Callable, Dict, Iterable, Iterator, List, Optional

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch
from spacy_transformers.data_classes import FullTransformerBatch
from spacy_transformers.pipeline_component import Transformer
from thinc.api import Config, Model, Optimizer

from .batching import batch_by_total_tokens
from .cleanup import CLEANUP_FACTORY
from .upstream import install_extensions, received_outputs

DEFAULT_CONFIG_STR = """
[clinicalbert]
max_batch_items = 16384
release_trf_data = true

[clinicalbert.set_extra_annotations]
@annotation_setters = "spacy-transformers.null_annotation_setter.v1"

[clinicalbert.model]
@architectures = "spacy-clinicalbert.ClinicalBertTransformer.v1"
name = "emilyalsentzer/Bio_ClinicalBERT"
max_length = 512
window = 96
stride = 72
tokenizer_config = {"use_fast": true}
transformer_config = {}
mixed_precision = null
grad_scaler_config = {}
inference_chunk_wordpieces = 2048
"""
DEFAULT_CONFIG = Config().from_str(DEFAULT_CONFIG_STR)


class ClinicalBert(Transformer):
    """A Transformer that releases `doc._.trf_data` after the last listener.

    With `release_trf_data`, initializing the pipeline appends a
    `clinicalbert_cleanup` component when there is none, so docs returned by
    `nlp.pipe` do not keep every hidden state alive.

    `max_batch_items` keeps spacy-transformers' name (configs and saved pipelines
    carry it) but not its unit: here it is the most spaCy tokens per encoder call,
    summed over the docs of the call; spacy-transformers counts docs x longest doc.
    Windows, not whole docs, are padded here, so only the total matters (batching).

    `update` leaves the batch's encoder outputs on the predicted docs as `doc._.trf_data`,
    so a component that annotates while training (the recognizer whose entities the relation
    head trains on) reads them there: `clinicalbert` itself need not be in
    `[training] annotating_components`, where spaCy would encode every batch a second time.
    """

    def __init__(self, vocab, model, set_extra_annotations, *, name, max_batch_items,
                 release_trf_data: bool):
        super().__init__(vocab, model, set_extra_annotations, name=name,
                         max_batch_items=max_batch_items)
        self.release_trf_data = release_trf_data

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        install_extensions()
        for outer_batch in minibatch(stream, batch_size):
            outer_batch = list(outer_batch)
            for indices in batch_by_total_tokens(outer_batch, self.cfg["max_batch_items"]):
                subbatch = [outer_batch[i] for i in indices]
                self.set_annotations(subbatch, self.predict(subbatch))
            yield from outer_batch

    def update(self, examples: Iterable[Example], *, drop: float = 0.0,
               sgd: Optional[Optimizer] = None,
               losses: Optional[Dict[str, float]] = None) -> Dict[str, float]:
        """spacy-transformers' update; then each predicted doc holds its own training-forward
        output (dropout on) until the batch ends, as `set_annotations` would set it."""
        examples = list(examples)
        losses = super().update(examples, drop=drop, sgd=sgd, losses=losses)
        outputs = received_outputs(self.listeners[-1]) if self.listeners else None
        if outputs is not None and len(outputs) == len(examples):
            install_extensions()
            for eg, data in zip(examples, outputs, strict=True):
                eg.predicted._.trf_data = data
        return losses

    def from_disk(self, path, *, exclude=tuple()) -> "ClinicalBert":
        return self._load_keeping_config(super().from_disk, path, exclude=exclude)

    def from_bytes(self, bytes_data, *, exclude=tuple()) -> "ClinicalBert":
        return self._load_keeping_config(super().from_bytes, bytes_data, exclude=exclude)

    def _load_keeping_config(self, load: Callable, *args, **kwargs) -> "ClinicalBert":
        """Load weights; the settings in config.cfg win over the copy spacy-transformers stores.

        spacy-transformers saves `cfg` (`max_batch_items`) beside the weights and restores it
        over what the config gave, so editing config.cfg, or
        `spacy.load(path, config={"components": {"clinicalbert": {"max_batch_items": N}}})`,
        would have no effect on a saved pipeline.
        """
        configured = dict(self.cfg)
        load(*args, **kwargs)
        self.cfg.update(configured)
        return self

    def initialize(self, get_examples: Callable, *, nlp: Optional[Language] = None) -> None:
        super().initialize(get_examples, nlp=nlp)
        if nlp is None or not self.release_trf_data:
            return
        factories = {nlp.get_pipe_meta(name).factory for name in nlp.pipe_names}
        if CLEANUP_FACTORY not in factories:
            nlp.add_pipe(CLEANUP_FACTORY, name=f"{self.name}_cleanup", last=True)


@Language.factory(
    "clinicalbert",
    assigns=["doc._.trf_data"],
    default_config=DEFAULT_CONFIG["clinicalbert"],
)
def make_clinicalbert(
    nlp: Language,
    name: str,
    model: Model[List[Doc], FullTransformerBatch],
    set_extra_annotations: Callable[[List[Doc], FullTransformerBatch], None],
    max_batch_items: int,
    release_trf_data: bool,
) -> ClinicalBert:
    """ClinicalBERT (or any BERT-style encoder) as a shared transformer component.

    `max_batch_items`: most spaCy tokens per encoder call in `nlp.pipe`, counted as the
    sum of the docs' tokens (not spacy-transformers' docs x longest doc).
    """
    return ClinicalBert(
        nlp.vocab,
        model,
        set_extra_annotations,
        name=name,
        max_batch_items=max_batch_items,
        release_trf_data=release_trf_data,
    )
