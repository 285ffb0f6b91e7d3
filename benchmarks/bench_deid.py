"""De-identification on the synthetic PHI corpus: ours (rules, model, combined) vs Presidio and Philter.

One run, one table, the same notes for every system (the generator-A test split; recall also
on generator B's notes, whose templates, name lists and locales no part of ours was tuned or
trained on):

  rules       blank English pipeline + clinical_deid (patterns + context rules)
  model       the trained PHI ner (configs/deid_ner.cfg) + clinical_deid with only its model part
  combined    the trained PHI ner + clinical_deid (all three parts, merged by its policy)
  presidio    presidio-analyzer's AnalyzerEngine (its predefined recognizers) on a blank spaCy
              pipeline as NLP engine (its default spaCy model cannot be downloaded here); all
              results, at its default score threshold
  philter     philter-lite with its shipped philter_delta.toml filters, where it runs

Scored as `deid evaluate` scores (spacy_clinicalbert/deid/evaluate.py): token-level binary P/R/F
for all PHI, the HIPAA subset and the structured kinds (r_any: covered by any prediction),
entity-level strict/relaxed micro F, the leak count after placeholder replacement, and the
wall time. Surrogate checks (consistency per patient, date intervals, leaks) for ours with a
random key made for the run (never printed).

    python -m benchmarks.bench_deid --model /tmp/deid/training/model-best [--corpus DIR]
Writes benchmarks/results/deid.json (or --output).
"""
import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, quiet_offline  # noqa: E402

quiet_offline()

PRESIDIO_TO_I2B2 = {
    "PERSON": "PATIENT", "DATE_TIME": "DATE", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL",
    "URL": "URL", "IP_ADDRESS": "IPADDR", "US_SSN": "SSN", "MEDICAL_LICENSE": "LICENSE",
    "US_DRIVER_LICENSE": "LICENSE", "US_BANK_NUMBER": "ACCOUNT", "CREDIT_CARD": "ACCOUNT",
    "IBAN_CODE": "ACCOUNT", "CRYPTO": "ACCOUNT", "US_PASSPORT": "IDNUM", "US_ITIN": "IDNUM",
    "UK_NHS": "IDNUM", "ID": "IDNUM", "UUID": "IDNUM", "MAC_ADDRESS": "IDNUM", "LOCATION": "CITY",
    "ORGANIZATION": "ORGANIZATION", "AGE": "AGE", "NRP": "LOCATION-OTHER",
}


def rules_pipeline():
    from spacy_clinicalbert.text.tokenizer import blank_clinical

    nlp = blank_clinical()
    nlp.add_pipe("clinical_deid", config={"model": ""})
    return nlp


def model_pipeline(path: str, rules: bool):
    import spacy

    nlp = spacy.load(path)
    config = {} if rules else {"patterns": False, "context": False}
    nlp.add_pipe("clinical_deid", config={**config, "model": "ner"})
    return nlp


def spacy_detector(nlp) -> Callable[[Sequence[str]], List[list]]:
    from spacy_clinicalbert.deid.component import phi_detections

    def detect(texts):
        return [phi_detections(doc) for doc in nlp.pipe(texts, batch_size=8)]
    return detect


def presidio_detector() -> Callable[[Sequence[str]], List[list]]:
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    from spacy_clinicalbert.deid.detection import Detection
    from spacy_clinicalbert.deid.merge import merge_detections

    folder = tempfile.mkdtemp(prefix="presidio_blank_")
    spacy.blank("en").to_disk(folder)
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": folder}])
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])

    def detect(texts):
        out = []
        for text in texts:
            found = [Detection(r.start, r.end, PRESIDIO_TO_I2B2.get(r.entity_type, "IDNUM"), "model", r.score)
                     for r in analyzer.analyze(text, language="en")]
            out.append(merge_detections(found))
        return out
    return detect


def philter_detector() -> Callable[[Sequence[str]], List[list]]:
    import nltk
    import philter_lite

    from spacy_clinicalbert.deid.detection import Detection

    try:
        nltk.data.find("taggers/averaged_perceptron_tagger_eng")
    except LookupError:
        # detect_phi() POS-tags every note before its first filter, and its name blacklists
        # only match NNP-tagged words: no config turns the tagger off, and another tagger
        # would no longer be philter's name detection. The NLTK data comes only from NLTK's
        # downloader (no PyPI or Debian package), which cannot be reached here.
        raise RuntimeError(
            "needs NLTK's averaged_perceptron_tagger_eng (nltk.download, not reachable offline); "
            "detect_phi() tags every note before any filter and its name lists match NNP words "
            "only, so it cannot run without it"
        ) from None

    filters = philter_lite.load_filters(str(Path(philter_lite.__file__).parent / "configs" / "philter_delta.toml"))
    philter_lite.detect_phi("Seen by Dr. Smith on 5/12/2019.", filters)  # fails here if it cannot run

    def detect(texts):
        out = []
        for text in texts:
            include_map, exclude_map, tracker = philter_lite.detect_phi(text, filters)
            dets = [Detection(start, stop, "IDNUM", "model") for start, stop in exclude_map.filecoords()]
            out.append(sorted(dets))
        return out
    return detect


def run_system(name: str, detect, notes, other, key_env: Optional[str]) -> Dict[str, Any]:
    from spacy_clinicalbert.deid.evaluate import score_notes
    from spacy_clinicalbert.deid.replace import apply_replacements
    from spacy_clinicalbert.deid.surrogates import SurrogateMaker, key_from_env

    def placeholder(text, dets, patient):
        return apply_replacements(text, dets, "placeholder")

    started = time.perf_counter()
    preds = detect([n["text"] for n in notes])
    seconds = time.perf_counter() - started
    report = score_notes(notes, preds, placeholder, "placeholder")
    words = sum(len(n["text"].split()) for n in notes)
    other_report = score_notes(other, detect([n["text"] for n in other]), placeholder, "placeholder")
    row = {
        "system": name, "seconds": round(seconds, 1), "words_per_s": round(words / seconds),
        "token": report["token"], "entity_strict_micro": report["entity_strict"]["micro"],
        "entity_relaxed_micro": report["entity_relaxed"]["micro"],
        "entity_strict": report["entity_strict"], "leaks_placeholder": report["leak_count"],
        "other_generator": {"token": other_report["token"], "leaks_placeholder": other_report["leak_count"],
                            "entity_relaxed_micro": other_report["entity_relaxed"]["micro"]},
    }
    if key_env and name in ("rules", "combined"):
        maker = SurrogateMaker(key_from_env(key_env))

        def surrogate(text, dets, patient):
            return apply_replacements(text, dets, "surrogate", patient_id=patient, surrogates=maker)

        sur = score_notes(notes, preds, surrogate, "surrogate")
        row["surrogate"] = {"leaks": sur["leak_count"], "collisions": len(sur["surrogate_collisions"]),
                            "consistency": sur["surrogate_consistency"], "date_intervals": sur["date_intervals"]}
    return row


def print_table(rows: List[Dict[str, Any]], notes: int, other: int) -> None:
    print(f"\nSynthetic PHI test split: {notes} notes (generator A); recall on {other} generator-B notes")
    head = (f"{'system':<10} {'all P':>6} {'all R':>6} {'all F':>6} {'HIPAA R':>7} {'struct R':>8} "
            f"{'strict F':>8} {'relax F':>7} {'leaks':>5} {'B: R':>6} {'words/s':>8}")
    print(head)
    for r in rows:
        if "error" in r:
            print(f"{r['system']:<10} not run: {r['error'][:110]}")
            continue
        t = r["token"]
        print(f"{r['system']:<10} {t['all']['p']:>6.3f} {t['all']['r']:>6.3f} {t['all']['f']:>6.3f} "
              f"{t['hipaa']['r_any']:>7.3f} {t['structured']['r_any']:>8.3f} "
              f"{r['entity_strict_micro']['f']:>8.3f} {r['entity_relaxed_micro']['f']:>7.3f} "
              f"{r['leaks_placeholder']:>5} {r['other_generator']['token']['all']['r']:>6.3f} {r['words_per_s']:>8}")
    for r in rows:
        if "surrogate" in r:
            s = r["surrogate"]
            c, d = s["consistency"], s["date_intervals"]
            print(f"{r['system']} surrogates: leaks {s['leaks']}, collisions {s['collisions']}, one surrogate per "
                  f"patient and original {c['consistent']}/{c['originals']}, date intervals kept {d['kept']}/{d['pairs']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", help="a make-corpus folder (default: generate one, seed 0, in a temp folder)")
    parser.add_argument("--model", help="trained PHI ner pipeline (configs/deid_ner.cfg); without it no model rows")
    parser.add_argument("--systems", default="rules,model,combined,presidio,philter")
    parser.add_argument("--limit", type=int, default=0, help="test notes (0: all)")
    parser.add_argument("--output", default=str(RESULTS / "deid.json"))
    args = parser.parse_args()
    from spacy_clinicalbert.deid.evaluate import read_gold
    from spacy_clinicalbert.deid.surrogates import KEY_ENV
    from spacy_clinicalbert.deid.synthetic import write_corpus

    t0 = time.perf_counter()
    corpus = Path(args.corpus) if args.corpus else Path(tempfile.mkdtemp(prefix="deid_corpus_"))
    if not (corpus / "test.jsonl").exists():
        write_corpus(corpus, seed=0)
    notes = read_gold(corpus / "test.jsonl")
    other = read_gold(corpus / "other.jsonl")
    if args.limit:
        notes = notes[:args.limit]
    os.environ[KEY_ENV] = secrets.token_hex(24)  # this run's key: never printed or written
    builders = {
        "rules": lambda: spacy_detector(rules_pipeline()),
        "model": lambda: spacy_detector(model_pipeline(args.model, rules=False)),
        "combined": lambda: spacy_detector(model_pipeline(args.model, rules=True)),
        "presidio": presidio_detector,
        "philter": philter_detector,
    }
    rows = []
    for name in args.systems.split(","):
        if name in ("model", "combined") and not args.model:
            rows.append({"system": name, "error": "no --model given (train configs/deid_ner.cfg first)"})
            continue
        try:
            detect = builders[name]()
        except Exception as err:  # a peer that does not install or run here: said, not hidden
            rows.append({"system": name, "error": f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"})
            continue
        print(f"== {name}", file=sys.stderr)
        rows.append(run_system(name, detect, notes, other, KEY_ENV))
    print_table(rows, len(notes), len(other))
    result = {"corpus": str(corpus), "test_notes": len(notes), "other_notes": len(other),
              "model": args.model, "command": " ".join(sys.argv), "rows": rows,
              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "wall_seconds": round(time.perf_counter() - t0, 1)}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
