"""i2b2 2010 / n2c2-style files: `name.txt` with `name.con`, and optionally `name.ast`, `name.rel`.

Offsets are `line:token` over whitespace-tokenized lines (lines from 1, tokens from 0),
the end token included:
- concept:   `c="chest pain" 12:4 12:5||t="problem"`
- assertion: `c="chest pain" 12:4 12:5||t="problem"||a="absent"` → attribute `assertion=absent`
- relation:  `c="lasix" 5:3 5:3||r="TrAP"||c="pain" 5:6 5:6` → relation TrAP, first concept → second
They are turned into character offsets on the text, so the doc is tokenized like
any other input. The files may sit side by side or in sub-folders (txt/, concept/, ...):
they are paired by file stem. Split group: the file stem.
"""
import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from ..layers import ATTRIBUTES, ENTITIES, RELATIONS
from .files import iter_lines, read_text
from .records import AnnotatedText, AttributeAnn, CorpusError, EntityAnn, RelationAnn
from .stats import ConversionStats

_CONCEPT = r'c="(.*?)" (\d+):(\d+) (\d+):(\d+)'
CON_LINE = re.compile(rf'^{_CONCEPT}\|\|t="([^"]*)"$')
AST_LINE = re.compile(rf'^{_CONCEPT}\|\|t="([^"]*)"\|\|a="([^"]*)"$')
REL_LINE = re.compile(rf'^{_CONCEPT}\|\|r="([^"]*)"\|\|{_CONCEPT}$')


class TokenIndex:
    """Character offsets of each whitespace token of each line."""

    def __init__(self, text: str):
        self.lines: List[List[Tuple[int, int]]] = []
        pos = 0
        for line in text.split("\n"):
            self.lines.append([(pos + m.start(), pos + m.end()) for m in re.finditer(r"\S+", line)])
            pos += len(line) + 1

    def char(self, line: int, token: int, where: str, end: bool) -> int:
        if not 1 <= line <= len(self.lines):
            raise CorpusError(where, f"line {line} is outside the text ({len(self.lines)} lines)")
        tokens = self.lines[line - 1]
        if not 0 <= token < len(tokens):
            raise CorpusError(where, f"token {token} is outside line {line} ({len(tokens)} tokens)")
        return tokens[token][1 if end else 0]


def _concept(index: TokenIndex, groups, where: str):
    text, l1, t1, l2, t2 = groups[0], *map(int, groups[1:5])
    start = index.char(l1, t1, where, end=False)
    end = index.char(l2, t2, where, end=True)
    if end <= start:
        raise CorpusError(where, f"concept {l1}:{t1} {l2}:{t2} ends before it starts")
    return text, start, end


def _lines(path: Path):
    for number, raw in enumerate(iter_lines(path), 1):
        line = raw.strip()
        if line:
            yield f"{path}:{number}", line


def _find_concept(
    entities: Dict[Tuple[int, int], EntityAnn], start: int, end: int, where: str
) -> EntityAnn:
    if (start, end) not in entities:
        raise CorpusError(where, "refers to a concept that is not in the .con file")
    return entities[start, end]


def read_i2b2(
    path: Path, stats: ConversionStats, *, on_invalid: str = "error"
) -> Iterator[AnnotatedText]:
    path = Path(path)
    if path.is_file():
        root, texts = path.parent, [path.with_suffix(".txt")]
    elif path.is_dir():
        root, texts = path, sorted(path.rglob("*.txt"))
    else:
        raise CorpusError(str(path), "input not found")
    by_stem: Dict[str, Dict[str, Path]] = {}
    for ext in ("con", "ast", "rel"):
        for file in root.rglob(f"*.{ext}"):
            by_stem.setdefault(file.stem, {})[ext] = file
    if not texts:
        raise CorpusError(str(path), "no .txt files found")
    for txt in texts:
        files = by_stem.get(txt.stem, {})
        if "con" not in files:
            if on_invalid == "error":
                raise CorpusError(str(txt), f"missing concept file {txt.stem}.con")
            stats.omit("i2b2_txt_without_con", str(txt))
            continue
        text = read_text(txt, newline="")
        index = TokenIndex(text)
        entities: Dict[Tuple[int, int], EntityAnn] = {}
        attributes, relations = [], []

        def invalid(where: str, what: str) -> None:
            if on_invalid == "error":
                raise CorpusError(
                    where, f"malformed {what} line (use --on-invalid skip to count and skip it)"
                )
            stats.omit(f"i2b2_invalid_{what}_line", where)

        for where, line in _lines(files["con"]):
            match = CON_LINE.match(line)
            if not match:
                invalid(where, "concept")
                continue
            ctext, start, end = _concept(index, match.groups(), where)
            if (start, end) in entities:
                stats.omit("i2b2_duplicate_concept", where)
                continue
            entities[start, end] = EntityAnn(
                f"{start}-{end}", match.group(6), [(start, end)], where, ctext
            )

        if "ast" in files:
            for where, line in _lines(files["ast"]):
                match = AST_LINE.match(line)
                if not match:
                    invalid(where, "assertion")
                    continue
                _, start, end = _concept(index, match.groups(), where)
                attributes.append(
                    AttributeAnn(
                        _find_concept(entities, start, end, where).id,
                        "assertion",
                        match.group(7),
                        where,
                    )
                )
        if "rel" in files:
            for where, line in _lines(files["rel"]):
                match = REL_LINE.match(line)
                if not match:
                    invalid(where, "relation")
                    continue
                groups = match.groups()
                _, hs, he = _concept(index, groups[0:5], where)
                _, ts, te = _concept(index, groups[6:11], where)
                relations.append(
                    RelationAnn(
                        _find_concept(entities, hs, he, where).id,
                        _find_concept(entities, ts, te, where).id,
                        groups[5],
                        where,
                    )
                )
        yield AnnotatedText(
            id=txt.stem,
            text=text,
            source=str(txt),
            group=txt.stem,
            entities=list(entities.values()),
            relations=relations,
            attributes=attributes,
            layers=frozenset(
                [ENTITIES] + [ATTRIBUTES] * ("ast" in files) + [RELATIONS] * ("rel" in files)
            ),
        )
