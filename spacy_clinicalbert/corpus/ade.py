"""ADE Corpus V2 reader: `DRUG-AE.rel`, `DRUG-DOSE.rel`, `ADE-NEG.txt` → one record per sentence.

- Entities DRUG, AE, DOSE; relations DRUG → AE labelled `DRUG-AE` and DRUG → DOSE
  labelled `DRUG-DOSE` (head is always the drug).
- cats: `ADE` = 1.0 for sentences in DRUG-AE.rel, 0.0 for those in ADE-NEG.txt.
- Layers: ADE-NEG sentences annotate only the category; their entity and relation
  layers are missing (at least 29 % of them name a drug annotated elsewhere).
- A sentence is identified by (PubMed id, sentence text); repeated lines merge into
  one record (counted).
- Offsets in the .rel files index the whole abstract, which the corpus lacks. Every
  sentence has one shift that maps all its mentions (from both .rel files) onto
  their strings; it is found by trying each occurrence of the first mention and
  keeping the shift that fits them all. Plain string search would pick the wrong
  occurrence when a mention repeats.
- Split group: the PubMed id.
"""
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from ..layers import CATEGORIES, ENTITIES, RELATIONS
from .files import iter_lines
from .records import AnnotatedText, CorpusError, EntityAnn, RelationAnn
from .stats import ConversionStats

FILES = ("DRUG-AE.rel", "DRUG-DOSE.rel", "ADE-NEG.txt")
# ADE sentences annotate entities, relations and the category; ADE-NEG sentences only
# say "no adverse effect here": their entities and relations are missing, not empty.
ANNOTATED_ADE_SENTENCE = frozenset({ENTITIES, RELATIONS, CATEGORIES})
ANNOTATED_NEG_SENTENCE = frozenset({CATEGORIES})
# (pmid, sentence) → list of (relation label, tail label, tail mention, drug mention, where)
Mention = Tuple[str, int, int]  # text, doc-level begin, end


def _read_rel(path: Path, label: str, tail_label: str, sentences, on_invalid, stats) -> None:
    for number, raw in enumerate(iter_lines(path, newline=""), 1):
        line = raw.rstrip("\r\n")
        where = f"{path}:{number}"
        if not line.strip():
            stats.note("ade_blank_lines", where)
            continue
        fields = line.split("|")
        if len(fields) != 8:
            if on_invalid == "error":
                raise CorpusError(where, f"expected 8 '|'-separated fields, found {len(fields)}")
            stats.omit("ade_invalid_line", where)
            continue
        pmid, sentence, t_text, t_begin, t_end, d_text, d_begin, d_end = fields
        try:
            tail = (t_text, int(t_begin), int(t_end))
            drug = (d_text, int(d_begin), int(d_end))
        except ValueError:
            if on_invalid == "error":
                raise CorpusError(where, "offsets (fields 4, 5, 7, 8) must be integers") from None
            stats.omit("ade_invalid_line", where)
            continue
        for mention in (tail, drug):
            if mention[2] - mention[1] != len(mention[0]):
                if on_invalid == "error":
                    raise CorpusError(where, f"mention {mention[0]!r}: end - begin != its length")
        sentences.setdefault((pmid, sentence), []).append((label, tail_label, tail, drug, where))


def find_shift(sentence: str, mentions: List[Mention]) -> List[int]:
    """All shifts s with sentence[b - s : e - s] == text for every mention."""
    first_text, first_begin, _ = mentions[0]
    shifts = []
    pos = sentence.find(first_text)
    while pos >= 0:
        shift = first_begin - pos
        if all(0 <= b - shift and sentence[b - shift : e - shift] == t for t, b, e in mentions):
            shifts.append(shift)
        pos = sentence.find(first_text, pos + 1)
    return shifts


def _next_id(pmid: str, counter: Dict[str, int]) -> str:
    """Record ids `PMID.n`: the n-th sentence of that abstract in the corpus files."""
    counter[pmid] = counter.get(pmid, 0) + 1
    return f"{pmid}.{counter[pmid]}"


def _entity_id(
    entities: Dict[Tuple[str, int, int], EntityAnn],
    label: str,
    mention: Mention,
    shift: int,
    where: str,
) -> str:
    """The id of `mention`'s entity (doc offsets moved back by `shift`), added on first sight."""
    text, begin, end = mention
    key = (label, begin - shift, end - shift)
    if key not in entities:
        entities[key] = EntityAnn(
            f"{label}:{key[1]}-{key[2]}", label, [(key[1], key[2])], where, text
        )
    return entities[key].id


def read_ade(
    path: Path, stats: ConversionStats, *, on_invalid: str = "error"
) -> Iterator[AnnotatedText]:
    folder = Path(path)
    if not folder.is_dir():
        raise CorpusError(str(folder), "ADE input must be the folder holding " + ", ".join(FILES))
    for name in FILES:
        if not (folder / name).exists():
            raise CorpusError(str(folder / name), "missing ADE Corpus V2 file")
    sentences: "OrderedDict[Tuple[str, str], list]" = OrderedDict()
    _read_rel(folder / "DRUG-AE.rel", "DRUG-AE", "AE", sentences, on_invalid, stats)
    _read_rel(folder / "DRUG-DOSE.rel", "DRUG-DOSE", "DOSE", sentences, on_invalid, stats)
    positive = set(sentences)
    counter: Dict[str, int] = {}
    for (pmid, sentence), rows in sentences.items():
        mentions = [m for row in rows for m in (row[2], row[3])]
        shifts = find_shift(sentence, mentions)
        where = rows[0][4]
        if not shifts:
            if on_invalid == "error":
                raise CorpusError(
                    where, f"no single shift maps all mentions of PMID {pmid} onto the sentence"
                )
            stats.omit("ade_sentence_without_shift", where)
            continue
        if len(shifts) > 1:
            stats.note("ade_ambiguous_shift_first_taken", where)
        shift = shifts[0]
        entities: Dict[Tuple[str, int, int], EntityAnn] = {}
        relations = []
        for rel_label, tail_label, tail, drug, row_where in rows:
            drug_id = _entity_id(entities, "DRUG", drug, shift, row_where)
            tail_id = _entity_id(entities, tail_label, tail, shift, row_where)
            relations.append(RelationAnn(drug_id, tail_id, rel_label, row_where))
        yield AnnotatedText(
            id=_next_id(pmid, counter),
            text=sentence,
            source=where,
            group=pmid,
            entities=list(entities.values()),
            relations=relations,
            cats={"ADE": 1.0},
            layers=ANNOTATED_ADE_SENTENCE,
        )
    seen = set()
    neg_path = folder / "ADE-NEG.txt"
    for number, raw in enumerate(iter_lines(neg_path, newline=""), 1):
        line = raw.rstrip("\r\n")
        where = f"{neg_path}:{number}"
        if not line.strip():
            stats.note("ade_blank_lines", where)
            continue
        pmid, marker, sentence = (line.split(" ", 2) + ["", ""])[:3]
        if marker != "NEG" or not pmid or not sentence:
            if on_invalid == "error":
                raise CorpusError(where, "expected 'PubMed-ID NEG sentence'")
            stats.omit("ade_invalid_line", where)
            continue
        key = (pmid, sentence)
        if key in seen:
            stats.omit("ade_duplicate_negative_line", where)
            continue
        if key in positive:
            stats.omit("ade_negative_line_also_positive", where)
            continue
        seen.add(key)
        yield AnnotatedText(
            id=_next_id(pmid, counter), text=sentence, source=where, group=pmid, cats={"ADE": 0.0},
            layers=ANNOTATED_NEG_SENTENCE,
        )
