"""`python -m spacy_clinicalbert convert-corpus FORMAT INPUT OUTPUT_DIR`: annotated corpora →
train/dev/test.spacy and stats.json.

Not `convert`: `spacy convert` turns one file into one .spacy file without splits,
layers or relations; `convert` stays as a hidden alias for scripts written before the rename.
"""
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer
from wasabi import msg

from . import app, hidden_alias


@app.command("convert-corpus")
def convert_corpus_cli(
    fmt: str = typer.Argument(
        ..., metavar="FORMAT", help="Input format: ade, brat, conll, csv, i2b2 or jsonl."
    ),
    input_path: Path = typer.Argument(
        ...,
        metavar="INPUT",
        help="File or folder to read (ADE: the corpus folder; BRAT/i2b2: a folder of files or one "
        "file). With --dev-input/--test-input: the corpus's own training part.",
    ),
    output_dir: Path = typer.Argument(
        ..., help="Folder for train.spacy, dev.spacy, test.spacy and stats.json."
    ),
    alignment: str = typer.Option(
        "expand",
        "--alignment",
        "-a",
        help="Spans off token boundaries: expand to the tokens touched, contract to the tokens "
        "inside, or strict (stop with file and line).",
    ),
    ents_policy: str = typer.Option(
        "longest",
        "--ents-policy",
        help="Which entities go to doc.ents when they overlap: longest (then earliest) or first "
        "(then longest). All entities always go to doc.spans['entities'].",
    ),
    discontinuous: str = typer.Option(
        "fragments",
        "--discontinuous",
        help="How discontinuous entities take part in doc.ents: fragments (each piece), hull "
        "(first to last piece) or skip.",
    ),
    on_mismatch: str = typer.Option(
        "error",
        "--on-mismatch",
        help="Entity text differs from the text at its offsets: error (stop), keep (trust the "
        "offsets, count) or skip (drop the entity, count).",
    ),
    on_invalid: str = typer.Option(
        "error",
        "--on-invalid",
        help="Malformed lines or records, files without their partner: error (stop) or skip (count "
        "and report them).",
    ),
    prepare: bool = typer.Option(
        False,
        "--prepare/--no-prepare",
        help="Run clinical text preparation (typed de-id placeholders, whitespace) on each text "
        "and map annotations onto it.",
    ),
    split: str = typer.Option(
        "0.8,0.1,0.1",
        "--split",
        help="train,dev,test ratios of documents; groups (PMID, trial, distinct text) are never "
        "divided.",
    ),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the group shuffle: the same seed gives the same splits."
    ),
    split_lists: Optional[Path] = typer.Option(
        None,
        "--split-lists",
        help="Folder with train.txt/dev.txt/test.txt listing record or group ids: use these splits "
        "instead of ratios.",
    ),
    dev_input: str = typer.Option(
        "",
        "--dev-input",
        help="The corpus's own development file or folder (same format): taken as the dev split as "
        "it is. Empty: none.",
    ),
    test_input: str = typer.Option(
        "",
        "--test-input",
        help="The corpus's own test file or folder: taken as the test split as it is. A split "
        "without its own file is carved out of INPUT's groups by the --split ratios among the "
        "missing splits. Empty: none.",
    ),
    complete_layers: str = typer.Option(
        "",
        "--complete-layers",
        help="Comma-separated layers (entities, relations, categories, attributes) that every "
        "document annotates, where the format cannot say so (e.g. a BRAT corpus whose empty .ann "
        "files mean 'nothing here'). A layer a document does not annotate is left missing: not "
        "trained, not scored.",
    ),
    tokenizer: str = typer.Option(
        "clinical",
        "--tokenizer",
        help="clinical (spaCy English + clinical rules), default (spacy.blank), or a pipeline "
        "name/folder whose tokenizer to use.",
    ),
    lang: str = typer.Option(
        "en", "--lang", help="Language of spacy.blank for the clinical/default tokenizer."
    ),
    group_pattern: Optional[str] = typer.Option(
        None,
        "--group-pattern",
        help="brat: regex on the file stem whose 'group' capture is the split group (default: the "
        "stem before _inc/_exc).",
    ),
    text_column: Optional[str] = typer.Option(
        None,
        "--text-column",
        help="csv: column holding the note text (default 'text'); jsonl: key of the text (default "
        "'text').",
    ),
    label_column: Optional[List[str]] = typer.Option(
        None,
        "--label-column",
        help="csv: column with the category label; repeat for several columns (multi-label).",
    ),
    id_column: Optional[str] = typer.Option(
        None, "--id-column", help="csv: column with a record id (default: the row number)."
    ),
    multilabel: Optional[bool] = typer.Option(
        None,
        "--multilabel/--exclusive",
        help="csv: labels are not mutually exclusive (cats may hold several 1.0) or exactly one "
        "label per text.",
    ),
    dedupe: Optional[bool] = typer.Option(
        None,
        "--dedupe/--no-dedupe",
        help="csv: merge rows with the same text (whitespace-insensitive) into one doc; labels are "
        "united (multi-label) or the first kept (exclusive, conflicts counted).",
    ),
    category_mode: str = typer.Option(
        "",
        "--category-mode",
        help="csv: 'exclusive' or 'multilabel', the same as --exclusive/--multilabel in a form a "
        "workflow variable can carry; empty: the flag or the default.",
    ),
    dedupe_texts: str = typer.Option(
        "",
        "--dedupe-texts",
        help="csv: 'yes' or 'no', the same as --dedupe/--no-dedupe in a form a workflow variable "
        "can carry; empty: the flag or the default.",
    ),
    delimiter: Optional[str] = typer.Option(
        None, "--delimiter", help="csv: field delimiter (default: tab for .tsv, comma otherwise)."
    ),
    label_separator: Optional[str] = typer.Option(
        None,
        "--label-separator",
        help="csv: split a label cell on this string into several labels (multi-label).",
    ),
    token_column: Optional[int] = typer.Option(
        None, "--token-column", help="conll: 0-based column of the token (default 0)."
    ),
    tag_column: Optional[int] = typer.Option(
        None, "--tag-column", help="conll: 0-based column of the tag (default -1, the last)."
    ),
    scheme: Optional[str] = typer.Option(
        None,
        "--scheme",
        help="conll: tag scheme iob (IOB1), iob2 or biluo; auto detects it (default).",
    ),
    group_key: Optional[str] = typer.Option(
        None,
        "--group-key",
        help="jsonl: dotted key of the split group, e.g. meta.note_id (default: meta.group, else "
        "the text).",
    ),
):
    """Convert an annotated corpus to spaCy DocBin files plus stats.json.

    Entities go to doc.spans['entities'] (all) and doc.ents (non-overlapping),
    relations to doc._.relations, categories to doc.cats. Each doc records the
    layers it annotates; a layer it does not annotate stays missing (ADE-NEG
    sentences: entities missing, not empty). Bad input stops with the file and
    line unless --on-invalid/--on-mismatch say to count and go on; a corpus
    without any annotation stops with a message.
    """
    from ..corpus import CorpusError, convert, parse_ratios
    from ..layers import parse_layers

    reader_options: Dict[str, Any] = {
        "group_pattern": group_pattern,
        "text_column": text_column,
        "label_columns": label_column or None,
        "id_column": id_column,
        "multilabel": multilabel,
        "dedupe": dedupe,
        "delimiter": delimiter,
        "label_separator": label_separator,
        "token_column": token_column,
        "tag_column": tag_column,
        "scheme": scheme,
        "group_key": group_key,
    }
    if category_mode:
        if category_mode not in ("exclusive", "multilabel"):
            msg.fail(
                "Conversion failed",
                f"--category-mode must be exclusive or multilabel, got {category_mode!r}",
                exits=1,
            )
        reader_options["multilabel"] = category_mode == "multilabel"
    if dedupe_texts:
        if dedupe_texts not in ("yes", "no"):
            msg.fail(
                "Conversion failed",
                f"--dedupe-texts must be yes or no, got {dedupe_texts!r}",
                exits=1,
            )
        reader_options["dedupe"] = dedupe_texts == "yes"
    # Empty values are what a workflow variable left unset passes: not given.
    reader_options = {k: v for k, v in reader_options.items() if v not in (None, "", [""])}
    try:
        ratios = parse_ratios(split)
        complete = parse_layers(complete_layers)
        result = convert(
            fmt, input_path, output_dir, tokenizer=tokenizer, lang=lang, alignment=alignment,
            ents_policy=ents_policy, discontinuous=discontinuous, on_mismatch=on_mismatch,
            on_invalid=on_invalid, prepare=prepare, ratios=ratios, seed=seed,
            split_lists=split_lists, dev_input=dev_input or None, test_input=test_input or None,
            complete_layers=complete, **reader_options,
        )
    except (CorpusError, ValueError) as err:
        msg.fail("Conversion failed", str(err), exits=1)
    result.stats.print()
    msg.good(
        f"Wrote {sum(len(d) for d in result.docs.values())} docs to {output_dir} "
        f"in {result.stats.seconds:.1f}s (+{result.stats.settings['nlp_load_seconds']:.1f}s "
        "building the tokenizer pipeline)",
        ", ".join(str(p) for p in result.paths.values()),
    )


hidden_alias("convert", "convert-corpus", convert_corpus_cli)
