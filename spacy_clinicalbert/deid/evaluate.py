"""Score a de-identifier the i2b2 2014 way, and report every PHI string it left behind.

- Token-level binary PHI P/R/F: a token (a run of letters and digits) is PHI in the gold if a
  gold span covers any of it, and found if a predicted span does. As in the i2b2 2014
  evaluation, a subset (HIPAA, structured kinds) filters gold and predicted spans to its
  categories alike; `r_any` is the subset's gold tokens covered by a prediction of any
  category (what matters for a leak).
- Entity level, per category and micro: strict (same start, end and category) and relaxed
  (same category, overlapping characters).
- Leak report: every gold PHI string found again in the de-identified output (whole word,
  any case), with its note, category and output offset; a hit in text the replacement left
  unchanged is a leak, a hit produced by a replacement (a surrogate that happens to equal
  another gold string) is listed apart as a collision. Strings under 3 characters (state
  codes) are not searched (they match "in", "MD", "Ms."). The report holds the gold strings:
  it is for evaluation data, not for real notes.
- Surrogate checks: per patient, one surrogate per (category group, original) across notes,
  and the day intervals between a patient's shifted dates kept.
"""

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..prf import prf
from .categories import CATEGORIES, HIPAA_LABELS, LABELS, STRUCTURED_LABELS
from .dates import date_value
from .detection import Detection

_TOKEN = re.compile(r"[A-Za-z0-9]+")
SUBSETS: Dict[str, Optional[Sequence[str]]] = {
    "all": None,
    "hipaa": HIPAA_LABELS,
    "structured": STRUCTURED_LABELS,
    "names": ("PATIENT", "DOCTOR", "USERNAME"),
}


# Gold strings shorter than this (state codes such as IN, MD, ME) are not searched: they
# match ordinary words and titles everywhere.
MIN_LEAK_CHARS = 3


def read_gold(path: Path) -> List[Dict[str, Any]]:
    notes = []
    for n, line in enumerate(path.read_text(encoding="utf8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            note = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{n}: invalid JSON ({err.msg})") from err
        if "text" not in note or "spans" not in note:
            raise ValueError(f"{path}:{n}: a gold note needs 'text' and 'spans'")
        notes.append(note)
    return notes


def _covered(tokens: Sequence[Tuple[int, int]], spans: Iterable[Tuple[int, int]]) -> Set[int]:
    spans = sorted(spans)
    out: Set[int] = set()
    j = 0
    for i, (ts, te) in enumerate(tokens):
        while j < len(spans) and spans[j][1] <= ts:
            j += 1
        k = j
        while k < len(spans) and spans[k][0] < te:
            if spans[k][1] > ts:
                out.add(i)
                break
            k += 1
    return out


def token_scores(
    text: str,
    gold: Sequence[Tuple[int, int, str]],
    pred: Sequence[Tuple[int, int, str]],
    counts: Dict[str, Dict[str, int]],
) -> None:
    """Add this note's token counts per subset to `counts`."""
    tokens = [m.span() for m in _TOKEN.finditer(text)]
    pred_any = _covered(tokens, [(s, e) for s, e, _ in pred])
    for name, labels in SUBSETS.items():
        wanted = set(labels) if labels is not None else None
        g = _covered(tokens, [(s, e) for s, e, lab in gold if wanted is None or lab in wanted])
        p = _covered(tokens, [(s, e) for s, e, lab in pred if wanted is None or lab in wanted])
        c = counts[name]
        c["tp"] += len(g & p)
        c["fp"] += len(p - g)
        c["fn"] += len(g - p)
        c["gold_found_any"] += len(g & pred_any)
        c["gold"] += len(g)


def entity_counts(
    gold: Sequence[Tuple[int, int, str]],
    pred: Sequence[Tuple[int, int, str]],
    strict: Dict[str, Dict[str, int]],
    relaxed: Dict[str, Dict[str, int]],
) -> None:
    gold_set, pred_set = set(gold), set(pred)
    for label in {lab for _, _, lab in gold} | {lab for _, _, lab in pred}:
        g = [x for x in gold if x[2] == label]
        p = [x for x in pred if x[2] == label]
        tp = len(gold_set & pred_set & set(g))
        strict[label]["tp"] += tp
        strict[label]["fp"] += len(p) - tp
        strict[label]["fn"] += len(g) - tp
        g_hit = sum(any(ps < ge and gs < pe for ps, pe, _ in p) for gs, ge, _ in g)
        p_hit = sum(any(ps < ge and gs < pe for gs, ge, _ in g) for ps, pe, _ in p)
        relaxed[label]["tp_gold"] += g_hit
        relaxed[label]["fn"] += len(g) - g_hit
        relaxed[label]["tp_pred"] += p_hit
        relaxed[label]["fp"] += len(p) - p_hit


def leaks_in(
    note_id: str, text: str, output: str, offsets: Any, gold: Sequence[Tuple[int, int, str]]
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    leaks: List[Dict[str, Any]] = []
    collisions: List[Dict[str, Any]] = []
    seen: Set[str] = set()
    for start, end, label in gold:
        value = text[start:end]
        key = value.lower()
        if key in seen or len(value.strip()) < MIN_LEAK_CHARS:
            continue
        seen.add(key)
        for m in re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", output, re.IGNORECASE):
            in_start, in_end = offsets.span_to_original(m.start(), m.end())
            unchanged = (
                in_end - in_start == m.end() - m.start() and text[in_start:in_end].lower() == key
            )
            entry = {
                "note": note_id,
                "label": label,
                "text": value,
                "output_start": m.start(),
                "input_start": in_start,
            }
            (leaks if unchanged else collisions).append(entry)
    return leaks, collisions


def evaluate_deid(
    deid: Any, notes: Sequence[Dict[str, Any]], batch_size: int = 16
) -> Dict[str, Any]:
    """Detection scores, leak report and surrogate checks of a `Deidentifier` on gold notes."""
    from .component import phi_detections

    docs = deid.nlp.pipe((n["text"] for n in notes), batch_size=batch_size)
    predictions = [phi_detections(doc, deid.spans_key) for doc in docs]
    return score_notes(notes, predictions, deid.replace, deid.strategy)


def score_notes(
    notes: Sequence[Dict[str, Any]],
    predictions: Sequence[Sequence[Detection]],
    replace: Callable[[str, Sequence[Detection], str], Any],
    strategy: str,
) -> Dict[str, Any]:
    """The report for any detector: its detections per note, and the replacement to check."""
    tokens: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    strict: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    relaxed: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    leaks: List[Dict[str, Any]] = []
    collisions: List[Dict[str, Any]] = []
    surrogates: Dict[Tuple[str, str, str], Set[str]] = defaultdict(set)
    intervals = {"pairs": 0, "kept": 0}
    dates_by_patient: Dict[str, List[Tuple[Any, Any]]] = defaultdict(list)
    for note, dets in zip(notes, predictions, strict=True):
        text = note["text"]
        gold = [(s["start"], s["end"], s["label"]) for s in note["spans"]]
        pred = [(d.start, d.end, d.label) for d in dets]
        token_scores(text, gold, pred, tokens)
        entity_counts(gold, pred, strict, relaxed)
        patient = str(note.get("patient_id") or "")
        result = replace(text, dets, patient)
        found, crossed = leaks_in(note.get("id", ""), text, result.text, result.offsets, gold)
        leaks += found
        collisions += crossed
        exact = {(d.start, d.end): d for d in dets}
        for start, end, label in gold:
            if (start, end) not in exact:
                continue
            out_start, out_end = result.offsets.span_to_prepared(start, end)
            value = result.text[out_start:out_end]
            group = CATEGORIES[label][0]
            surrogates[(patient, group, text[start:end].lower())].add(value)
            if label == "DATE":
                before, after = (
                    date_value(text[start:end], exact=True),
                    date_value(value, exact=True),
                )
                if before and after:
                    dates_by_patient[patient].append((before, after))
    for pairs in dates_by_patient.values():
        for (b1, a1), (b2, a2) in zip(pairs, pairs[1:], strict=False):
            intervals["pairs"] += 1
            intervals["kept"] += int((b2 - b1) == (a2 - a1))
    report: Dict[str, Any] = {
        "notes": len(notes),
        "strategy": strategy,
        "token": {
            name: {
                **prf(c["tp"], c["fp"], c["fn"]),
                "r_any": (c["gold_found_any"] / c["gold"]) if c["gold"] else 0.0,
                "gold_tokens": c["gold"],
                "tp": c["tp"],
                "fp": c["fp"],
                "fn": c["fn"],
            }
            for name, c in tokens.items()
        },
        "entity_strict": _per_label(strict, "tp", "tp"),
        "entity_relaxed": _per_label(relaxed, "tp_pred", "tp_gold"),
        "leaks": leaks,
        "leak_count": len(leaks),
        "surrogate_collisions": collisions,
        "surrogate_consistency": {
            "originals": len(surrogates),
            "consistent": sum(len(v) == 1 for v in surrogates.values()),
        }
        if strategy == "surrogate"
        else None,
        "date_intervals": intervals if strategy == "surrogate" else None,
    }
    return report


def _per_label(counts: Dict[str, Dict[str, int]], tp_p: str, tp_r: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    tot: Dict[str, int] = defaultdict(int)
    for label in sorted(counts, key=lambda lab: LABELS.index(lab) if lab in LABELS else 99):
        c = counts[label]
        p = c[tp_p] / (c[tp_p] + c["fp"]) if c[tp_p] + c["fp"] else 0.0
        r = c[tp_r] / (c[tp_r] + c["fn"]) if c[tp_r] + c["fn"] else 0.0
        out[label] = {
            "p": p,
            "r": r,
            "f": 2 * p * r / (p + r) if p + r else 0.0,
            "gold": c[tp_r] + c["fn"],
            "predicted": c[tp_p] + c["fp"],
        }
        for k in (tp_p, tp_r, "fp", "fn"):
            tot[k] += c[k]
    p = tot[tp_p] / (tot[tp_p] + tot["fp"]) if tot[tp_p] + tot["fp"] else 0.0
    r = tot[tp_r] / (tot[tp_r] + tot["fn"]) if tot[tp_r] + tot["fn"] else 0.0
    out["micro"] = {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0}
    return out


def summary_table(report: Dict[str, Any]) -> str:
    lines = [
        f"{report['notes']} notes, strategy {report['strategy']}",
        f"{'token level':<14} {'P':>6} {'R':>6} {'F':>6} {'R(any)':>7} {'gold':>7}",
    ]
    for name, s in report["token"].items():
        lines.append(
            f"{name:<14} {s['p']:>6.3f} {s['r']:>6.3f} {s['f']:>6.3f} {s['r_any']:>7.3f} {s['gold_tokens']:>7}"  # noqa: E501
        )
    lines.append(
        f"\n{'entity':<15} {'strict P':>8} {'R':>6} {'F':>6} {'relaxed P':>9} {'R':>6} {'F':>6} {'gold':>5}"  # noqa: E501
    )
    for label, s in report["entity_strict"].items():
        r = report["entity_relaxed"].get(label, {})
        lines.append(
            f"{label:<15} {s['p']:>8.3f} {s['r']:>6.3f} {s['f']:>6.3f} {r.get('p', 0):>9.3f} "
            f"{r.get('r', 0):>6.3f} {r.get('f', 0):>6.3f} {s.get('gold', ''):>5}"
        )
    lines.append(
        f"\nleaks (gold PHI strings unchanged in the output): {report['leak_count']}; "
        f"surrogate collisions: {len(report['surrogate_collisions'])}"
    )
    for leak in report["leaks"][:10]:
        lines.append(f"  {leak['note']} {leak['label']} at output {leak['output_start']}")
    if report.get("surrogate_consistency"):
        c = report["surrogate_consistency"]
        d = report["date_intervals"]
        lines.append(
            f"surrogates: {c['consistent']}/{c['originals']} originals with one surrogate per patient; "  # noqa: E501
            f"date intervals kept {d['kept']}/{d['pairs']}"
        )
    return "\n".join(lines)
