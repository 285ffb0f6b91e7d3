"""An attribution as a heat map over the note: each token's background is red where it
raised the target's score and blue where it lowered it, its strength relative to the
largest attribution of the note; the target's own tokens are outlined.

Token by token markup is ours: displaCy colours whole entity spans by label, not tokens
by a value.
"""
import html
from typing import Any, List, Optional, Sequence


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _color(value: float, scale: float) -> str:
    if scale <= 0 or value != value:  # zero scale or NaN
        return "transparent"
    a = min(1.0, abs(value) / scale) * 0.85
    return f"rgba(214,39,40,{a:.3f})" if value > 0 else f"rgba(31,119,180,{a:.3f})"


def heat_tokens(doc, scores: Sequence[float], target_tokens: Sequence[int]) -> str:
    """The note's text, one `<span class="tok">` per token, coloured by `scores`."""
    finite = [abs(float(s)) for s in scores if s == s]
    scale = max(finite) if finite else 0.0
    targets = set(target_tokens)
    out: List[str] = []
    for token, value in zip(doc, scores, strict=True):
        cls = "tok target" if token.i in targets else "tok"
        out.append(
            f'<span class="{cls}" data-i="{token.i}" data-score="{float(value):.6g}" '
            f'style="background:{_color(float(value), scale)}" title="{float(value):+.4f}">'
            f"{_esc(token.text)}</span>{_esc(token.whitespace_)}"
        )
    return "".join(out)


def top_table(doc, columns: List[tuple], top: int = 10) -> str:
    """Top tokens by each method's attribution (columns: (name, scores))."""
    rows = ["<table class=\"top-tokens\"><tr>" + "".join(
        f"<th>{_esc(name)}: token</th><th>value</th>" for name, _ in columns) + "</tr>"]
    ranked = []
    for _, scores in columns:
        order = sorted((i for i in range(len(doc)) if scores[i] == scores[i]),
                       key=lambda i: -abs(float(scores[i])))
        ranked.append([i for i in order if not doc[i].is_space][:top])
    for r in range(max((len(x) for x in ranked), default=0)):
        cells = []
        for (_, scores), order in zip(columns, ranked, strict=True):
            if r < len(order):
                i = order[r]
                cells.append(f"<td>{_esc(doc[i].text)}</td>"
                             f'<td class="num">{float(scores[i]):+.4f}</td>')
            else:
                cells.append("<td></td><td></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append("</table>")
    return "".join(rows)


def render_attribution(attribution: Any, index: int) -> str:
    """One attribution (`spacy_clinicalbert.explain.Attribution`) as a heat map section."""
    doc = attribution.doc
    target = attribution.target
    columns = [("integrated gradients", list(attribution.scores))]
    occlusion: Optional[Sequence[float]] = attribution.occlusion
    if occlusion is not None:
        columns.append(("occlusion", list(occlusion)))
    facts = (f"score {attribution.score:.4f}, baseline {attribution.baseline_score:.4f}; "
             f"IG sum {float(sum(attribution.scores)):.4f} "
             f"(completeness gap {attribution.completeness_gap:.1%}); "
             f"{attribution.passes} forward/backward passes in {attribution.seconds:.2f} s")
    parts = [f'<section class="attribution" id="a{index}" data-target="{_esc(target.describe())}">',
             f"<h3>Why {_esc(target.describe())}</h3>",
             f'<p class="muted">{_esc(facts)}</p>',
             '<p class="legend muted"><span class="swatch" style="background:rgba(214,39,40,.8)">'
             '</span> raised the score <span class="swatch" style="background:rgba(31,119,180,.8)">'
             "</span> lowered it; outlined: the target</p>"]
    for name, scores in columns:
        parts.append(f'<h4 class="muted">{_esc(name)}</h4><div class="heat" data-method="{name}">'
                     f"{heat_tokens(doc, scores, target.token_indices())}</div>")
    parts.append(top_table(doc, columns))
    parts.append("</section>")
    return "".join(parts)
