"""Rules as JSON-safe dicts: the form they take in a saved pipeline and in user files.

medspaCy's own `to_dict` drops ConText's `terminated_by` and cannot express
callbacks, and its components never write their rules at all. Here every rule
kind has one dict form, one reader that names the file and line of a bad rule,
and one writer that refuses (loudly) what it cannot save.
"""
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import srsly

from ._medspacy import medspacy_module

RuleDict = Dict[str, Any]

# Keys each rule kind accepts in its dict form (the constructor's keyword names).
CONTEXT_KEYS = (
    "literal", "category", "pattern", "direction", "allowed_types", "excluded_types",
    "max_scope", "max_targets", "terminated_by", "metadata",
)
SECTION_KEYS = (
    "literal", "category", "pattern", "max_scope", "parents", "parent_required", "metadata"
)
TARGET_KEYS = ("literal", "category", "pattern", "attributes", "metadata")
# Callables cannot travel in a saved pipeline.
CALLBACK_KEYS = ("on_match", "on_modifies")


def _rule_class(kind: str):
    if kind == "context":
        return medspacy_module("context").ConTextRule
    if kind == "section":
        return medspacy_module("section_detection").SectionRule
    if kind == "target":
        return medspacy_module("target_matcher").TargetRule
    raise ValueError(f"Unknown rule kind {kind!r}: expected 'context', 'section' or 'target'.")


def _keys(kind: str) -> Sequence[str]:
    return {"context": CONTEXT_KEYS, "section": SECTION_KEYS, "target": TARGET_KEYS}[kind]


def rule_from_dict(kind: str, data: RuleDict, *, where: str = "rule"):
    """Build a medspaCy rule of `kind` from its dict; `where` names it in errors."""
    if not isinstance(data, dict):
        raise ValueError(
            f"{where}: a {kind} rule must be a JSON object, got {type(data).__name__}."
        )
    unknown = set(data) - set(_keys(kind))
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {sorted(unknown)} in a {kind} rule; "
            f"allowed: {list(_keys(kind))}."
        )
    for required in ("literal", "category"):
        if not isinstance(data.get(required), str) or not data.get(required):
            raise ValueError(f"{where}: a {kind} rule needs a non-empty string '{required}'.")
    pattern = data.get("pattern")
    if pattern is not None and not isinstance(pattern, (str, list)):
        raise ValueError(
            f"{where}: 'pattern' must be a regex string or a list of token patterns, "
            f"got {type(pattern).__name__}."
        )
    try:
        return _rule_class(kind)(**data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: invalid {kind} rule {data.get('literal')!r}: {err}") from err


def rule_to_dict(kind: str, rule, *, where: str = "rule") -> RuleDict:
    """The dict form of a medspaCy rule; raises if it carries a callback."""
    for key in CALLBACK_KEYS:
        if getattr(rule, key, None) is not None:
            raise ValueError(
                f"{where}: the {kind} rule {rule.literal!r} has an {key} callback, which cannot be "
                f"saved with the pipeline. Express it as a pattern, or add the rule after loading."
            )
    out: RuleDict = {}
    for key in _keys(kind):
        value = getattr(rule, key, None)
        if isinstance(value, (set, frozenset)):
            value = sorted(value)
        if value is None or (key == "terminated_by" and not value):
            continue
        if key == "parent_required" and value is False:
            continue
        out[key] = value
    try:
        srsly.json_dumps(out)
    except TypeError as err:
        raise ValueError(
            f"{where}: the {kind} rule {rule.literal!r} is not JSON-safe: {err}"
        ) from err
    return out


def coerce_rules(
    kind: str, rules: Iterable[Union[RuleDict, Any]], *, source: str = "rules"
) -> List[Any]:
    """Accept medspaCy rule objects or dicts; return rule objects (errors name the index)."""
    cls = _rule_class(kind)
    out = []
    for i, rule in enumerate(rules):
        if isinstance(rule, cls):
            out.append(rule)
        else:
            out.append(rule_from_dict(kind, rule, where=f"{source}[{i}]"))
    return out


def read_rules(kind: str, path: Union[str, Path]) -> List[Any]:
    """Read rules from JSONL (one rule per line) or JSON (a list, or medspaCy's
    {"context_rules"|"section_rules"|"target_rules": [...]} files)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Rule file not found: {path}")
    if path.suffix == ".jsonl":
        rules = []
        with path.open(encoding="utf8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    data = srsly.json_loads(line)
                except ValueError as err:
                    raise ValueError(f"{path}:{line_no}: not valid JSON: {err}") from err
                rules.append(rule_from_dict(kind, data, where=f"{path}:{line_no}"))
        return rules
    try:
        data = srsly.read_json(path)
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON: {err}") from err
    if isinstance(data, dict):
        key = f"{kind}_rules"
        if key not in data:
            raise ValueError(f"{path}: expected a list of rules or an object with key '{key}'.")
        data = data[key]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of rules, got {type(data).__name__}.")
    return [rule_from_dict(kind, item, where=f"{path}[{i}]") for i, item in enumerate(data)]


def write_rules(kind: str, rules: Iterable[Any], path: Union[str, Path]) -> None:
    """Write rules as JSONL, one rule per line, in the order they were added."""
    path = Path(path)
    lines = [rule_to_dict(kind, rule, where=f"{path} rule {i}") for i, rule in enumerate(rules)]
    srsly.write_jsonl(path, lines)


def default_rules_path(kind: str, language_code: str = "en") -> Path:
    """medspaCy's packaged default rule file for `kind` ('context' or 'section')."""
    medspacy_module("context")  # make sure the package is importable
    import medspacy

    names = {"context": "context_rules.json", "section": "section_patterns.json"}
    if kind not in names:
        raise ValueError(f"medspaCy ships no default {kind} rules.")
    root = Path(medspacy.__file__).resolve().parents[1]
    path = root / "resources" / language_code.lower() / names[kind]
    if not path.exists():
        raise FileNotFoundError(
            f"medspaCy's default {kind} rules are missing at {path}; reinstall medspacy."
        )
    return path


RulesArg = Optional[Union[str, Path, Iterable[Union[RuleDict, Any]]]]


def load_rules_arg(kind: str, rules: RulesArg, *, source: str) -> List[Any]:
    """Rules given to `initialize` or `add_rules`: a path, dicts or rule objects."""
    if rules is None:
        return []
    if isinstance(rules, (str, Path)):
        return read_rules(kind, rules)
    return coerce_rules(kind, rules, source=source)


__all__: List[str] = [
    "read_rules", "write_rules", "rule_from_dict", "rule_to_dict", "coerce_rules",
    "default_rules_path", "load_rules_arg",
]
