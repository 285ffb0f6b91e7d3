"""What the three rule components share: a rule list that saves and loads with the pipeline.

medspaCy's components keep rules only in memory (added rules vanish on save,
defaults come back on load). Ours keep the dict form of every rule in the order
it was added, write it to `rules.jsonl` in the component's folder, and rebuild
the medspaCy object from that file on load, after the pipeline's own tokenizer
has been restored, so phrase rules are tokenized exactly like the text.
"""
from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional, Tuple

import srsly
from spacy.language import Language
from spacy.util import ensure_path

from ._medspacy import medspacy_module
from .assertions import install_context_extensions
from .fast_patterns import compile_simple_patterns
from .rule_io import RulesArg, default_rules_path, load_rules_arg, read_rules, rule_to_dict

RULES_FILE = "rules.jsonl"


class RuleComponent:
    """Base for `clinical_context`, `clinical_sectionizer` and `clinical_target_rules`.

    Subclasses set `kind` ('context', 'section' or 'target') and implement
    `_default_rules()` and `_build(rules)` (a fresh medspaCy object or matcher).
    """

    kind: str = ""

    def __init__(self, nlp: Language, name: str, *, default_rules: bool):
        self.nlp = nlp
        self.name = name
        self.default_rules = default_rules
        # (dict form or None when it carries a callback, rule object)
        self._entries: List[Tuple[Optional[dict], Any]] = []
        self._inner: Any = None  # the medspaCy object (untyped)
        self._reset(self._default_rules() if default_rules else [])

    # --- rules -----------------------------------------------------------------
    @property
    def rules(self) -> List[Any]:
        """The medspaCy rule objects in use, in the order they were added."""
        return [rule for _, rule in self._entries]

    def _snapshot(self, rules: Iterable[Any]) -> List[Tuple[Optional[dict], Any]]:
        # Take the dict form before medspaCy sees the rule: ConText writes its
        # global settings into rules it is given.
        entries = []
        for rule in rules:
            try:
                data = rule_to_dict(self.kind, rule)
            except ValueError:
                data = None  # a callback: usable now, refused at save time
            entries.append((data, rule))
        return entries

    def _reset(self, rules: List[Any]) -> None:
        self._entries = self._snapshot(rules)
        self._inner = self._build(self.rules)

    def add_rules(self, rules: RulesArg) -> None:
        """Add rules: medspaCy rule objects, dicts, or a path to a JSON/JSONL file."""
        new = load_rules_arg(self.kind, rules, source=f"{self.name} rules")
        self._entries.extend(self._snapshot(new))
        self._add_to_inner(new)

    def _add_to_inner(self, rules: List[Any]) -> None:
        self._inner.add(rules)

    def initialize(
        self,
        get_examples: Optional[Callable] = None,
        *,
        nlp: Optional[Language] = None,
        rules: RulesArg = None,
    ) -> None:
        """Set the rules: the defaults (if `default_rules`) plus `rules`.

        In a config: `[initialize.components.<name>] rules = "path/rules.jsonl"`
        or a reader block such as `srsly.read_jsonl.v1`.
        """
        self._reset(self._default_rules() if self.default_rules else [])
        if rules is not None:
            self.add_rules(rules)

    def _default_rules(self) -> List[Any]:
        raise NotImplementedError

    def _build(self, rules: List[Any]):
        raise NotImplementedError

    # --- serialization -----------------------------------------------------------
    def _rule_dicts(self) -> List[dict]:
        out: List[dict] = []
        for i, (data, rule) in enumerate(self._entries):
            if data is None:
                # A rule with a callback: this raises, naming it.
                data = rule_to_dict(self.kind, rule, where=f"{self.name} rule {i}")
            out.append(data)
        return out

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        return srsly.msgpack_dumps({"rules": self._rule_dicts()})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = tuple()) -> "RuleComponent":
        stored = srsly.msgpack_loads(data)
        self._reset(load_rules_arg(self.kind, stored["rules"], source=f"{self.name} (bytes)"))
        return self

    def to_disk(self, path, *, exclude: Iterable[str] = tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_jsonl(path / RULES_FILE, self._rule_dicts())

    def from_disk(self, path, *, exclude: Iterable[str] = tuple()) -> "RuleComponent":
        rules_path = Path(ensure_path(path)) / RULES_FILE
        if not rules_path.exists():
            raise FileNotFoundError(
                f"{self.name}: no {RULES_FILE} in {path}; "
                "was the pipeline saved by spacy-clinicalbert?"
            )
        self._reset(read_rules(self.kind, rules_path))
        return self


class MedspacyRuleComponent(RuleComponent):
    """A rule component around one medspaCy pipe class (ConText, Sectionizer).

    Subclasses set `medspacy_module` and `medspacy_class`; the keyword arguments
    for that class (with `language_code`) are kept in `self.settings`. Simple
    token patterns go through spaCy's phrase matcher (see fast_patterns).
    """

    medspacy_module: str = ""
    medspacy_class: str = ""

    def __init__(
        self, nlp: Language, name: str, *, default_rules: bool, span_group: str, **settings: Any
    ):
        """`settings`: the medspaCy class's keyword arguments (`span_group` is its
        `span_group_name`), checked here so a bad value fails when the pipe is built."""
        self.check_span_settings(name, settings["input_span_type"], settings["span_attrs"])
        self.settings = dict(settings, span_group_name=span_group)
        install_context_extensions()  # both ConText and the sectionizer's span_attrs set the flags
        super().__init__(nlp, name, default_rules=default_rules)

    @staticmethod
    def check_span_settings(name: str, input_span_type: str, span_attrs: Any) -> None:
        """Refuse settings medspaCy would only trip over at the first doc."""
        if input_span_type not in ("ents", "group"):
            raise ValueError(
                f"{name}: input_span_type must be 'ents' or 'group', got {input_span_type!r}."
            )
        if isinstance(span_attrs, str) and span_attrs != "default":
            raise ValueError(
                f"{name}: span_attrs must be 'default', null or a mapping, got {span_attrs!r}."
            )

    def _default_rules(self) -> List[Any]:
        path = default_rules_path(self.kind, self.settings["language_code"])
        return read_rules(self.kind, path)

    def _matcher(self, inner):
        return getattr(inner, f"_{self.medspacy_class}__matcher")  # name-mangled in medspaCy

    def _build(self, rules: List[Any]):
        cls = getattr(medspacy_module(self.medspacy_module), self.medspacy_class)
        inner = cls(self.nlp, name=self.name, rules=None, **self.settings)
        if rules:
            inner.add(rules)
            compile_simple_patterns(self._matcher(inner), self.nlp.vocab)
        return inner

    def _add_to_inner(self, rules: List[Any]) -> None:
        self._inner.add(rules)
        compile_simple_patterns(self._matcher(self._inner), self.nlp.vocab)
