"""Install a built wheel and annotate a note with it, offline, in a fresh process."""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

from ..rules.assertions import ASSERTION_FLAGS

NOTE = (
    "HPI: 67M with hx of atrial fibrillation on warfarin 5 mg PO qHS presented with GI bleeding. "
    "Pt denies chest pain. Family history of colon cancer. Lisinopril 10 mg daily continued for "
    "hypertension."
)

# Run in the child: block sockets, load by package name, print JSON. The flag names come
# as the third argument, so the child finds our code only through the package's entry points.
_CHILD = r"""
import json, socket, sys
def refuse(*args, **kwargs):
    raise OSError("network blocked by smoke test")
socket.create_connection = refuse
socket.socket.connect = refuse
import spacy
nlp = spacy.load(sys.argv[1])
doc = nlp(sys.argv[2])
FLAGS = json.loads(sys.argv[3])
def flags(ent):
    return sorted(a for a in FLAGS if ent.has_extension(a) and getattr(ent._, a))
print(json.dumps({
    "pipeline": nlp.pipe_names,
    "meta": {k: nlp.meta.get(k) for k in ("name", "version")}
    | {"clinicalbert": nlp.meta.get("clinicalbert")},
    "entities": [[e.text, e.label_, e.start_char, e.end_char, flags(e)] for e in doc.ents],
    "relations": [[r.head.text, r.label, r.tail.text, round(r.score, 3)] for r in doc._.relations],
    "cats": {k: round(v, 3) for k, v in doc.cats.items()},
}))
"""


def find_wheel(packages_dir: Path, name: str) -> Path:
    wheels = sorted(packages_dir.glob(f"**/{name}-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise FileNotFoundError(f"No wheel named {name}-*.whl under {packages_dir}.")
    return wheels[-1]


def install_wheel(wheel: Path) -> None:
    """pip install the wheel, no index and no dependencies: everything is here."""
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
           "--force-reinstall", "--quiet", str(wheel)]
    subprocess.run(cmd, check=True)


def annotate_offline(package: str, text: str = NOTE) -> Dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    args = [sys.executable, "-c", _CHILD, package, text, json.dumps(ASSERTION_FLAGS)]
    proc = subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=os.path.expanduser("~")
    )
    if proc.returncode != 0:
        raise RuntimeError(f"Loading {package} offline failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
