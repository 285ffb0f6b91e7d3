"""Gold docs in, predicted docs out, paired as Examples, with the time `nlp.pipe` took.

The pipeline runs on the gold *text*, not on the gold tokens: a pipeline's own
tokenizer may split differently, and spaCy's Example aligns the two tokenizations.
The one pass that makes the predictions is also the one that is timed. Transformer
output (`doc._.trf_data`) is dropped from each kept doc, as `clinicalbert_cleanup`
does, so a pipeline without that component does not hold every hidden state.
"""
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Tuple

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.vocab import Vocab

from .errors import EvaluationError


@dataclass
class Speed:
    docs: int
    words: int
    seconds: float
    batch_size: int

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> Dict:
        return dict(asdict(self), words_per_second=self.words_per_second)


def read_gold_docs(path: Path, vocab: Vocab) -> List[Doc]:
    """All docs of a DocBin file, with their user data (relations, extension values)."""
    path = Path(path)
    if not path.exists():
        raise EvaluationError(f"Data file not found: {path}")
    if path.is_dir():
        raise EvaluationError(f"{path} is a folder; give a .spacy DocBin file.")
    try:
        doc_bin = DocBin().from_disk(path)
    except Exception as err:  # msgpack/zlib errors: anything that is not a DocBin
        raise EvaluationError(
            f"{path}: not a readable spaCy DocBin ({type(err).__name__}: {err})"
        ) from err
    docs = list(doc_bin.get_docs(vocab))
    if not docs:
        raise EvaluationError(f"{path}: the DocBin holds no documents.")
    return docs


def predict(
    nlp: Language, gold_docs: List[Doc], *, batch_size: int = 32, progress: bool = True
) -> Tuple[List[Example], Speed]:
    """Run `nlp.pipe` over the gold texts once, timed, and pair each result with its gold doc."""
    from tqdm import tqdm

    texts = (doc.text for doc in gold_docs)
    predicted: List[Doc] = []
    has_trf_data = Doc.has_extension("trf_data")
    start = time.perf_counter()
    for doc in tqdm(
        nlp.pipe(texts, batch_size=batch_size),
        total=len(gold_docs), desc="evaluate", unit="doc", disable=not progress,
    ):
        if has_trf_data:
            doc._.trf_data = None
        predicted.append(doc)
    seconds = time.perf_counter() - start
    examples = []
    for i, (pred, gold) in enumerate(zip(predicted, gold_docs, strict=True)):
        if pred.text != gold.text:
            raise EvaluationError(
                f"Doc {i}: the pipeline changed the text ({len(gold.text)} -> {len(pred.text)} "
                "characters), so predictions cannot be aligned with the gold annotations."
            )
        examples.append(Example(pred, gold))
    speed = Speed(
        docs=len(predicted), words=sum(len(doc) for doc in predicted), seconds=seconds,
        batch_size=batch_size,
    )
    return examples, speed
