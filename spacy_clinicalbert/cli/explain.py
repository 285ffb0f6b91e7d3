"""`explain`: which tokens made the pipeline score an entity, a relation or a category as it
did, by integrated gradients (and occlusion as the check); prints the top tokens and can
write the heat map page."""
from pathlib import Path
from typing import Any, List, Optional

import typer
from wasabi import msg

from . import app


@app.command("explain")
def explain_cli(
    pipeline: str = typer.Argument(
        ..., help="Pipeline to explain: a package name or a saved pipeline folder."
    ),
    text: str = typer.Argument(..., help="The note text (quote it)."),
    target: Optional[List[str]] = typer.Option(
        None, "--target", "-t",
        help="What to explain (repeatable): cat:LABEL (a category), ent:TEXT (a predicted "
        "entity, by its text) or rel:HEAD->TAIL (a predicted relation, by its entities' "
        "texts). Default: every predicted relation and entity and the top category.",
    ),
    steps: int = typer.Option(
        32, "--steps",
        help="Integration points of integrated gradients, one forward and one backward pass "
        "each (2-64 for the trapezoid, whose points include both ends; 2-62 for "
        "gausslegendre, which adds one forward of the two ends).",
    ),
    refine_above: float = typer.Option(
        0.05, "--refine-above",
        help="Trapezoid only: when the attributions' sum misses score - baseline by more than "
        "this share, add the midpoints between the points (32 steps become 63 passes) if that "
        "stays within 64 passes. A negative value never refines.",
    ),
    method: str = typer.Option(
        "riemann_trapezoid", "--method",
        help="Quadrature: riemann_trapezoid (robust to ReLU/maxout/max-pool kinks) or "
        "gausslegendre (fewer steps for smooth heads).",
    ),
    occlusion: bool = typer.Option(
        True, "--occlusion/--no-occlusion",
        help="Also remove each nearby token and score again (one forward pass per token).",
    ),
    top: int = typer.Option(8, "--top", help="How many tokens to print per target."),
    html: Optional[Path] = typer.Option(
        None, "--html", help="Also write the note with the heat maps to this .html file."
    ),
):
    """Explain PIPELINE's scores on TEXT: for each target, the tokens whose integrated-gradient
    attributions (they sum to the score minus its score at the all-[PAD] baseline) are
    largest, next to the occlusion values (score drop when the token is removed)."""
    import spacy

    from ..explain import explain
    from ..explain.target import find_target
    from ..relations.data import get_relations

    nlp = spacy.load(pipeline)
    doc = nlp(text)
    targets: List[Any] = []
    if target:
        try:
            targets = [find_target(doc, spec) for spec in target]
        except ValueError as err:
            msg.fail(str(err), exits=1)
    else:
        targets = list(get_relations(doc)) + list(doc.ents)
        if doc.cats:
            targets.append(max(doc.cats, key=lambda k: doc.cats[k]))
        if not targets:
            msg.fail("The pipeline found no entity, relation or category in the text", exits=1)
    attributions = []
    for tgt in targets:
        try:
            a = explain(nlp, doc, tgt, steps=steps, method=method, occlusion=occlusion,
                        refine_above=refine_above if refine_above >= 0 else None)
        except ValueError as err:
            msg.warn(f"{tgt}: {err}")
            continue
        attributions.append(a)
        msg.divider(a.target.describe())
        msg.text(f"score {a.score:.4f}, baseline {a.baseline_score:.4f}, attributions sum "
                 f"{a.scores.sum():.4f} (gap {a.completeness_gap:.1%}); {a.passes} passes "
                 f"in {a.seconds:.2f} s" + (f", occlusion {a.occlusion_passes} passes in "
                                            f"{a.occlusion_seconds:.2f} s" if occlusion else ""))
        occ = {i: v for _, i, v in a.top(len(doc), by="occ")} if occlusion else {}
        rows = [(tok, f"{v:+.4g}", f"{occ[i]:+.4g}" if i in occ else "n/a")
                for tok, i, v in a.top(top)]
        msg.table(rows, header=("token", "integrated gradients", "occlusion"), divider=True)
    if html is not None:
        from ..render import render

        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render([doc], attributions=attributions, title="explain"),
                        encoding="utf8")
        msg.good(f"Wrote {html}")
