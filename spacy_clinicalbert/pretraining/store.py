"""A tokenized corpus on disk: flat int32 wordpiece ids plus an index, read by memory map.

Streaming the raw notes once into this form keeps memory flat for corpora larger than
RAM, yet gives the Trainer a map-style dataset: it can shuffle, count epochs, shard
across GPUs with a distributed sampler and skip exactly the batches already seen
when a run resumes from a checkpoint (an iterable dataset can do none of this well).
"""
from array import array
from pathlib import Path
from typing import Dict, Optional

import numpy

from .examples import PretrainingSequence


class ShardWriter:
    """Append sequences to `<folder>/<name>.ids.bin` and write the index on close."""

    def __init__(self, folder: Path, name: str):
        self.folder = Path(folder)
        self.name = name
        self._ids = (self.folder / f"{name}.ids.bin").open("wb")
        # Compact arrays: tens of millions of sequences (MIMIC-sized) cost bytes, not objects.
        self._lengths = array("q")
        self._len_a = array("i")
        self._labels = array("b")
        self.tokens = 0

    def add(self, seq: PretrainingSequence) -> None:
        self._ids.write(numpy.asarray(seq.input_ids, dtype=numpy.int32).tobytes())
        self._lengths.append(len(seq.input_ids))
        self._len_a.append(seq.len_a)
        self._labels.append(seq.next_sentence_label)
        self.tokens += len(seq.input_ids)

    def __len__(self) -> int:
        return len(self._lengths)

    def close(self) -> None:
        self._ids.close()
        offsets = numpy.zeros(len(self._lengths) + 1, dtype=numpy.int64)
        numpy.cumsum(numpy.frombuffer(self._lengths, dtype=numpy.int64), out=offsets[1:])
        numpy.savez(
            self.folder / f"{self.name}.index.npz",
            offsets=offsets,
            len_a=numpy.frombuffer(self._len_a, dtype=numpy.int32).copy(),
            next_sentence_label=numpy.frombuffer(self._labels, dtype=numpy.int8).copy(),
        )


def shard_exists(folder: Path, name: str) -> bool:
    return (Path(folder) / f"{name}.index.npz").exists()


class TokenDataset:
    """Map-style dataset over a shard; items are dicts of int64 tensors.

    The memory map is opened lazily in each process, so the dataset pickles cheaply
    into DataLoader workers.
    """

    def __init__(self, folder: Path, name: str, *, with_pairs: Optional[bool] = None):
        self.folder = Path(folder)
        self.name = name
        index = numpy.load(self.folder / f"{name}.index.npz")
        self.offsets = index["offsets"]
        self.len_a = index["len_a"]
        self.labels = index["next_sentence_label"]
        if with_pairs is None:
            with_pairs = bool(len(self.labels)) and bool((self.labels >= 0).all())
        self.with_pairs = with_pairs
        self._ids: Optional[numpy.ndarray] = None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    def _memmap(self) -> numpy.ndarray:
        if self._ids is None:
            path = self.folder / f"{self.name}.ids.bin"
            if self.n_tokens == 0:
                self._ids = numpy.zeros(0, dtype=numpy.int32)
            else:
                self._ids = numpy.memmap(path, dtype=numpy.int32, mode="r", shape=(self.n_tokens,))
        return self._ids

    def __getstate__(self) -> Dict:
        state = dict(self.__dict__)
        state["_ids"] = None
        return state

    def __getitem__(self, i: int) -> Dict:
        import torch

        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} sequences")
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        ids = torch.from_numpy(numpy.array(self._memmap()[start:end], dtype=numpy.int64))
        item = {"input_ids": ids}
        token_type_ids = torch.zeros_like(ids)
        token_type_ids[int(self.len_a[i]) :] = 1
        item["token_type_ids"] = token_type_ids
        if self.with_pairs:
            item["next_sentence_label"] = torch.tensor(int(self.labels[i]), dtype=torch.long)
        return item
