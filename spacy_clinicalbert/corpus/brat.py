"""BRAT standoff reader: `name.txt` + `name.ann` pairs, a folder of them or one pair.

Line types:
- `T` entities, with discontinuous fragments (`T3 Drug 10 15;20 26`). An annotated text
  that spans a line break is written by BRAT over several `.ann` lines; the lines
  after a `T` line that are no annotation are joined to its text (counted).
- `R` relations (`Arg1` → `Arg2`).
- `A` / `M` attributes: kept as `doc.spans["entity_attributes"]`.
- `*` equivalence groups (`* OR T1 T2 T3`): kept as relations labelled with the group
  type from each member to the next (n-1 relations; counted).
- `E` events: kept as relations from the trigger to each argument, labelled with the
  role; arguments that are events themselves cannot be, and are counted.
- `#` notes: ignored (counted). `N` normalizations: ignored (counted).
Texts are read with no newline translation: offsets count `\r` characters.
Split group: the file stem up to `_inc`/`_exc` (Chia's trial id), or `group_pattern`.
"""
import itertools
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from ..layers import ATTRIBUTES, ENTITIES, RELATIONS
from .files import read_text
from .records import AnnotatedText, AttributeAnn, CorpusError, EntityAnn, RelationAnn
from .stats import ConversionStats

DEFAULT_GROUP_PATTERN = r"^(?P<group>.+?)(?:_(?:inc|exc))?$"
_OFFSETS = re.compile(r"^\d+ \d+(?:;\d+ \d+)*$")


def group_of(stem: str, pattern: str) -> str:
    match = re.match(pattern, stem)
    if not match:
        return stem
    return match.groupdict().get("group") or match.group(0)


def find_pairs(path: Path, on_invalid: str, stats: ConversionStats) -> List[Path]:
    """The .txt files to read, each with its .ann checked to exist."""
    path = Path(path)
    if path.is_file():
        texts = [path.with_suffix(".txt")]
        if not texts[0].exists():
            raise CorpusError(str(path), f"no text file {texts[0].name} beside it")
    elif path.is_dir():
        texts = sorted(path.rglob("*.txt"))
        anns = {p.with_suffix("") for p in path.rglob("*.ann")}
        for orphan in sorted(anns - {p.with_suffix("") for p in texts}):
            if on_invalid == "error":
                raise CorpusError(f"{orphan}.ann", "annotation file has no matching .txt")
            stats.omit("brat_ann_without_txt", f"{orphan}.ann")
    else:
        raise CorpusError(str(path), "input not found")
    if not texts:
        raise CorpusError(str(path), "no .txt files found")
    out = []
    for txt in texts:
        if not txt.with_suffix(".ann").exists():
            if on_invalid == "error":
                raise CorpusError(
                    str(txt), f"missing annotation file {txt.with_suffix('.ann').name}"
                )
            stats.omit("brat_txt_without_ann", str(txt))
            continue
        out.append(txt)
    return out


def parse_ann(ann_path: Path, text: str, doc_id: str, on_invalid: str, stats: ConversionStats):
    """Entities, relations and attributes of one .ann file."""
    entities: Dict[str, EntityAnn] = {}
    relations: List[RelationAnn] = []
    attributes: List[AttributeAnn] = []
    last_entity: Optional[EntityAnn] = None

    def bad(where: str, problem: str) -> None:
        if on_invalid == "error":
            raise CorpusError(
                where, problem + " (use --on-invalid skip to count and skip such lines)"
            )
        stats.omit("brat_invalid_line", where)

    lines = read_text(ann_path, newline="").split("\n")
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r")
        where = f"{ann_path}:{number}"
        if not line.strip():
            if number < len(lines):
                stats.note("brat_blank_lines", where)
            continue
        kind = line[0]
        fields = line.split("\t")
        ident = fields[0]
        if kind == "T" and re.fullmatch(r"T\d+", ident):
            if len(fields) < 2:
                bad(where, f"entity line has no type and offsets: {line!r}")
                continue
            label, _, offsets = fields[1].partition(" ")
            if not _OFFSETS.match(offsets):
                bad(
                    where,
                    f"entity {ident} has malformed offsets {offsets!r} "
                    "(expected 'start end[;start end]')",
                )
                continue
            pairs = (part.split() for part in offsets.split(";"))  # _OFFSETS: "start end" each
            frags = [(int(start), int(end)) for start, end in pairs]
            if any(s > e for s, e in frags):
                bad(where, f"entity {ident} has a fragment that ends before it starts: {offsets}")
                continue
            if ident in entities:
                bad(where, f"entity id {ident} defined twice")
                continue
            ent = EntityAnn(ident, label, frags, where, fields[2] if len(fields) > 2 else None)
            entities[ident] = ent
            last_entity = ent
            continue
        if kind == "R" and re.fullmatch(r"R\d+", ident):
            parts = fields[1].split() if len(fields) > 1 else []
            args = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
            if len(parts) != 3 or len(args) != 2:
                bad(where, f"relation line needs 'Label Arg1:Tx Arg2:Ty': {line!r}")
                continue
            head, tail = args.get("Arg1"), args.get("Arg2")
            if head is None or tail is None:
                head, tail = [p.split(":", 1)[1] for p in parts[1:3]]
            relations.append(RelationAnn(head, tail, parts[0], where))
        elif kind == "*":
            parts = fields[1].split() if len(fields) > 1 else []
            if len(parts) < 3:
                bad(where, f"equivalence line needs a type and two ids: {line!r}")
                continue
            label, members = parts[0], parts[1:]
            for head, tail in itertools.pairwise(members):
                relations.append(RelationAnn(head, tail, label, where))
            stats.note("brat_equivalence_groups", where)
            stats.note("brat_equivalence_relations", where, len(members) - 1)
        elif kind in "AM" and re.fullmatch(r"[AM]\d+", ident):
            parts = fields[1].split() if len(fields) > 1 else []
            if len(parts) not in (2, 3):
                bad(where, f"attribute line needs 'Name Tx [Value]': {line!r}")
                continue
            attributes.append(
                AttributeAnn(parts[1], parts[0], parts[2] if len(parts) == 3 else None, where)
            )
        elif kind == "E" and re.fullmatch(r"E\d+", ident):
            parts = fields[1].split() if len(fields) > 1 else []
            if not parts or ":" not in parts[0]:
                bad(where, f"event line needs 'Type:Tx Role:Ty ...': {line!r}")
                continue
            _, trigger = parts[0].split(":", 1)
            for arg in parts[1:]:
                role, _, target = arg.partition(":")
                if target.startswith("E"):
                    stats.omit("brat_event_argument_is_event", where)
                    continue
                relations.append(RelationAnn(trigger, target, re.sub(r"\d+$", "", role), where))
            stats.note("brat_events", where)
        elif kind == "#":
            stats.note("brat_notes", where)
        elif kind == "N" and re.fullmatch(r"N\d+", ident):
            stats.note("brat_normalizations", where)
        elif (
            last_entity is not None
            and last_entity.text is not None
            and _continues(last_entity, line, text)
        ):
            last_entity.text += "\n" + line
            stats.repair("brat_multiline_text_joined", where)
            continue
        else:
            bad(where, f"unrecognised annotation line {line[:60]!r}")
        last_entity = None
    return list(entities.values()), relations, attributes


def _continues(ent: EntityAnn, line: str, text: str) -> bool:
    """Is `line` the rest of `ent`'s text, which spans a line break?"""
    if ent.text is None or ent.end > len(text):
        return False
    actual = re.sub(r"\s+", " ", " ".join(text[s:e] for s, e in ent.fragments)).strip()
    claimed = re.sub(r"\s+", " ", ent.text + " " + line).strip()
    return len(claimed) <= len(actual) and actual.startswith(claimed)


def read_brat(
    path: Path,
    stats: ConversionStats,
    *,
    on_invalid: str = "error",
    group_pattern: str = DEFAULT_GROUP_PATTERN,
) -> Iterator[AnnotatedText]:
    """Every .txt with its .ann. Each .ann annotates entities (an empty one: none
    there); relations and attributes count as annotated in every file once the
    corpus uses them anywhere, since BRAT has no way to say a file was not linked."""
    records = []
    for txt in find_pairs(Path(path), on_invalid, stats):
        text = read_text(txt, newline="")
        doc_id = txt.stem
        entities, relations, attributes = parse_ann(
            txt.with_suffix(".ann"), text, doc_id, on_invalid, stats
        )
        records.append(AnnotatedText(
            id=doc_id,
            text=text,
            source=str(txt),
            group=group_of(doc_id, group_pattern),
            entities=entities,
            relations=relations,
            attributes=attributes,
        ))
    layers = frozenset(
        [ENTITIES]
        + [RELATIONS] * any(rec.relations for rec in records)
        + [ATTRIBUTES] * any(rec.attributes for rec in records)
    )
    for rec in records:
        rec.layers = layers
        yield rec
