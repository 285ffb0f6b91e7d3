"""explain(): integrated gradients sum to score - baseline (completeness), the same input gives
the same attributions, deleting the top-attributed tokens lowers the score faster than deleting
random ones, occlusion agrees on the decisive word, and the CLI prints the top tokens.

The pipeline (tests/explain_pipelines.py) is clinicalbert (tiny random BERT) + ner +
clinical_relations + textcat, trained on "patient denies X on Y ." (NEGATED) and "patient
developed X after Y ." (ADVERSE, with a CAUSES relation Y -> X)."""
import random
import sys
from pathlib import Path

import numpy
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from explain_pipelines import DRUGS, PROBLEMS, _trained_path, load_tiny_explain  # noqa: E402

from spacy_clinicalbert import explain  # noqa: E402
from spacy_clinicalbert.cli import app  # noqa: E402
from spacy_clinicalbert.explain.occlusion import rescore  # noqa: E402


@pytest.fixture(scope="module")
def nlp(tiny_bert):
    return load_tiny_explain(tiny_bert)


def targets(doc):
    rel = doc._.relations
    return [("category", max(doc.cats, key=doc.cats.get)), ("entity", doc.ents[0]),
            ("entity", doc.ents[1])] + [("relation", r) for r in rel]


@pytest.mark.parametrize("text", ["patient developed rash after aspirin .",
                                  "patient denies nausea on warfarin ."])
def test_completeness_and_determinism(nlp, text):
    doc = nlp(text)
    kinds = set()
    for kind, target in targets(doc):
        a = explain(nlp, doc, target, steps=32, occlusion=False)
        kinds.add(a.target.kind)
        delta = a.score - a.baseline_score
        assert abs(a.scores.sum() - delta) <= 0.05 * abs(delta) + 1e-6, (kind, a.scores, delta)
        assert a.completeness_gap <= 0.05 or abs(delta) < 2e-5
        assert a.passes <= 64 and a.unaligned == pytest.approx(0.0, abs=1e-9)
        again = explain(nlp, doc, target, steps=32, occlusion=False)
        assert numpy.array_equal(a.scores, again.scores) and a.score == again.score
    assert kinds == ({"category", "entity", "relation"} if "developed" in text
                     else {"category", "entity"})


def test_refinement_adds_the_midpoints_within_64_passes(nlp):
    """Refining 32 nodes with their 31 midpoints is the 63-node trapezoid, reusing all passes."""
    doc = nlp("patient developed rash after aspirin .")
    coarse = explain(nlp, doc, "NEGATED", steps=32, occlusion=False, refine_above=None)
    refined = explain(nlp, doc, "NEGATED", steps=32, occlusion=False, refine_above=0.0)
    direct = explain(nlp, doc, "NEGATED", steps=63, occlusion=False, refine_above=None)
    assert (coarse.passes, refined.passes, direct.passes) == (32, 63, 63)
    assert numpy.allclose(refined.scores, direct.scores, rtol=1e-6, atol=1e-9)
    assert refined.score == coarse.score and refined.baseline_score == coarse.baseline_score
    ends = explain(nlp, doc, "NEGATED", steps=8, method="gausslegendre", occlusion=False)
    assert ends.passes == 10 and ends.score == pytest.approx(coarse.score, abs=1e-6)
    assert ends.baseline_score == pytest.approx(coarse.baseline_score, abs=1e-6)


def test_top_tokens_and_occlusion_agree_on_the_cue(nlp):
    doc = nlp("patient denies headache on metformin .")
    a = explain(nlp, doc, "NEGATED")
    assert a.top(1)[0][0] == "denies" and a.top(1, by="occ")[0][0] == "denies"
    ent = explain(nlp, doc, doc.ents[0])
    assert numpy.isnan(ent.occlusion[doc.ents[0].start])  # the target itself is never removed
    assert ent.occlusion_passes == len(doc) - 1


def test_deletion_curve_beats_random(nlp):
    """Area under the score-vs-deleted-tokens curve: top-attributed first < random order."""
    rng = random.Random(0)
    areas_top, areas_random = [], []
    for i in range(8):
        verb = ["denies {p} on {d}", "developed {p} after {d}"][i % 2]
        text = "patient " + verb.format(p=rng.choice(PROBLEMS), d=rng.choice(DRUGS)) + " ."
        doc = nlp(text)
        label = max(doc.cats, key=doc.cats.get)
        a = explain(nlp, doc, label, occlusion=False)
        order = [j for j in numpy.argsort(-a.scores)]
        shuffled = list(range(len(doc)))
        rng.shuffle(shuffled)
        for ranking, areas in ((order, areas_top), (shuffled, areas_random)):
            removals = [ranking[:k] for k in range(1, 4)]
            curve = [a.score] + rescore(nlp, doc, a.target, removals).tolist()
            areas.append(numpy.trapz(curve))
    assert numpy.mean(areas_top) < numpy.mean(areas_random) - 0.05, (areas_top, areas_random)


def test_bad_targets_and_settings(nlp):
    doc = nlp("patient denies rash on aspirin .")
    with pytest.raises(ValueError, match="steps must lie in"):
        explain(nlp, doc, "NEGATED", steps=65)
    with pytest.raises(ValueError, match="steps must lie in"):
        explain(nlp, doc, "NEGATED", steps=63, method="gausslegendre")
    with pytest.raises(ValueError, match="has no label 'NOPE'"):
        explain(nlp, doc, "NOPE")
    with pytest.raises(ValueError, match="method must be one of"):
        explain(nlp, doc, "NEGATED", method="simpson")


def test_explain_cli_prints_top_tokens_and_writes_heat_map(nlp, tiny_bert, tmp_path):
    folder = _trained_path(str(tiny_bert))
    out = tmp_path / "why.html"
    result = CliRunner().invoke(app, ["explain", str(folder), "patient denies rash on aspirin .",
                                      "--target", "cat:NEGATED", "--target", "ent:aspirin",
                                      "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert "category NEGATED (textcat)" in result.output and "denies" in result.output
    assert "entity 'aspirin' as DRUG (ner)" in result.output
    page = out.read_text(encoding="utf8")
    assert page.count('class="attribution"') == 2 and page.count('class="tok target"') == 2
    result = CliRunner().invoke(app, ["explain", str(folder), "patient denies rash .",
                                      "--target", "ent:nothing"])
    assert result.exit_code == 1 and "no entity 'nothing'" in result.output


def test_spancat_span_score(tiny_bert):
    """spancat's score of one span (its model given just that span): completeness holds for
    any weights, so an initialized, untrained spancat is enough."""
    import spacy
    from spacy.tokens import Span
    from spacy.training import Example
    from explain_pipelines import LISTENER
    from spacy.util import fix_random_seed

    # How close the trapezoid sum comes to the integral depends on the random start (an
    # unseeded one once left a 0.073 gap at the default 32 steps, seed 0 leaves 0.051): the
    # weights are seeded and the sum takes 64 steps, the bound is not eased.
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("clinicalbert", config={"model": {"name": str(tiny_bert)}})
    nlp.add_pipe("spancat", config={"spans_key": "sc", "threshold": 0.0, "model": {
        "@architectures": "spacy.SpanCategorizer.v1",
        "reducer": {"@layers": "spacy.mean_max_reducer.v1", "hidden_size": 32},
        "scorer": {"@layers": "spacy.LinearLogistic.v1"}, "tok2vec": LISTENER}})
    doc = nlp.make_doc("patient developed rash after aspirin .")
    ref = doc.copy()
    ref.spans["sc"] = [Span(ref, 2, 3, "PROBLEM"), Span(ref, 4, 5, "DRUG")]
    nlp.initialize(lambda: [Example(doc, ref)])
    doc = nlp("patient developed rash after aspirin .")
    a = explain(nlp, doc, Span(doc, 2, 3, "PROBLEM"), component="spancat", steps=64, occlusion=False)
    assert a.target.component == "spancat" and a.completeness_gap <= 0.05
    b = explain(nlp, doc, Span(doc, 2, 3, "PROBLEM"), component="spancat", steps=64, occlusion=False)
    assert numpy.array_equal(a.scores, b.scores)
    # The same score spancat itself stored for that span among all its suggested n-grams.
    group = doc.spans["sc"]
    stored = [float(x) for span, x in zip(group, group.attrs["scores"], strict=True)
              if (span.start, span.end, span.label_) == (2, 3, "PROBLEM")]
    assert stored and a.score == pytest.approx(stored[0], abs=1e-5)
