"""`spacy-clinicalbert.ClinicalTokenizer.v1`: spaCy's tokenizer plus rules for clinical text.

Set it in a config with `[nlp.tokenizer] @tokenizers = "spacy-clinicalbert.ClinicalTokenizer.v1"`.
The rules are saved with the pipeline (as prefix/suffix/infix patterns and special
cases), so a loaded pipeline tokenizes exactly as the one that was trained.

What changes against `spacy.blank("en")`:
- Dosing abbreviations stay whole: `b.i.d.`, `t.i.d.`, `q.d.`, `p.r.n.`, `p.o.` ...
  (spaCy splits off the final period).
- Slash shorthands stay whole: `s/p`, `w/o`, `c/o`, `y/o`, `h/o`, `n/v` ... (spaCy splits `s / p`).
- A count after `x` splits off: `x3` → `x 3` ("times three"); `3x` stays.
- Units glued to numbers split off for units spaCy does not know: `10mcg` → `10 mcg`,
  `0.5mL`, `20units`, `5mEq`, `2gtt`; `5mg` already splits; so do rates: `2.5mg/kg` →
  `2.5 mg / kg`. Dosing intervals stay whole: `q6h`.
- Arrows between values split: `7.2->8.1` → `7.2 -> 8.1`.
- A closing bracket before a hyphen splits: `(TMP)-sulfamethoxazole` → `( TMP ) - sulfamethoxazole`
  (spaCy keeps `TMP)-sulfamethoxazole` whole, merging two drug mentions of ADE).
- Comparisons glued to values split (`INR>1.5` → `INR > 1.5`, `FEV1=0.80`), so do a bracket or
  semicolon glued between words (`lesion(s`, `a;b`) and a `+` after a word (`HIV+` → `HIV +`).
- Typed de-identification placeholders (`[NAME]`, `[DATE]` ...) stay one token.
- Ratios and dates are left whole, as spaCy already does: `2/2` ("secondary to"),
  `120/80`, `3/14/2020`.

Speed: spaCy's English exceptions list `" "`, `"\t"` and `"\n"` as special cases that only
restate the token's text. A special-case hit switches off the tokenizer's cache for the rest of the
doc (spaCy issue #1250), and every extra space is such a hit, so double-spaced notes were split by
the affix rules again on every call: on 500 MTSamples notes 6.1 us a token with the rules, 2.9
without (benchmarks/bench_tokenizer.py). `ClinicalTokenizer` leaves those three rules out, when
built and when loaded, with the same tokens and attributes.
"""
from typing import Callable, Dict, Iterable, List, cast

from spacy.language import Language
from spacy.symbols import ORTH
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

from .deid import placeholder_strings

# Latin dosing abbreviations written with periods, lower case; upper case is added too.
DOTTED_ABBREVIATIONS: List[str] = [
    "a.c.", "a.d.", "a.m.", "a.s.", "a.u.", "b.i.d.", "d.c.", "h.s.", "i.d.", "i.m.",
    "i.v.", "n.p.o.", "o.d.", "o.s.", "o.u.", "p.c.", "p.m.", "p.o.", "p.r.", "p.r.n.",
    "q.a.m.", "q.d.", "q.h.", "q.h.s.", "q.i.d.", "q.o.d.", "q.p.m.", "q.s.", "s.c.",
    "s.l.", "s.q.", "t.i.d.", "t.i.w.", "u.d.",
]
# Slash shorthands of clinical notes, lower case; upper case is added too.
SLASH_ABBREVIATIONS: List[str] = [
    "a/p", "b/l", "c/b", "c/d/i", "c/o", "d/c", "d/c'd", "f/u", "h/o", "i/o", "l/s",
    "m/r/g", "n/t", "n/v", "n/v/d", "r/o", "s/p", "s/s", "w/", "w/o", "w/u", "y/o",
]
# Units that spaCy's English suffix rules do not split from a preceding number.
# Time units (h, d, wk) are left out on purpose: `q6h`, `q4d` are one dosing token.
EXTRA_UNITS: List[str] = [
    "mcg", "µg", "ug", "ng", "mL", "ml", "dL", "dl", "L", "mEq", "meq", "mmol",
    "units", "unit", "IU", "iu", "gtt", "gtts", "tab", "tabs", "cap", "caps",
    "puffs", "puff", "mmHg", "bpm", "yo",
]
# Units that may start a rate (`mg/kg`): split from the number before the slash.
RATE_UNITS: List[str] = EXTRA_UNITS + ["mg", "g", "kg", "µg"]


def _restates_whitespace(key: str, tokens: List[dict]) -> bool:
    """A special case for a whitespace string that sets nothing but its own text."""
    return key.isspace() and tokens in ([{ORTH: key}], [{"ORTH": key}])


def without_whitespace_rules(rules: Dict[str, List[dict]]) -> Dict[str, List[dict]]:
    """The rules minus those that only keep whitespace whole, which the tokenizer does anyway."""
    return {key: tokens for key, tokens in rules.items() if not _restates_whitespace(key, tokens)}


class ClinicalTokenizer(Tokenizer):
    """spaCy's Tokenizer whose cache stays on in text with double spaces, tabs or newlines.

    Loading a pipeline restores the rules it was saved with (older ones include the
    whitespace rules), so they are filtered again after `from_bytes` / `from_disk`.
    """

    rules: Dict[str, List[dict]]  # the Cython base class's property (spaCy ships no stubs)

    def from_bytes(self, bytes_data, *, exclude=tuple()) -> "ClinicalTokenizer":
        super().from_bytes(bytes_data, exclude=exclude)
        kept = without_whitespace_rules(self.rules)
        if len(kept) != len(self.rules):
            self.rules = kept
        return self


def with_spacy_whitespace_rules(tokenizer: Tokenizer) -> Tokenizer:
    """The same tokenizer as a plain spaCy Tokenizer with the whitespace rules put back: what we
    had before, for comparisons (tests, benchmarks/bench_tokenizer.py)."""
    from spacy.lang.tokenizer_exceptions import BASE_EXCEPTIONS

    spaces = {
        key: tokens for key, tokens in BASE_EXCEPTIONS.items() if _restates_whitespace(key, tokens)
    }
    return Tokenizer(tokenizer.vocab, rules={**tokenizer.rules, **spaces},
                     prefix_search=tokenizer.prefix_search, suffix_search=tokenizer.suffix_search,
                     infix_finditer=tokenizer.infix_finditer, token_match=tokenizer.token_match,
                     url_match=tokenizer.url_match)


def _special_cases(placeholder_template: str) -> dict:
    cases = {}
    for word in DOTTED_ABBREVIATIONS + SLASH_ABBREVIATIONS:
        for form in {word, word.upper()}:
            cases[form] = [{"ORTH": form}]
    for placeholder in placeholder_strings(placeholder_template):
        cases[placeholder] = [{"ORTH": placeholder}]
    return cases


def clinical_tokenizer(
    nlp: Language, placeholder_template: str = "[{type}]"
) -> "ClinicalTokenizer":
    """Build the clinical tokenizer on top of the language's own punctuation rules."""
    defaults = nlp.Defaults
    units = "|".join(sorted(EXTRA_UNITS, key=len, reverse=True))
    prefixes = list(defaults.prefixes or []) + [r"x(?=\d+(?:\.\d+)?(?:[^\w]|$))"]
    suffixes = list(defaults.suffixes or []) + [rf"(?<=[0-9])(?:{units})", r"(?<=[A-Za-z])[+]"]
    rate_units = "|".join(sorted(set(RATE_UNITS), key=len, reverse=True))
    infixes = list(defaults.infixes or []) + [
        r"(?<=[0-9])(?:->|-->|<-)(?=[0-9])",
        rf"(?<=[0-9])(?:{rate_units})(?=/)",
        # "(TMP)-sulfamethoxazole": a bracket closing before a hyphen splits off, as does the
        # hyphen.
        r"(?<=[A-Za-z0-9])[)\]](?=-[A-Za-z0-9(])",
        r"(?<=[)\]])-(?=[A-Za-z0-9(])",
        # "INR>1.5", "age>18", "FEV1=0.80", "ALT<2.5": comparisons glued to a value split.
        r"(?<=[A-Za-z0-9])(?:[<>≤≥]=?|=)(?=[0-9.])",
        # "lesion(s", "impairment;presence": a bracket or semicolon glued between words splits.
        r"(?<=[A-Za-z])[(;](?=[A-Za-z])",
    ]
    # Emoticons like "(=" and ">.<" read as comparisons in clinical text ("(=18 years").
    rules = {
        k: v for k, v in defaults.tokenizer_exceptions.items()
        if not (any(ch in k for ch in "=<>") and not any(ch.isalnum() for ch in k))
    }
    rules.update(_special_cases(placeholder_template))
    return ClinicalTokenizer(
        nlp.vocab,
        rules=without_whitespace_rules(rules),
        prefix_search=compile_prefix_regex(prefixes).search,
        suffix_search=compile_suffix_regex(suffixes).search,
        infix_finditer=compile_infix_regex(infixes).finditer,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )


@registry.tokenizers("spacy-clinicalbert.ClinicalTokenizer.v1")
def create_clinical_tokenizer(
    placeholder_template: str = "[{type}]",
) -> Callable[[Language], Tokenizer]:
    """Registered factory:
    `[nlp.tokenizer] @tokenizers = "spacy-clinicalbert.ClinicalTokenizer.v1"`."""

    def make(nlp: Language) -> Tokenizer:
        return clinical_tokenizer(nlp, placeholder_template)

    return make


def blank_clinical(lang: str = "en", placeholder_template: str = "[{type}]") -> Language:
    """`spacy.blank(lang)` with the clinical tokenizer (what the converter uses by default)."""
    import spacy

    return spacy.blank(
        lang,
        config={
            "nlp": {
                "tokenizer": {
                    "@tokenizers": "spacy-clinicalbert.ClinicalTokenizer.v1",
                    "placeholder_template": placeholder_template,
                }
            }
        },
    )


def explain(nlp: Language, text: str) -> Iterable[tuple]:
    """Which rule produced each token (spaCy's tokenizer.explain), for debugging rules."""
    # spaCy types `nlp.tokenizer` as any callable; explain() is the Tokenizer's.
    return cast(Tokenizer, nlp.tokenizer).explain(text)
