"""Write docs per split as DocBin files (user data kept: relations and note ids live there).

Every `srsly.msgpack_dumps`/`loads` call asks catalogue for its encoders, and catalogue
re-scans the entry points of every installed distribution each time: with user data
stored, `DocBin.add` pays that three times per doc (measured: 20,960 ADE docs took
~420 s in `DocBin.add` on a busy 2-core machine, almost all of it in
`catalogue.get_all`). While writing or reading, `msgpack_registries_cached()` answers
those lookups from one scan.
"""
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List

from spacy.tokens import Doc, DocBin


@contextmanager
def msgpack_registries_cached() -> Iterator[None]:
    """Within the block, srsly's msgpack encoder/decoder registries scan entry points once."""
    from srsly import msgpack as srsly_msgpack

    registries = [srsly_msgpack.msgpack_encoders, srsly_msgpack.msgpack_decoders]
    patched = []
    for registry in registries:
        if "get_all" in vars(registry):  # already cached by an outer block
            continue
        found = registry.get_all()
        registry.get_all = lambda found=found: dict(found)
        patched.append(registry)
    try:
        yield
    finally:
        for registry in patched:
            del registry.get_all


def write_splits(docs: Dict[str, List[Doc]], output_dir: Path) -> Dict[str, Path]:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    with msgpack_registries_cached():
        for split, split_docs in docs.items():
            docbin = DocBin(store_user_data=True)
            for doc in split_docs:
                docbin.add(doc)
            path = output_dir / f"{split}.spacy"
            docbin.to_disk(path)
            paths[split] = path
    return paths


def read_docbin(path: Path, vocab) -> List[Doc]:
    with msgpack_registries_cached():
        return list(DocBin().from_disk(path).get_docs(vocab))
