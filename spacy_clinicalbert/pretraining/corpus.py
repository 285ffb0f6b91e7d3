"""Stream notes once into a tokenized, split, de-duplicated corpus on disk.

Steps per note: read → clinical text preparation (shared with the corpus converters)
→ de-duplication with the converters' `text_key` (texts equal up to whitespace) →
held-out split by a hash of the text (stable across runs and machines, and duplicates
can never straddle the split) → sentences → wordpieces → packed sequences. Every
skipped note is counted.

The result is cached under a fingerprint of the inputs and settings, so a resumed run
and the other ranks of a multi-GPU run reuse it instead of rebuilding.
"""
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ..text import text_key
from .examples import NspPairBuilder, pack_mlm
from .readers import CorpusError, ReadStats, expand_inputs, iter_notes
from .sentences import SPLITTER_NAME, SentenceSplitter
from .settings import PretrainingSettings
from .store import ShardWriter, TokenDataset, shard_exists
from .vocab_fit import VocabularyFit

logger = logging.getLogger("spacy_clinicalbert.pretraining")

CACHE_FORMAT = 1
NOTE_BATCH = 32


def default_text_preparer() -> Tuple[Callable[[str], str], str]:
    """The shared clinical text preparation, as a str → str function, and its name."""
    from ..text import prepare_clinical_text

    def prepare(text: str) -> str:
        prepared = prepare_clinical_text(text)
        return prepared if isinstance(prepared, str) else prepared.text

    return prepare, "spacy_clinicalbert.text.prepare_clinical_text"


@dataclass
class CorpusInfo:
    """Where the tokenized corpus lives and what went into it."""

    folder: Path
    stats: Dict[str, Any] = field(default_factory=dict)  # info.json

    def dataset(self, name: str) -> TokenDataset:
        return TokenDataset(self.folder, name)

    def has(self, name: str) -> bool:
        return shard_exists(self.folder, name)


def _is_held_out(key: str, fraction: float) -> bool:
    """Held out when the text's hash falls below `fraction`: no list of notes to keep."""
    return int(key[:16], 16) / 2**64 < fraction


def corpus_fingerprint(settings: PretrainingSettings, tokenizer, preparer_name: str) -> str:
    files = []
    for path in expand_inputs(settings.inputs):
        stat = path.stat()
        files.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns])
    tok = tokenizer.backend_tokenizer.to_str() if getattr(tokenizer, "is_fast", False) else repr(
        sorted(tokenizer.get_vocab().items())
    )
    payload = {
        "format": CACHE_FORMAT,
        "files": files,
        "tokenizer": hashlib.sha256(tok.encode("utf8")).hexdigest(),
        "preparer": preparer_name if settings.prepare_text else None,
        "splitter": SPLITTER_NAME,
        **{
            key: getattr(settings, key)
            for key in (
                "text_field", "txt_mode", "dedupe", "max_notes", "eval_fraction",
                "max_eval_sequences", "objective", "random_next_probability", "max_length", "seed",
            )
        },
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf8")).hexdigest()[:16]


class _NoteStream:
    """Prepared, de-duplicated notes with their split, and the counts of what was skipped."""

    def __init__(self, settings: PretrainingSettings, prepare: Optional[Callable[[str], str]]):
        self.settings = settings
        self.prepare = prepare
        self.read = ReadStats()
        self.duplicates = 0
        self.empty_after_preparation = 0
        self.train_notes = 0
        self.eval_notes = 0

    def __iter__(self) -> Iterator[Tuple[str, bool, str]]:
        seen = set()
        s = self.settings
        for note in iter_notes(
            s.inputs, text_field=s.text_field, txt_mode=s.txt_mode, stats=self.read
        ):
            text = self.prepare(note.text) if self.prepare is not None else note.text
            if not text.strip():
                self.empty_after_preparation += 1
                continue
            key = text_key(text)
            if s.dedupe:
                short = int(key[:16], 16)  # 64 bits: no collision to expect below billions of notes
                if short in seen:
                    self.duplicates += 1
                    continue
                seen.add(short)
            held_out = _is_held_out(key, s.eval_fraction)
            if held_out:
                self.eval_notes += 1
            else:
                self.train_notes += 1
            yield text, held_out, note.source
            if s.max_notes is not None and self.train_notes + self.eval_notes >= s.max_notes:
                break

    def to_dict(self) -> Dict[str, object]:
        return {
            **self.read.to_dict(),
            "empty_after_preparation_skipped": self.empty_after_preparation,
            "duplicates_skipped": self.duplicates,
            "train_notes": self.train_notes,
            "eval_notes": self.eval_notes,
        }


def _batched(items: Iterator, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build_corpus(
    settings: PretrainingSettings,
    tokenizer,
    folder: Path,
    *,
    prepare: Optional[Callable[[str], str]] = None,
    preparer_name: str = "",
) -> CorpusInfo:
    """Tokenize the corpus into `folder` (written to a temporary folder, then renamed)."""
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    start = time.time()
    notes = _NoteStream(settings, prepare if settings.prepare_text else None)
    splitter = SentenceSplitter()
    fit = VocabularyFit(tokenizer.unk_token_id)
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    nsp = settings.objective == "mlm+nsp"
    train = ShardWriter(tmp, "train")
    held_out = ShardWriter(tmp, "eval")
    eval_pairs = ShardWriter(tmp, "eval_nsp") if nsp else None
    train_pairs = NspPairBuilder(
        settings.max_length, cls_id, sep_id,
        random_next_probability=settings.random_next_probability, seed=settings.seed,
    ) if nsp else None
    held_out_pairs = NspPairBuilder(
        settings.max_length, cls_id, sep_id,
        random_next_probability=settings.random_next_probability, seed=settings.seed + 1,
    ) if nsp else None
    sentences_total = 0
    progress = _progress(settings.progress, "Tokenizing notes")
    try:
        for batch in _batched(iter(notes), NOTE_BATCH):
            texts = [text for text, _, _ in batch]
            split = list(splitter.split_many(texts))
            flat = [sentence for sentences in split for sentence in sentences]
            sentences_total += len(flat)
            if not flat:
                continue
            encoded = tokenizer(
                flat, add_special_tokens=False, return_attention_mask=False,
                return_token_type_ids=False, verbose=False,
            )
            fit.add_many(encoded.encodings, flat)
            ids = encoded["input_ids"]
            pos = 0
            for (_, is_held_out, _), sentences in zip(batch, split, strict=True):
                note_ids = ids[pos : pos + len(sentences)]
                pos += len(sentences)
                if is_held_out:
                    if len(held_out) < settings.max_eval_sequences:
                        for seq in pack_mlm(note_ids, settings.max_length, cls_id, sep_id):
                            if len(held_out) < settings.max_eval_sequences:
                                held_out.add(seq)
                    if (
                        held_out_pairs is not None
                        and eval_pairs is not None
                        and len(eval_pairs) < settings.max_eval_sequences
                    ):
                        for seq in held_out_pairs.add_note(note_ids):
                            eval_pairs.add(seq)
                elif train_pairs is not None:
                    for seq in train_pairs.add_note(note_ids):
                        train.add(seq)
                else:
                    for seq in pack_mlm(note_ids, settings.max_length, cls_id, sep_id):
                        train.add(seq)
            if progress is not None:
                progress.update(len(batch))
                progress.set_postfix(train_seqs=len(train), refresh=False)
        if train_pairs is not None:
            assert held_out_pairs is not None and eval_pairs is not None  # all three with nsp
            for seq in train_pairs.finish():
                train.add(seq)
            for seq in held_out_pairs.finish():
                if len(eval_pairs) < settings.max_eval_sequences:
                    eval_pairs.add(seq)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if progress is not None:
            progress.close()
    for writer in (train, held_out, eval_pairs):
        if writer is not None:
            writer.close()
    if len(train) == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        names = ", ".join(str(p) for p in settings.inputs)
        raise CorpusError(
            None,
            f"No training sequence could be built from {names}: "
            f"{notes.train_notes} training notes, {notes.eval_notes} held out"
            + (" (mlm+nsp needs at least two notes)" if nsp else "")
            + "."
        )
    stats: Dict[str, object] = {
        "notes": notes.to_dict(),
        "text_preparation": preparer_name if settings.prepare_text else None,
        "sentence_splitter": SPLITTER_NAME,
        "sentences": sentences_total,
        "train_sequences": len(train),
        "train_wordpieces": train.tokens,
        "eval_sequences": len(held_out),
        "eval_wordpieces": held_out.tokens,
        "vocabulary_fit": fit.to_dict(),
        "build_seconds": round(time.time() - start, 1),
    }
    if nsp:
        assert train_pairs is not None and held_out_pairs is not None and eval_pairs is not None
        stats["nsp_train"] = train_pairs.stats()
        stats["nsp_eval"] = held_out_pairs.stats()
        stats["eval_nsp_sequences"] = len(eval_pairs)
    (tmp / "info.json").write_text(json.dumps(stats, indent=2), encoding="utf8")
    if folder.exists():  # another process finished the same build first
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(folder)
    return CorpusInfo(folder, stats)


def load_or_build_corpus(settings: PretrainingSettings, tokenizer) -> Tuple[CorpusInfo, bool]:
    """Reuse the cached corpus for these inputs and settings, or build it.
    Returns (info, reused)."""
    prepare, preparer_name = (None, "")
    if settings.prepare_text:
        prepare, preparer_name = default_text_preparer()
    folder = settings.workspace / "corpus" / corpus_fingerprint(settings, tokenizer, preparer_name)
    info_path = folder / "info.json"
    if info_path.exists():
        stats = json.loads(info_path.read_text(encoding="utf8"))
        return CorpusInfo(folder, stats), True
    folder.parent.mkdir(parents=True, exist_ok=True)
    info = build_corpus(settings, tokenizer, folder, prepare=prepare, preparer_name=preparer_name)
    return info, False


def _progress(enabled: bool, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(desc=desc, unit=" notes")


def files_record(paths: List[Path]) -> List[Dict[str, object]]:
    """Path, size and SHA-256 of every input file, for the model's provenance record."""
    record = []
    for path in expand_inputs(paths):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        record.append(
            {
                "path": str(path.resolve()),
                "bytes": path.stat().st_size,
                "sha256": digest.hexdigest(),
            }
        )
    return record
