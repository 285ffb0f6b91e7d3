"""MTSamples specialty from frozen encoders: a linear probe on doc vectors.

Fine-tuning `textcat` on MTSamples' long notes (1,885 training notes, 1.1 M tokens) needs several
epochs, about 50 min each on 2 cores; at the 150 steps bench_accuracy.py can afford, both encoders
still predicted the majority class. A probe asks the question that budget can answer: how much
does each encoder's representation of a note tell about its specialty?

For each encoder, the `clinicalbert` component (its windows and length-sorted chunks) encodes
every note once, with no training; a note's vector is the mean and the max of its real
wordpieces' hidden states. scikit-learn's LogisticRegression is fit on the training split, C is
chosen on dev (macro F1, from 0.01 to 1,000), and the test split is scored (accuracy, macro F1). Two references on
the same splits: the majority class, and TF-IDF word n-grams with the same classifier.

    python benchmarks/bench_probe.py --domain-model models/pretrained     # ~23 min on 2 idle cores
    python benchmarks/bench_probe.py --limit 200                          # smoke run, ~3 min
Corpus: the project's csv converter (`--dedupe --exclusive --seed 0`), as bench_accuracy.py makes it.
Vectors are cached under --work; results go to benchmarks/results/probe.json.
"""
import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

if __package__ in (None, ""):  # run as `python benchmarks/bench_probe.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_accuracy import convert  # noqa: E402
from benchmarks.common import RESULTS, quiet_offline  # noqa: E402

quiet_offline()

SPLITS = ("train", "dev", "test")
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def load_split(path: Path, limit: int) -> Tuple[List[str], List[str]]:
    """Texts and their single specialty label (the converter writes exclusive cats)."""
    import spacy
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))[: limit or None]
    texts, labels = [], []
    for i, doc in enumerate(docs):
        positive = [label for label, value in doc.cats.items() if value >= 0.5]
        if len(positive) != 1:
            raise SystemExit(f"{path}: doc {i} has {len(positive)} positive categories; expected exactly 1")
        texts.append(doc.text)
        labels.append(positive[0])
    return texts, labels


def encoder_pipeline(encoder: str):
    """The project's tokenizer and `clinicalbert` component with its defaults, initialized on `encoder`."""
    from spacy_clinicalbert.text.tokenizer import blank_clinical

    nlp = blank_clinical()
    nlp.add_pipe("clinicalbert", config={"model": {"name": encoder}})
    nlp.initialize()
    return nlp


def doc_vectors(nlp, texts: List[str], batch_size: int, desc: str):
    """Mean and max over each note's real wordpieces (all its windows), one row per note."""
    import numpy
    from tqdm import tqdm

    pipe = nlp.get_pipe("clinicalbert")
    rows = []
    for start in tqdm(range(0, len(texts), batch_size), desc=desc, unit="batch", file=sys.stderr):
        docs = [nlp.make_doc(text) for text in texts[start:start + batch_size]]
        batch = pipe.model.predict(docs)
        for doc_data in batch.doc_data:
            hidden = numpy.asarray(doc_data.model_output.last_hidden_state)
            mask = numpy.asarray(doc_data.wordpieces.attention_mask).astype(bool)
            real = hidden[mask]
            rows.append(numpy.concatenate([real.mean(axis=0), real.max(axis=0)]))
    return numpy.stack(rows).astype("float32")


def fit_and_score(train_x, train_y, dev_x, dev_y, test_x, test_y, scale: bool) -> Dict:
    """Logistic regression, C picked on dev macro F1; test accuracy and macro F1."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    best = None
    for c in C_GRID:
        steps = ([StandardScaler()] if scale else []) + [LogisticRegression(C=c, max_iter=3000)]
        model = make_pipeline(*steps).fit(train_x, train_y)
        dev_f = f1_score(dev_y, model.predict(dev_x), average="macro")
        if best is None or dev_f > best[0]:
            best = (dev_f, c, model)
    dev_f, c, model = best
    predicted = model.predict(test_x)
    return {"C": c, "dev_macro_f": dev_f, "accuracy": accuracy_score(test_y, predicted),
            "macro_f": f1_score(test_y, predicted, average="macro")}


def majority(train_y, test_y) -> Dict:
    from collections import Counter

    from sklearn.metrics import accuracy_score, f1_score

    label = Counter(train_y).most_common(1)[0][0]
    predicted = [label] * len(test_y)
    return {"label": label, "accuracy": accuracy_score(test_y, predicted),
            "macro_f": f1_score(test_y, predicted, average="macro")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domain-model", help="a domain-pretrained encoder folder to compare with MiniLM")
    parser.add_argument("--limit", type=int, default=0, help="first N notes of each split (0: all)")
    parser.add_argument("--batch-size", type=int, default=16, help="notes per encoder call")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="/tmp/bench_accuracy", help="corpus and cached vectors")
    parser.add_argument("--output", default=str(RESULTS / "probe.json"))
    args = parser.parse_args()
    import numpy
    import torch
    from sklearn.feature_extraction.text import TfidfVectorizer

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    work = Path(args.work)
    corpus = work / "mtsamples"
    work.mkdir(parents=True, exist_ok=True)
    convert("mtsamples", corpus, work / "log.txt")
    data = {split: load_split(corpus / f"{split}.spacy", args.limit) for split in SPLITS}
    (train_t, train_y), (dev_t, dev_y), (test_t, test_y) = (data[s] for s in SPLITS)
    result = {"command": " ".join(sys.argv), "threads": args.threads,
              "notes": {s: len(data[s][0]) for s in SPLITS}, "labels": len(set(train_y)),
              "systems": {"majority class": majority(train_y, test_y)}}

    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    result["systems"]["TF-IDF 1-2 grams"] = fit_and_score(
        tfidf.fit_transform(train_t), train_y, tfidf.transform(dev_t), dev_y,
        tfidf.transform(test_t), test_y, scale=False)

    encoders = {"MiniLM (frozen)": "minilm-offline"}
    if args.domain_model:
        encoders["domain-pretrained (frozen)"] = str(Path(args.domain_model).resolve())
    for label, encoder in encoders.items():
        started = time.perf_counter()
        nlp = encoder_pipeline(encoder)
        vectors = {}
        for split in SPLITS:
            key = hashlib.sha1(f"{encoder}|{split}|{args.limit}".encode("utf8")).hexdigest()[:12]
            cache = work / f"probe_{key}.npy"
            if cache.exists():
                vectors[split] = numpy.load(cache)
            else:
                vectors[split] = doc_vectors(nlp, data[split][0], args.batch_size, f"{label} {split}")
                numpy.save(cache, vectors[split])
        figures = fit_and_score(vectors["train"], train_y, vectors["dev"], dev_y,
                                vectors["test"], test_y, scale=True)
        figures.update(encoder=encoder, seconds=round(time.perf_counter() - started, 1))
        result["systems"][label] = figures
        print(f"{label}: accuracy {figures['accuracy']:.3f} macro F1 {figures['macro_f']:.3f}", file=sys.stderr)

    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    print(f"\nMTSamples specialty, test split ({len(test_y)} notes, {result['labels']} specialties "
          f"in train): linear probe")
    print("| system | accuracy | macro F1 | C (dev) |")
    print("|---|---:|---:|---:|")
    for label, figures in result["systems"].items():
        print(f"| {label} | {figures['accuracy'] * 100:.1f} | {figures['macro_f'] * 100:.1f} | "
              f"{figures.get('C', '-')} |")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(f"wrote {args.output} ({result['wall_seconds']} s)")


if __name__ == "__main__":
    main()
