"""`deid`: de-identify notes, make the synthetic PHI corpus, score a de-identifier.

python -m spacy_clinicalbert deid run INPUT OUTPUT [--strategy surrogate] [--offsets map.jsonl]
python -m spacy_clinicalbert deid make-corpus OUTPUT_DIR [--seed 0]
python -m spacy_clinicalbert deid evaluate GOLD.jsonl [--pipeline PATH] [--output metrics.json]
python -m spacy_clinicalbert deid prepare NOTES models/deid --enabled yes   (the workflow step)
"""

import itertools
import json
from pathlib import Path
from typing import Iterator, Optional, Tuple

import typer
from wasabi import msg

from . import app

deid_app = typer.Typer(
    name="deid",
    help="De-identification: find PHI (i2b2 2014 categories), replace it, measure what is left.",
    no_args_is_help=True,
)
app.add_typer(deid_app, name="deid")


def _notes(
    path: Path, text_field: str, patient_field: str, stats
) -> Iterator[Tuple[str, str, str, Path]]:
    """(source, patient id, text, file) from txt (file or folder), JSONL or CSV: the
    pretraining readers, with the patient column as the record id."""
    from ..pretraining.readers import expand_inputs, read_csv, read_jsonl, read_txt

    for file in expand_inputs([path]):
        suffix = file.suffix.lower()
        if suffix == ".txt":
            for note in read_txt(file, stats):
                yield note.source, file.stem, note.text, file
        elif suffix in (".jsonl", ".ndjson"):
            for note in read_jsonl(file, stats, text_field, patient_field):
                yield note.source, note.id or "", note.text, file
        else:
            for note in read_csv(file, stats, text_field, patient_field):
                yield note.source, note.id or "", note.text, file


@deid_app.command("run")
def run_cli(
    input_path: Path = typer.Argument(
        ..., exists=True, help="Notes: a .txt file, a folder of .txt files, JSONL or CSV."
    ),
    output_path: Path = typer.Argument(
        ...,
        help="Where the de-identified notes go: a folder for a folder of .txt files, else a "
        "file of the same kind (.txt, .jsonl, .csv).",
    ),
    strategy: str = typer.Option(
        "placeholder",
        "--strategy",
        "-s",
        help="placeholder ([NAME], [DATE]: MIMIC-style typed placeholders), mask (****), redact "
        "(remove) or surrogate (fake values, consistent per patient; needs the key variable).",
    ),
    pipeline: Optional[str] = typer.Option(
        None,
        "--pipeline",
        help="A saved pipeline with clinical_deid (e.g. after a trained PHI "
        "ner); default: a blank English pipeline with the pattern and context rules.",
    ),
    text_field: str = typer.Option(
        "text", "--text-field", help="JSONL field or CSV column holding the note."
    ),
    patient_field: str = typer.Option(
        "patient_id",
        "--patient-field",
        help="JSONL field or CSV column holding the patient id: surrogates and date shifts are "
        "consistent per patient. A .txt file is one patient (its file name).",
    ),
    key_env: str = typer.Option(
        "SPACY_CLINICALBERT_DEID_KEY",
        "--key-env",
        help="Environment variable holding the secret surrogate key (never written anywhere).",
    ),
    offsets: Optional[Path] = typer.Option(
        None,
        "--offsets",
        help="Also write one JSON line per note: the replaced stretches' input "
        "and output offsets and labels (no PHI), to move annotations between the two texts.",
    ),
    limit: int = typer.Option(0, "--limit", help="Stop after this many notes (0: all)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Notes per nlp.pipe batch."),
):
    """De-identify notes. JSONL and CSV output hold the note's source (file:line/row), the
    de-identified text and, with a key, a keyed pseudonym of the patient id; other columns
    are not copied, since they may hold PHI the text rules never saw."""
    import csv
    import hashlib
    import hmac

    import spacy

    from ..corpus.records import CorpusError
    from ..deid.replace import STRATEGIES, Deidentifier
    from ..deid.surrogates import KeyError_, key_from_env
    from ..pretraining.readers import ReadStats

    if strategy not in STRATEGIES:
        msg.fail(f"--strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}", exits=1)
    try:
        deid = Deidentifier(
            spacy.load(pipeline) if pipeline else None, strategy=strategy, key_env=key_env
        )
        key = key_from_env(key_env) if strategy == "surrogate" else None
    except (KeyError_, ValueError) as err:
        msg.fail(str(err), exits=1)
    folder_out = input_path.is_dir()
    suffix = output_path.suffix.lower()
    if not folder_out and suffix not in (".txt", ".jsonl", ".csv"):
        msg.fail(f"{output_path}: the output must end in .txt, .jsonl or .csv", exits=1)
    stats = ReadStats()
    records = _notes(input_path, text_field, patient_field, stats)
    if limit:
        records = itertools.islice(records, limit)
    items = (
        (text, {"source": source, "patient_id": patient, "file": file})
        for source, patient, text, file in records
    )

    def pseudonym(patient: str) -> Optional[str]:
        if key is None or not patient:
            return None
        return hmac.new(key, f"patient\x1f{patient}".encode("utf8"), hashlib.sha256).hexdigest()[
            :16
        ]

    from tqdm import tqdm

    (output_path if folder_out else output_path.parent).mkdir(parents=True, exist_ok=True)
    out_handle = None if folder_out else output_path.open("w", encoding="utf8", newline="")
    writer = csv.writer(out_handle) if out_handle is not None and suffix == ".csv" else None
    if writer is not None:
        writer.writerow(["source", "patient_pseudonym", text_field])
    offsets_handle = offsets.open("w", encoding="utf8") if offsets else None
    counts = {"notes": 0, "phi": 0}
    labels: dict = {}
    try:
        results = deid.pipe(items, batch_size=batch_size)
        for result, context in tqdm(results, desc="notes", unit="note"):
            source, patient, file = context["source"], context["patient_id"], context["file"]
            counts["notes"] += 1
            counts["phi"] += len(result.replacements)
            for r in result.replacements:
                labels[r.label] = labels.get(r.label, 0) + 1
            if folder_out:
                target = output_path / file.relative_to(input_path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(result.text, encoding="utf8")
            elif writer is not None:
                writer.writerow([source, pseudonym(patient) or "", result.text])
            elif suffix == ".jsonl":
                record = {"source": source, text_field: result.text}
                if pseudonym(patient):
                    record["patient_pseudonym"] = pseudonym(patient)
                out_handle.write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[union-attr]
            else:
                # one .txt file is one note (the reader's "file" mode)
                out_handle.write(result.text)  # type: ignore[union-attr]
            if offsets_handle is not None:
                offsets_handle.write(
                    json.dumps({"source": source, **result.offsets_record()}) + "\n"
                )
    except CorpusError as err:
        msg.fail(str(err), exits=1)
    finally:
        if out_handle is not None:
            out_handle.close()
        if offsets_handle is not None:
            offsets_handle.close()
    shown = ", ".join(f"{k} {v}" for k, v in sorted(labels.items(), key=lambda kv: -kv[1]))
    msg.good(
        f"De-identified {counts['notes']} notes ({strategy}): {counts['phi']} PHI spans replaced",
        shown or None,
    )
    if stats.empty:
        msg.warn(f"Skipped {stats.empty} empty notes: {', '.join(stats.empty_examples)}")


@deid_app.command("make-corpus")
def make_corpus_cli(
    output_dir: Path = typer.Argument(
        ..., help="Folder for the corpus (keep it out of git: it is generated)."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Random seed: the same seed writes the same corpus."
    ),
    mtsamples: Optional[Path] = typer.Option(
        None,
        "--mtsamples",
        help="mtsamples.csv (default: $SPACY_CLINICALBERT_DATA/mtsamples/mtsamples.csv).",
    ),
    notes: int = typer.Option(
        600, "--notes", help="MTSamples notes to fill with PHI (generator A)."
    ),
    templates: int = typer.Option(300, "--templates", help="Template notes (generator A)."),
    other: int = typer.Option(
        150,
        "--other",
        help="Notes of the second generator (B: other templates, en_GB/en_AU names): test only.",
    ),
    split: str = typer.Option(
        "0.7,0.15,0.15", "--split", help="train,dev,test fractions of generator A, by note."
    ),
):
    """Write the synthetic PHI corpus: {train,dev,test}.jsonl of generator A (MTSamples notes
    with PHI written where notes carry it, plus template notes), other.jsonl of generator B,
    their .spacy versions (gold PHI as entities, for training a recognizer) and stats.json."""
    from ..deid.synthetic import write_corpus

    fractions = tuple(float(x) for x in split.split(","))
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-6:
        msg.fail(f"--split {split!r}: three fractions that add up to 1", exits=1)
    stats = write_corpus(
        output_dir,
        seed=seed,
        mtsamples=mtsamples,
        n_notes=notes,
        n_templates=templates,
        n_other=other,
        split=fractions,
    )
    msg.good(
        f"Wrote the synthetic PHI corpus to {output_dir}",
        ", ".join(f"{k}: {v['notes']} notes, {v['phi']} PHI" for k, v in stats["splits"].items()),
    )


@deid_app.command("evaluate")
def evaluate_cli(
    gold: Path = typer.Argument(
        ..., exists=True, help="Gold JSONL from make-corpus (text, spans, patient_id)."
    ),
    pipeline: Optional[str] = typer.Option(
        None, "--pipeline", help="Pipeline with clinical_deid (default: the rules)."
    ),
    strategy: str = typer.Option(
        "surrogate", "--strategy", help="Replacement whose output the leak report checks."
    ),
    key_env: str = typer.Option(
        "SPACY_CLINICALBERT_DEID_KEY", "--key-env", help="Key variable for surrogates."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", help="Write the scores and the leak report as JSON."
    ),
    limit: int = typer.Option(0, "--limit", help="Score only the first N notes (0: all)."),
):
    """i2b2 2014 scores: token-level binary PHI P/R/F (all PHI and the HIPAA subset, and the
    structured kinds), entity-level strict and relaxed P/R/F per category, and the leak
    report: every gold PHI string still in the de-identified output, with note and offset."""
    import spacy

    from ..deid.evaluate import evaluate_deid, read_gold, summary_table
    from ..deid.replace import Deidentifier
    from ..deid.surrogates import KeyError_

    notes = read_gold(gold)
    if limit:
        notes = notes[:limit]
    try:
        deid = Deidentifier(
            spacy.load(pipeline) if pipeline else None, strategy=strategy, key_env=key_env
        )
    except (KeyError_, ValueError) as err:
        msg.fail(str(err), exits=1)
    report = evaluate_deid(deid, notes)
    print(summary_table(report))
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")
        msg.good(f"Wrote {output}")


@deid_app.command("prepare")
def prepare_cli(
    notes: Path = typer.Argument(
        ...,
        exists=True,
        help="The raw notes the workflow pretrains on (.txt, .jsonl, .csv or a folder).",
    ),
    output_dir: Path = typer.Argument(
        ..., help="Folder for notes/ (what domain-pretrain reads) and deid.json."
    ),
    enabled: str = typer.Option(
        "no",
        "--enabled",
        help="yes: de-identify the notes; no: pass them on as they are (a link), recorded as such.",
    ),
    strategy: str = typer.Option(
        "placeholder", "--strategy", help="Replacement strategy when enabled (see `deid run`)."
    ),
    text_field: str = typer.Option(
        "text", "--text-field", help="JSONL field or CSV column holding the note."
    ),
    patient_field: str = typer.Option(
        "patient_id", "--patient-field", help="JSONL field or CSV column holding the patient id."
    ),
    key_env: str = typer.Option(
        "SPACY_CLINICALBERT_DEID_KEY", "--key-env", help="Key variable for surrogates."
    ),
):
    """The workflow's optional de-identification step before pretraining: writes
    OUTPUT_DIR/notes/ (the de-identified notes, or a link to the originals when disabled)
    and OUTPUT_DIR/deid.json, which `package` records in meta.json. A model pretrained on
    raw notes can memorise the names in them."""
    import shutil

    from ..about import __version__

    flag = enabled.strip().lower()
    if flag not in ("yes", "no", "true", "false", "1", "0"):
        msg.fail(f"--enabled {enabled!r}: yes or no", exits=1)
    on = flag in ("yes", "true", "1")
    target_dir = output_dir / "notes"
    if target_dir.exists() or target_dir.is_symlink():
        if target_dir.is_symlink() or target_dir.is_file():
            target_dir.unlink()
        else:
            shutil.rmtree(target_dir)
    target_dir.mkdir(parents=True)
    target = target_dir / (notes.name if notes.is_file() else notes.name or "notes")
    record = {
        "enabled": on,
        "input": str(notes),
        "strategy": strategy if on else None,
        "component": "clinical_deid",
        "package_version": __version__,
    }
    if on:
        run_cli(
            notes,
            target,
            strategy=strategy,
            pipeline=None,
            text_field=text_field,
            patient_field=patient_field,
            key_env=key_env,
            offsets=output_dir / "offsets.jsonl",
            limit=0,
            batch_size=16,
        )
        record["offsets"] = str(output_dir / "offsets.jsonl")
    elif notes.is_dir():  # file by file: the readers do not descend into linked folders
        from ..pretraining.readers import expand_inputs

        for file in expand_inputs([notes]):
            link = target / file.relative_to(notes)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(file.resolve())
        msg.info(f"De-identification off (vars.deid_notes): {target} links to the files of {notes}")
    else:
        target.symlink_to(notes.resolve())
        msg.info(f"De-identification off (vars.deid_notes): {target} links to {notes}")
    (output_dir / "deid.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf8")
    msg.good(f"Wrote {output_dir / 'deid.json'}")


@deid_app.command("corpus")
def corpus_cli(
    corpus_dir: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="The converted corpus: convert-corpus's folder."
    ),
    output_dir: Path = typer.Argument(
        ..., help="Folder for the de-identified .spacy files (same names), e.g. corpus/deid."
    ),
    enabled: str = typer.Option(
        "yes",
        "--enabled",
        help="yes: de-identify; no: link the .spacy files as they are (the workflow's off "
        "switch, vars.deid_notes), recorded as such.",
    ),
    strategy: str = typer.Option(
        "placeholder", "--strategy", "-s", help="Replacement strategy (see `deid run`)."
    ),
    pipeline: Optional[str] = typer.Option(
        None,
        "--pipeline",
        help="A saved pipeline with clinical_deid; default: the pattern and context rules.",
    ),
    on_phi_overlap: str = typer.Option(
        "keep",
        "--on-phi-overlap",
        help="A gold span that overlaps replaced PHI: keep (moved onto the replacement, "
        "counted), drop (counted, with the relations it takes part in) or error (stop).",
    ),
    record: Optional[Path] = typer.Option(
        None,
        "--record",
        help="Write the run's record here too (the workflow: models/deid/corpus.json, which "
        "`package` puts into meta.json). Always written as OUTPUT_DIR/deid.json.",
    ),
    key_env: str = typer.Option(
        "SPACY_CLINICALBERT_DEID_KEY", "--key-env", help="Key variable for surrogates."
    ),
    batch_size: int = typer.Option(16, "--batch-size", help="Docs per nlp.pipe batch."),
):
    """De-identify a converted corpus (every .spacy file of CORPUS_DIR, any source format)
    doc by doc: the text is replaced and the gold entities, span groups, relations,
    categories and annotation layers are moved onto the new text. Spans that overlap
    replaced PHI are counted per layer in the record; nothing is dropped silently. The
    patient of a doc (surrogates, date shifts) is its note id."""
    import spacy
    from spacy.tokens import DocBin
    from tqdm import tqdm

    from ..about import __version__
    from ..deid.corpus import ON_OVERLAP, CorpusDeidStats, PhiOverlapError, deidentify_docs
    from ..deid.replace import STRATEGIES, Deidentifier
    from ..deid.surrogates import KeyError_

    flag = enabled.strip().lower()
    if flag not in ("yes", "no", "true", "false", "1", "0"):
        msg.fail(f"--enabled {enabled!r}: yes or no", exits=1)
    on = flag in ("yes", "true", "1")
    if strategy not in STRATEGIES:
        msg.fail(f"--strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}", exits=1)
    if on_phi_overlap not in ON_OVERLAP:
        msg.fail(f"--on-phi-overlap {on_phi_overlap!r}: one of {', '.join(ON_OVERLAP)}", exits=1)
    files = sorted(corpus_dir.glob("*.spacy"))
    if not files:
        msg.fail(f"{corpus_dir}: no .spacy files (run convert-corpus first)", exits=1)
    if output_dir.resolve() == corpus_dir.resolve():
        msg.fail("OUTPUT_DIR must differ from CORPUS_DIR (the originals are kept)", exits=1)
    output_dir.mkdir(parents=True, exist_ok=True)
    info: dict = {
        "enabled": on,
        "input": str(corpus_dir),
        "strategy": strategy if on else None,
        "on_phi_overlap": on_phi_overlap if on else None,
        "component": "clinical_deid",
        "pipeline": pipeline if on else None,
        "package_version": __version__,
        "files": {},
    }
    if on:
        try:
            deid = Deidentifier(
                spacy.load(pipeline) if pipeline else None, strategy=strategy, key_env=key_env
            )
        except (KeyError_, ValueError) as err:
            msg.fail(str(err), exits=1)
    for file in files:
        target = output_dir / file.name
        if target.exists() or target.is_symlink():
            target.unlink()
        if not on:
            target.symlink_to(file.resolve())
            info["files"][file.name] = "linked"
            continue
        from ..relations.data import install_extensions

        install_extensions()
        docbin = DocBin().from_disk(file)
        nlp = deid.nlp
        docs = list(docbin.get_docs(nlp.vocab))
        stats = CorpusDeidStats()
        try:
            new_docs = deidentify_docs(
                list(tqdm(docs, desc=file.name, unit="doc", leave=False)),
                deid,
                stats,
                on_overlap=on_phi_overlap,
                source=str(file),
                batch_size=batch_size,
            )
        except PhiOverlapError as err:
            msg.fail(str(err), exits=1)
        DocBin(store_user_data=True, docs=new_docs).to_disk(target)
        info["files"][file.name] = stats.to_dict()
        over = sum(stats.overlapping.values())
        msg.good(
            f"{file.name}: {stats.docs} docs, {stats.docs_changed} with PHI, "
            f"{sum(stats.replacements.values())} replacements, {over} gold spans overlapping "
            f"PHI ({on_phi_overlap}), dropped {dict(stats.dropped) or 'none'} -> {target}"
        )
    if not on:
        msg.info(f"De-identification off (vars.deid_notes): {output_dir} links to {corpus_dir}")
    text = json.dumps(info, indent=2) + "\n"
    (output_dir / "deid.json").write_text(text, encoding="utf8")
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(text, encoding="utf8")
    msg.good(f"Wrote {output_dir / 'deid.json'}")
