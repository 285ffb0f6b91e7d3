"""Write the SYNTHETIC demo corpus of the offline demo workflow (deterministic).

Every sentence is invented from the templates below: no patient data, no text
from any corpus. Output, beside this script:
- synthetic_notes.jsonl: Prodigy-style records (text, spans, relations, cats)
  with DRUG / PROBLEM / DOSE entities, ADE (drug caused problem), TREATS (drug
  given for problem) and DOSAGE (drug has dose) relations, and exclusive
  categories ADE / NO_ADE. All-pairs is wrong here: a DRUG-PROBLEM pair is an
  ADE, a TREATS, or nothing, depending on the wording.
- synthetic_notes.txt: longer notes, one per blank-line block, for pretraining.

Run: python assets/demo/make_synthetic.py [--n 360] [--seed 13]
"""
import argparse
import json
import random
from pathlib import Path

# (drug, typical dose, an indication it treats, an adverse effect it is known for)
DRUG_FACTS = [
    ("lisinopril", "10 mg daily", "hypertension", "angioedema"),
    ("metformin", "500 mg PO BID", "type 2 diabetes", "lactic acidosis"),
    ("warfarin", "5 mg PO qHS", "atrial fibrillation", "GI bleeding"),
    ("amoxicillin", "875 mg q12h", "community acquired pneumonia", "diffuse urticarial rash"),
    ("atorvastatin", "40 mg daily", "hyperlipidemia", "myalgias"),
    ("ibuprofen", "600 mg TID", "osteoarthritis", "acute kidney injury"),
    ("prednisone", "40 mg daily", "COPD exacerbation", "hyperglycemia"),
    ("vancomycin", "1 g IV q12h", "MRSA bacteremia", "red man syndrome"),
    ("furosemide", "40 mg IV BID", "heart failure", "hypokalemia"),
    ("amiodarone", "200 mg daily", "atrial fibrillation", "elevated transaminases"),
    ("clopidogrel", "75 mg daily", "coronary artery disease", "thrombocytopenia"),
    ("gabapentin", "300 mg qHS", "neuropathic pain", "dizziness"),
    ("sertraline", "50 mg daily", "depression", "hyponatremia"),
    ("levofloxacin", "750 mg PO daily", "pneumonia", "tendon rupture"),
    ("hydrochlorothiazide", "25 mg daily", "hypertension", "hyponatremia"),
    ("methotrexate", "15 mg weekly", "rheumatoid arthritis", "C. difficile colitis"),
]

# {d}: drug, {x}: dose, {p}: problem. Each template says which relations hold.
ADE_TEMPLATES = [
    ("Pt developed {p} after starting {d} {x}.", ["ADE", "DOSAGE"]),
    ("{p} attributed to {d}; {d2} held.", ["ADE"]),
    ("Started on {d} {x} and 3 days later presented with {p}.", ["ADE", "DOSAGE"]),
    ("Likely {d}-induced {p}, drug discontinued.", ["ADE"]),
    ("Admitted with {p} secondary to {d} toxicity.", ["ADE"]),
]
TREAT_TEMPLATES = [
    ("Continue {d} {x} for {p}.", ["TREATS", "DOSAGE"]),
    ("{p} well controlled on {d}.", ["TREATS"]),
    ("Started {d} {x} for {p}, tolerating well.", ["TREATS", "DOSAGE"]),
    ("Hx of {p}, on {d} at home.", ["TREATS"]),
]
NONE_TEMPLATES = [
    ("Pt denies {p}. Home meds include {d} {x}.", ["DOSAGE"]),
    ("No {p} noted; {d} unchanged.", []),
    ("Family history of {p}. Allergies: {d} (unknown reaction).", []),
    ("Reviewed {d} {x} with pharmacy. BP 128/76, HR 72.", ["DOSAGE"]),
]


def make_record(rng: random.Random) -> dict:
    kind = rng.choice(["ade", "ade", "treat", "none"])
    templates = {"ade": ADE_TEMPLATES, "treat": TREAT_TEMPLATES, "none": NONE_TEMPLATES}[kind]
    template, rels = rng.choice(templates)
    drug, dose, indication, adverse = rng.choice(DRUG_FACTS)
    problem = indication if kind == "treat" else adverse
    if kind == "none" and rng.random() < 0.5:
        problem = indication
    parts = {"d": drug, "x": dose, "p": problem, "d2": drug.capitalize()}
    text, spans, cursor = "", {}, 0
    pieces = template.replace("{", "\0{").replace("}", "}\0").split("\0")
    for piece in pieces:
        if piece.startswith("{") and piece.endswith("}"):
            key = piece[1:-1]
            value = parts[key]
            if key == "p" and text == "":
                value = value[0].upper() + value[1:]
            label = {"d": "DRUG", "d2": "DRUG", "x": "DOSE", "p": "PROBLEM"}[key]
            spans.setdefault(key, {"start": len(text), "end": len(text) + len(value), "label": label})
            text += value
        else:
            text += piece
    relations = []
    for rel in rels:
        head = spans["d"]
        child = spans["p"] if rel in ("ADE", "TREATS") else spans.get("x")
        if child is not None:
            relations.append({"head_span": head, "child_span": child, "label": rel})
    ordered = sorted(spans.values(), key=lambda s: s["start"])
    return {
        "text": text,
        "spans": ordered,
        "relations": relations,
        "cats": {"ADE": float(kind == "ade"), "NO_ADE": float(kind != "ade")},
        "meta": {"source": "synthetic (spacy-clinicalbert demo)"},
    }


def make_note(rng: random.Random, n_sentences: int) -> str:
    header = rng.choice(["HPI:", "Hospital course:", "Assessment and plan:", "Medications:"])
    body = " ".join(make_record(rng)["text"] for _ in range(n_sentences))
    return f"{header} {body}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=360, help="annotated sentences to write")
    parser.add_argument("--notes", type=int, default=400, help="raw notes for pretraining")
    parser.add_argument("--seed", type=int, default=13, help="random seed")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    here = Path(__file__).parent
    with (here / "synthetic_notes.jsonl").open("w", encoding="utf8") as out:
        for _ in range(args.n):
            out.write(json.dumps(make_record(rng)) + "\n")
    notes = [make_note(rng, rng.randint(3, 8)) for _ in range(args.notes)]
    (here / "synthetic_notes.txt").write_text("\n\n".join(notes) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
