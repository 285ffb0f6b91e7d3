"""metrics.json → report.md: a header naming the model and data, one section per
evaluated part, the PNGs linked, and a closing list of what was not evaluated and why.

Each section says how many documents its figures cover: a part is scored only on
the docs that annotate its layer, and a reader must see when that is a fraction."""
from typing import Dict, List, Optional


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out + [""]


def _prf_row(name: str, s: Dict) -> List[str]:
    return [name, _pct(s["p"]), _pct(s["r"]), _pct(s["f"])]


def _coverage(
    scored: Optional[int], total: int, layer: str, what: str = "These figures are"
) -> List[str]:
    """The "scored on N of M documents" line (nothing for metrics written before it existed)."""
    if scored is None:
        return []
    return [f"{what} scored on {scored} of {total} documents (those that annotate {layer}).", ""]


def _header(metrics: Dict) -> List[str]:
    model, data = metrics["model"], metrics["data"]
    lines = [f"# Evaluation of {model['name']} {model.get('version') or ''}".rstrip(), ""]
    pipeline = ", ".join(model["pipeline"]) or "empty"
    lines.append(f"- Model: `{model['source']}` (pipeline: {pipeline})")
    if model.get("base_model"):
        lines.append(f"- Base model: `{model['base_model']}` (from {model['base_model_source']})")
    else:
        lines.append("- Base model: not recorded in meta.json or the config")
    lines.append(f"- Data: `{data['path']}` ({data['docs']} docs, {data['words']} gold tokens)")
    if data.get("layers"):
        counts = ", ".join(f"{layer} {n}" for layer, n in data["layers"].items())
        lines.append(f"- Docs annotating each layer: {counts}")
    lines.append(f"- Device: {metrics['speed']['device']}")
    lines.append("- Scores are percentages; P = precision, R = recall, F1 = F-score.")
    if metrics.get("error_browser"):
        name = metrics["error_browser"]
        lines.append(f"- Errors in context (false positives and negatives, gold and predicted "
                     f"side by side, filterable by label): [{name}]({name})")
    return lines + [""]


def _speed(s: Dict) -> List[str]:
    lines = ["## Speed", ""]
    return lines + _table(
        ["docs", "words", "seconds", "words/s", "batch size"],
        [[s["docs"], s["words"], f"{s['seconds']:.2f}", f"{s['words_per_second']:.0f}",
          s["batch_size"]]],
    )


def _entities(e: Dict, plot: Optional[str], total: int) -> List[str]:
    lines = ["## Entities", "", f"Components: {', '.join(e['components']) or 'undeclared'}; "
             f"{e['gold']} gold and {e['predicted']} predicted entities.", ""]
    lines += _coverage(e["docs"], total, "entities")
    lines += _table(
        ["", "P", "R", "F1"], [_prf_row("micro", e["micro"]), _prf_row("macro", e["macro"])]
    )
    rows = [_prf_row(lab, s) + [s["support"], s["predicted"]] for lab, s in e["per_type"].items()]
    lines += _table(["label", "P", "R", "F1", "gold", "predicted"], rows)
    if plot:
        lines += [f"![Entity F1 per label]({plot})", ""]
    return lines


def _relations(r: Dict, plot: Optional[str], total: int) -> List[str]:
    lines = ["## Relations", "",
             f"Component: {r['component'] or 'undeclared'}; "
             f"scored {r['mode'].replace('_', ' ')}: a relation "
             "counts only when both entities (offsets and labels) and its label are right. "
             f"{r['gold']} gold and {r['predicted']} predicted relations "
             f"(TP {r['counts']['tp']}, FP {r['counts']['fp']}, FN {r['counts']['fn']}).", ""]
    lines += _coverage(r.get("docs"), total, "relations")
    rows = [_prf_row("micro", r["micro"]), _prf_row("macro", r["macro"]),
            _prf_row("micro, gold entities only", r["given_entities_micro"])]
    floor = r.get("floor")
    if floor:
        rows += [_prf_row("all-pairs floor, micro", floor["micro"]),
                 _prf_row("all-pairs floor, macro", floor["macro"])]
    lines += _table(["", "P", "R", "F1"], rows)
    header = ["label", "P", "R", "F1", "gold", "predicted"] + (["floor F1"] if floor else [])
    rows = []
    for lab, s in r["per_type"].items():
        row = _prf_row(lab, s) + [s["support"], s["predicted"]]
        if floor:
            row.append(_pct(floor["per_type"].get(lab, {}).get("f")))
        rows.append(row)
    lines += _table(header, rows)
    if r.get("candidate_recall") is not None:
        lines += ["Candidate recall (gold relations reachable as candidate pairs): "
                  f"{_pct(r['candidate_recall'])}.", ""]
    if floor:
        lines += ["The all-pairs floor labels every candidate pair over the same predicted "
                  "entities with the most frequent relation of its entity-type pair.", ""]
    if r.get("floor_note"):
        lines += [f"No all-pairs floor: {r['floor_note']}", ""]
    if r.get("note"):
        lines += [r["note"], ""]
    if plot:
        lines += [f"![Relation F1 per label]({plot})", ""]
    return lines


def _categories(c: Dict, plots: Dict[str, str], total: int) -> List[str]:
    mode = c["mode"]
    how = "argmax" if mode == "exclusive" else f"threshold {c['threshold']:g}" + (
        f" ({c['threshold_source']})" if c.get("threshold_source") else "")
    lines = ["## Categories", "",
             f"Components: {', '.join(c['components']) or 'undeclared'}; "
             f"{mode} ({c['mode_source']}); "
             f"predicted label by {how}.", ""]
    lines += _coverage(c["docs"], total, "categories")
    accuracy_name = "accuracy" + (" (exact label set)" if mode != "exclusive" else "")
    rows = [[accuracy_name, _pct(c["accuracy"])]]
    if "hamming_accuracy" in c:
        rows.append(["accuracy per label decision", _pct(c["hamming_accuracy"])])
    rows += [["macro P", _pct(c["macro_p"])], ["macro R", _pct(c["macro_r"])],
             ["macro F1", _pct(c["macro_f"])]]
    if "micro" in c:
        rows.append(["micro F1", _pct(c["micro"]["f"])])
    rows.append(["ROC-AUC (macro, one-vs-rest)", _pct(c["roc_auc_macro"])])
    lines += _table(["metric", "value"], rows)
    # Multi-label: each label is scored on the docs that have its key, which may be fewer.
    per_label_docs = mode != "exclusive"
    per = [_prf_row(lab, s) + [_pct(s["roc_auc"]), s["support"], s["predicted"]]
           + ([s.get("docs", "n/a")] if per_label_docs else [])
           for lab, s in c["per_type"].items()]
    lines += _table(["label", "P", "R", "F1", "ROC-AUC", "gold", "predicted"]
                    + (["docs"] if per_label_docs else []), per)
    notes = []
    if c.get("labels_not_annotated"):
        notes.append("Labels the pipeline predicts but no scored doc annotates (not scored): "
                     + ", ".join(c["labels_not_annotated"]) + ".")
    if c.get("docs_ambiguous"):
        notes.append(f"{c['docs_ambiguous']} docs have zero or several positive gold categories "
                     "and were left out of the exclusive scores.")
    if c["roc_auc_undefined"]:
        notes.append("ROC-AUC is undefined (one gold class only) for: "
                     + ", ".join(c["roc_auc_undefined"]) + ".")
    if c["labels_missing_from_predictions"]:
        notes.append("Gold labels the pipeline never scores (counted as 0.0): "
                     + ", ".join(c["labels_missing_from_predictions"]) + ".")
    lines += [f"- {n}" for n in notes] + ([""] if notes else [])
    if "categories_confusion" in plots:
        lines += [f"![Confusion matrix]({plots['categories_confusion']})", ""]
    if "categories_f1" in plots:
        lines += [f"![Category F1 per label]({plots['categories_f1']})", ""]
    return lines


def _context(x: Dict, total: int) -> List[str]:
    lines = ["## ConText assertions", "",
             f"{x['predicted_entities']} predicted entities, "
             f"{x['entities_matched_to_gold']} of them at gold "
             "entity offsets (flags are scored on those).", ""]
    lines += _coverage(x.get("docs"), total, "attributes", "P, R and F1 are")
    rows = []
    for flag, s in x["flags"].items():
        if "f" in s:
            rows.append(_prf_row(flag, s) + [s["support"], s["predicted"]])
        else:
            rows.append([flag, "n/a", "n/a", "n/a", "no gold", s["predicted"]])
    return lines + _table(["flag", "P", "R", "F1", "gold", "predicted (all entities)"], rows)


def render_report(metrics: Dict) -> str:
    plots = metrics.get("plots", {})
    lines = _header(metrics) + _speed(metrics["speed"])
    total = metrics["data"]["docs"]
    if "entities" in metrics:
        lines += _entities(metrics["entities"], plots.get("entities_f1"), total)
    if "relations" in metrics:
        lines += _relations(metrics["relations"], plots.get("relations_f1"), total)
    if "categories" in metrics:
        lines += _categories(metrics["categories"], plots, total)
    if "context" in metrics:
        lines += _context(metrics["context"], total)
    if metrics.get("not_evaluated"):
        lines += ["## Not evaluated", ""]
        lines += [f"- {section}: {why}" for section, why in metrics["not_evaluated"].items()] + [""]
    return "\n".join(lines)
