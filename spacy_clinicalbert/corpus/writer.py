"""Write docs per split as DocBin files (user data kept: relations and note ids live there)."""
from pathlib import Path
from typing import Dict, List

from spacy.tokens import Doc, DocBin


def write_splits(docs: Dict[str, List[Doc]], output_dir: Path) -> Dict[str, Path]:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, split_docs in docs.items():
        docbin = DocBin(store_user_data=True)
        for doc in split_docs:
            docbin.add(doc)
        path = output_dir / f"{split}.spacy"
        docbin.to_disk(path)
        paths[split] = path
    return paths


def read_docbin(path: Path, vocab) -> List[Doc]:
    return list(DocBin().from_disk(path).get_docs(vocab))
