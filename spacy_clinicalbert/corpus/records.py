"""What every reader yields: one annotated text with character offsets, before tokenization.

Readers only parse; the builder (`docs.py`) tokenizes, aligns, chooses `doc.ents`
and adds relations, so all formats share one set of rules and one set of counts.
"""
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple


class CorpusError(ValueError):
    """Input that cannot be read or used: an annotated corpus, raw text to pretrain on,
    split lists, stats. The one error class of every reader, so callers (the CLI, the
    workflow) catch one thing; `spacy_clinicalbert.pretraining.CorpusError` is this class.

    `where` names the file and line (`notes.jsonl:12`), record or input; `problem` says
    what is wrong and, where it helps, what to do. The message is `where: problem`, or
    `problem` alone when no single place is at fault (`where` None or empty).
    """

    def __init__(self, where: Optional[str], problem: str):
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)

    def __reduce__(self):
        # Rebuilt from both parts, so the error survives pickling (worker processes).
        return (type(self), (self.where, self.problem))


@dataclass
class EntityAnn:
    """An entity: one fragment, or several for a discontinuous mention (BRAT `10 15;20 26`)."""

    id: str
    label: str
    fragments: List[Tuple[int, int]]
    where: str  # file:line or file:record, for messages
    text: Optional[str] = None  # the text the annotation claims, checked against the offsets

    @property
    def start(self) -> int:
        return min(s for s, _ in self.fragments)

    @property
    def end(self) -> int:
        return max(e for _, e in self.fragments)


@dataclass
class RelationAnn:
    head: str  # entity ids
    tail: str
    label: str
    where: str


@dataclass
class AttributeAnn:
    """A property of one entity (BRAT A/M lines, i2b2 assertions): kept as a labelled span."""

    target: str
    name: str
    value: Optional[str]
    where: str

    @property
    def span_label(self) -> str:
        return self.name if self.value in (None, "", True) else f"{self.name}={self.value}"


@dataclass
class AnnotatedText:
    id: str
    text: str
    source: str  # file the text came from
    group: str  # split group: nothing of one group lands in two splits
    entities: List[EntityAnn] = field(default_factory=list)
    relations: List[RelationAnn] = field(default_factory=list)
    attributes: List[AttributeAnn] = field(default_factory=list)
    cats: Dict[str, float] = field(default_factory=dict)
    # Given tokens (CoNLL): the doc is built from them instead of the tokenizer.
    words: Optional[List[str]] = None
    spaces: Optional[List[bool]] = None
    sent_starts: Optional[List[bool]] = None
    # The annotation layers (`spacy_clinicalbert.layers`) this text annotates; the
    # others are missing, not empty. None: the reader leaves it to `convert`, which
    # takes the layers that hold something.
    layers: Optional[FrozenSet[str]] = None
