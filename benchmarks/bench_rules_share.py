"""What share of the whole pipeline's time goes to the rule (medspaCy) stage on long notes.

Pipeline: clinicalbert (the real all-MiniLM-L6-v2 encoder, name "minilm-offline") + ner
(updated --ner-steps times on three synthetic sentences: its cost does not depend on its
training, only the number of entities it hands to ConText does) +
clinical_sentences + clinical_target_rules + clinical_sectionizer + clinical_context.
To give ConText a realistic number of targets, clinical_target_rules carries a lexicon of
common problem terms, so the rule stage measured here is heavier than with a model's entities
alone.

Notes: the first N distinct MTSamples transcriptions with at least --min-words words. The CSV
replaced line breaks by commas ("HEADER: ,text.,NEXT HEADER:"); we put line breaks back
(a data fix for the benchmark, not part of the library) so the sectionizer sees real headers.

The ner of this benchmark labels most tokens (a stress case for ConText: its cost grows with
the number of targets); a second timing of the rule stage runs on copies of the same docs with
the ner's entities removed, so only the lexicon makes entities (a realistic density).

Timing: each stage runs over all notes in turn (`pipe` with the same batch size) and is
timed alone; the share is rule stage / sum of stages. The CPU is shared with other jobs, so
absolute speeds vary; shares are robust to that. Repeated --repeats times; median reported.
Run with OMP_NUM_THREADS=1 so the encoder and the rules both use one core; on an idle
two-core machine torch would use both, so the share is also given for an encoder 2x faster.
A cross-check times `nlp.pipe` end to end with and without the rule components.

    OMP_NUM_THREADS=1 python benchmarks/bench_rules_share.py [--notes 24 --min-words 600]
"""
import argparse
import itertools
import json
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

import spacy
from spacy.training import Example

if __package__ in (None, ""):  # run as `python benchmarks/bench_rules_share.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, distinct_mtsamples  # noqa: E402
from spacy_clinicalbert.rules.assertions import ASSERTION_FLAGS  # noqa: E402

RULE_STAGE = ("clinical_sentences", "clinical_target_rules", "clinical_sectionizer", "clinical_context")
# A small problem lexicon we wrote, so ConText has realistic targets.
PROBLEM_TERMS = """pain chest pain abdominal pain back pain fever chills cough dyspnea shortness of breath nausea
vomiting diarrhea constipation headache dizziness syncope fatigue weakness numbness rash swelling edema
bleeding hematuria hypertension diabetes diabetes mellitus hyperlipidemia asthma copd pneumonia infection
sepsis cancer carcinoma tumor mass lesion fracture stroke myocardial infarction mi heart failure
atrial fibrillation arrhythmia anemia obesity depression anxiety seizure seizures tenderness
inflammation stenosis obstruction hernia ulcer gerd reflux allergies arthritis osteoarthritis
infection cellulitis abscess effusion murmur wheezing palpitations hypotension tachycardia""".split("\n")


def problem_rules():
    terms = set()
    for line in PROBLEM_TERMS:
        words = line.split()
        terms.update(words)
    for phrase in ("chest pain", "abdominal pain", "back pain", "shortness of breath", "diabetes mellitus",
                   "myocardial infarction", "heart failure", "atrial fibrillation"):
        terms.add(phrase)
    return [{"literal": term, "category": "PROBLEM"} for term in sorted(terms)]


def restore_lines(text: str) -> str:
    text = re.sub(r":\s*,\s*", ":\n", text)
    text = re.sub(r"\.\s*,(?=[A-Z])", ".\n", text)
    text = re.sub(r",(?=[A-Z][A-Z /&]+:)", "\n", text)
    return text


def long_notes(n: int, min_words: int):
    long = (text for text in distinct_mtsamples() if len(text.split()) >= min_words)
    return [restore_lines(text) for text in itertools.islice(long, n)]


def build(batch_size: int, ner_steps: int):
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": "minilm-offline"}})
    nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 64, "maxout_pieces": 2, "use_upper": False,
        "tok2vec": {"@architectures": "spacy-clinicalbert.TransformerListener.v1", "grad_factor": 1.0,
                    "upstream": "*", "pooling": {"@layers": "reduce_mean.v1"}}}})
    texts = ["Patient denies chest pain.", "History of MI in 2015.", "Rule out pneumonia."]
    examples = []
    for text, term in zip(texts, ["chest pain", "MI", "pneumonia"]):
        doc = nlp.make_doc(text)
        start = text.index(term)
        examples.append(Example.from_dict(doc, {"entities": [(start, start + len(term), "PROBLEM")]}))
    optimizer = nlp.initialize(lambda: examples)
    # A few updates teach the fresh ner that most tokens are outside entities, so it
    # predicts a plausible number of entities instead of labelling tokens at random.
    for _ in range(ner_steps):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    for name in RULE_STAGE:
        nlp.add_pipe(name)
    nlp.get_pipe("clinical_target_rules").add_rules(problem_rules())
    nlp.batch_size = batch_size
    return nlp


def run_stage(proc, docs, batch_size):
    start = time.perf_counter()
    if hasattr(proc, "pipe"):
        docs = list(proc.pipe(docs, batch_size=batch_size))
    else:
        docs = [proc(doc) for doc in docs]
    return docs, time.perf_counter() - start


def staged(nlp, notes, batch_size):
    """Stage times with the ner's entities ("ner") and, on copies of the same docs, with
    the ner's entities removed so only the lexicon rules make entities ("lexicon")."""
    times = {}
    start = time.perf_counter()
    docs = [nlp.make_doc(text) for text in notes]
    times["tokenizer"] = time.perf_counter() - start
    lexicon_docs, lexicon_times = None, {}
    for name, proc in nlp.pipeline:
        if name == RULE_STAGE[0]:
            lexicon_docs = [doc.copy() for doc in docs]  # untimed
            for doc in lexicon_docs:
                doc.ents = []
        docs, times[name] = run_stage(proc, docs, batch_size)
        if lexicon_docs is not None:
            lexicon_docs, lexicon_times[name] = run_stage(proc, lexicon_docs, batch_size)
    return times, docs, lexicon_times, lexicon_docs


def main(args):
    warnings.filterwarnings("ignore", message=".*torch.cuda.amp.autocast.*")
    notes = long_notes(args.notes, args.min_words)
    nlp = build(args.batch_size, args.ner_steps)
    words = sum(len(text.split()) for text in notes)
    print(f"{len(notes)} notes, {words} words (mean {words / len(notes):.0f}); pipeline {nlp.pipe_names}")
    staged(nlp, notes[:2], args.batch_size)  # warm up
    runs, docs = [], None
    for _ in range(args.repeats):
        times, docs, lex_times, lex_docs = staged(nlp, notes, args.batch_size)
        total = sum(times.values())
        rule = sum(times[name] for name in RULE_STAGE)
        other = total - rule
        lex_rule = sum(lex_times[name] for name in RULE_STAGE)
        runs.append({"times": times, "total": total, "rule": rule, "share": rule / total,
                     "share_if_encoder_2x": rule / (rule + other / 2),
                     "lexicon_times": lex_times, "lexicon_share": lex_rule / (other + lex_rule),
                     "lexicon_share_if_encoder_2x": lex_rule / (other / 2 + lex_rule)})
    shares = [run["share"] for run in runs]
    # Cross-check: end-to-end nlp.pipe, with and without the rule stage, alternating.
    e2e = {"with": [], "without": []}
    for _ in range(args.e2e_repeats):
        for key in ("with", "without"):
            disable = [] if key == "with" else list(RULE_STAGE)
            start = time.perf_counter()
            with nlp.select_pipes(disable=disable):
                for _doc in nlp.pipe(notes, batch_size=args.batch_size):
                    pass
            e2e[key].append(time.perf_counter() - start)
    e2e_share = 1 - statistics.median(e2e["without"]) / statistics.median(e2e["with"])
    def density(items):
        n = len(items)
        return {
            "entities": sum(len(doc.ents) for doc in items) / n,
            "rule_entities": sum(1 for doc in items for e in doc.ents if e._.clinical_rule) / n,
            "flagged": sum(1 for doc in items for e in doc.ents
                           if any(getattr(e._, flag) for flag in ASSERTION_FLAGS)) / n,
            "sentences": sum(len(list(doc.sents)) for doc in items) / n,
            "sections": sum(len(doc._.sections) for doc in items) / n,
        }

    per_note = {"ner": density(docs), "lexicon": density(lex_docs)}
    med = sorted(runs, key=lambda r: r["share"])[len(runs) // 2]
    print(f"\n{'stage':<24}{'seconds':>9}{'share':>8}{'lexicon-only s':>16}   (median run of {len(runs)})")
    for name, seconds in med["times"].items():
        lex = med["lexicon_times"].get(name)
        print(f"{name:<24}{seconds:>9.2f}{seconds / med['total']:>8.1%}" + (f"{lex:>16.2f}" if lex is not None else ""))
    print(f"{'rule stage (medspaCy)':<24}{med['rule']:>9.2f}{med['share']:>8.1%}"
          f"{sum(med['lexicon_times'][n] for n in RULE_STAGE):>16.2f}")
    for key, label in (("share", "ner entities"), ("lexicon_share", "lexicon entities only")):
        values = [run[key] for run in runs]
        proj = [run[key + "_if_encoder_2x"] for run in runs]
        print(f"rule-stage share, {label}: runs {', '.join(f'{v:.1%}' for v in values)}; median "
              f"{statistics.median(values):.1%}; if the encoder ran 2x faster {statistics.median(proj):.1%}")
    print(f"end-to-end nlp.pipe (ner entities): with rules {statistics.median(e2e['with']):.1f}s, without "
          f"{statistics.median(e2e['without']):.1f}s -> rule share {e2e_share:.1%}")
    for key, d in per_note.items():
        print(f"per note ({key}): {d['entities']:.1f} entities ({d['rule_entities']:.1f} from rules), "
              f"{d['flagged']:.1f} with a ConText flag, {d['sentences']:.1f} sentences, {d['sections']:.1f} sections")
    print(f"words/s whole pipeline {words / med['total']:.0f} (shared CPU)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"notes": len(notes), "words": words, "runs": runs, "median_share": statistics.median(shares),
                               "end_to_end": e2e, "end_to_end_share": e2e_share,
                               "per_note": per_note}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=40, help="number of long MTSamples notes")
    parser.add_argument("--min-words", type=int, default=600, help="minimum words per note")
    parser.add_argument("--batch-size", type=int, default=8, help="notes per batch for every stage")
    parser.add_argument("--ner-steps", type=int, default=20, help="updates of the fresh ner on 3 sentences")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--e2e-repeats", type=int, default=2, help="end-to-end cross-check runs")
    parser.add_argument("--out", default=str(RESULTS / "rules_share.json"))
    main(parser.parse_args())
