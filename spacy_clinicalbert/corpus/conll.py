"""CoNLL-style token-per-line files: IOB (IOB1), IOB2 or BILUO tags.

- One token per line, columns split on whitespace; `token_column` (default 0) and
  `tag_column` (default -1, the last) pick the columns.
- Blank lines end sentences; `-DOCSTART-` lines end documents. Without any
  `-DOCSTART-`, each sentence is a document.
- Docs are built from the given tokens (no re-tokenization), with sentence starts set.
- `scheme="auto"` picks BILUO when an `L-`/`U-` tag occurs, else IOB2 when a `B-` tag
  occurs, else IOB1. In IOB2 an `I-` tag that continues nothing starts an entity
  (counted as a repair); in BILUO it is an error. Unknown tags are errors.
- Split group: file stem plus document number.
"""
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from ..layers import ENTITIES
from .files import iter_lines
from .records import AnnotatedText, CorpusError, EntityAnn
from .stats import ConversionStats

SCHEMES = ("auto", "iob", "iob2", "biluo")
Token = Tuple[str, str, str, bool]  # word, tag, where, starts a sentence


def _documents(
    path: Path, token_column: int, tag_column: int, on_invalid: str, stats
) -> List[List[Token]]:
    docs: List[List[Token]] = [[]]
    saw_docstart = False
    sentence_start = True
    for number, raw in enumerate(iter_lines(path), 1):
        where = f"{path}:{number}"
        line = raw.strip()
        if not line:
            sentence_start = True
            continue
        cols = line.split()
        if cols[0] == "-DOCSTART-":
            saw_docstart = True
            if docs[-1]:
                docs.append([])
            sentence_start = True
            continue
        try:
            word, tag = cols[token_column], cols[tag_column]
        except IndexError:
            if on_invalid == "error":
                raise CorpusError(
                    where,
                    f"line has {len(cols)} columns; token column {token_column} / tag column "
                    f"{tag_column} missing",
                ) from None
            stats.omit("conll_invalid_line", where)
            continue
        docs[-1].append((word, tag, where, sentence_start))
        sentence_start = False
    docs = [d for d in docs if d]
    if not saw_docstart:
        # Each sentence is its own document.
        sentences: List[List[Token]] = []
        for doc in docs:
            for tok in doc:
                if tok[3] or not sentences:
                    sentences.append([])
                sentences[-1].append(tok)
        docs = sentences
    return docs


def _detect(tags: List[str]) -> str:
    prefixes = {t.split("-", 1)[0] for t in tags if "-" in t}
    if prefixes & {"L", "U"}:
        return "biluo"
    if "B" in prefixes:
        return "iob2"
    return "iob"


def decode_tags(
    tokens: List[Token], scheme: str, stats: ConversionStats
) -> List[Tuple[int, int, str, str]]:
    """(start token, end token, label, where) of each entity."""
    spans = []
    current: Optional[List] = None  # [start, label, where]
    for i, (_word, tag, where, sent_start) in enumerate(tokens):
        if tag == "O" or tag == "-":
            if current is not None:
                if scheme == "biluo":
                    raise CorpusError(
                        where,
                        f"{tag!r} inside the {current[1]} entity opened at {current[2]} (BILUO "
                        "closes with L-)",
                    )
                spans.append((current[0], i, current[1], current[2]))
                current = None
            continue
        prefix, sep, label = tag.partition("-")
        if not sep or prefix not in ("B", "I", "L", "U", "E", "S") or not label:
            raise CorpusError(
                where,
                f"unknown tag {tag!r} (expected O or "
                f"B-/I-{'/L-/U-' if scheme == 'biluo' else ''}LABEL)",
            )
        if scheme != "biluo" and prefix in ("L", "U", "E", "S"):
            raise CorpusError(where, f"tag {tag!r} is not valid in the {scheme} scheme")
        continues = current is not None and current[1] == label and not sent_start
        if scheme == "biluo":
            if prefix in ("B", "U"):
                if current is not None:
                    raise CorpusError(
                        where,
                        f"{tag!r} starts an entity while {current[1]} (from {current[2]}) is open",
                    )
                if prefix == "U":
                    spans.append((i, i + 1, label, where))
                else:
                    current = [i, label, where]
            else:  # I or L must continue the open entity
                if not continues:
                    raise CorpusError(where, f"{tag!r} does not continue an open {label} entity")
                assert current is not None  # `continues` means an entity is open
                if prefix == "L":
                    spans.append((current[0], i + 1, label, current[2]))
                    current = None
            continue
        if prefix == "B" or not continues:
            if prefix == "I" and scheme == "iob2":
                stats.repair("conll_iob2_I_starts_entity", where)
            if current:
                spans.append((current[0], i, current[1], current[2]))
            current = [i, label, where]
    if current:
        if scheme == "biluo":
            raise CorpusError(current[2], f"{current[1]} entity is never closed with L-")
        spans.append((current[0], len(tokens), current[1], current[2]))
    return spans


def read_conll(
    path: Path,
    stats: ConversionStats,
    *,
    on_invalid: str = "error",
    token_column: int = 0,
    tag_column: int = -1,
    scheme: str = "auto",
) -> Iterator[AnnotatedText]:
    path = Path(path)
    if scheme not in SCHEMES:
        raise CorpusError(
            str(path), f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}"
        )
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if not path.exists() or not files:
        raise CorpusError(str(path), "input not found")
    for file in files:
        docs = _documents(file, token_column, tag_column, on_invalid, stats)
        file_scheme = scheme if scheme != "auto" else _detect([t[1] for d in docs for t in d])
        for n, tokens in enumerate(docs, 1):
            words = [t[0] for t in tokens]
            try:
                spans = decode_tags(tokens, file_scheme, stats)
            except CorpusError:
                if on_invalid == "error":
                    raise
                stats.omit("conll_invalid_document", tokens[0][2])
                continue
            offsets, pos = [], 0
            for word in words:
                offsets.append((pos, pos + len(word)))
                pos += len(word) + 1
            entities = [
                EntityAnn(
                    f"{file.stem}:{n}:{s}-{e}", label, [(offsets[s][0], offsets[e - 1][1])], where
                )
                for s, e, label, where in spans
            ]
            yield AnnotatedText(
                id=f"{file.stem}:{n}",
                text=" ".join(words),
                source=tokens[0][2],
                group=f"{file.stem}:{n}",
                entities=entities,
                layers=frozenset({ENTITIES}),  # an IOB file tags every token
                words=words,
                spaces=[True] * (len(words) - 1) + [False],
                sent_starts=[t[3] or i == 0 for i, t in enumerate(tokens)],
            )
