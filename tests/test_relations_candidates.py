"""Candidate pairs: type-pair whitelist, token distance, sentence window, span groups
with nested entities, and the floor's most-frequent label per type pair."""
import pytest
import spacy
from spacy.tokens import Span

from spacy_clinicalbert.relations.candidates import (
    CandidateGenerator,
    learn_type_pairs,
    most_frequent_labels,
    relation_candidates_v1,
)


@pytest.fixture
def doc():
    nlp = spacy.blank("en")
    doc = nlp("warfarin induced bleeding . later aspirin caused warfarin induced rash")
    #          0        1       2        3 4     5       6      7        8       9
    for i, token in enumerate(doc):
        token.is_sent_start = i in (0, 4)
    doc.ents = [Span(doc, 0, 1, "DRUG"), Span(doc, 2, 3, "AE"), Span(doc, 5, 6, "DRUG"),
                Span(doc, 9, 10, "AE")]
    # An AE span that nests a drug (as in ADE), only representable in a span group.
    doc.spans["entities"] = list(doc.ents) + [Span(doc, 7, 10, "AE"), Span(doc, 7, 8, "DRUG")]
    return doc


def keys(pairs):
    return [(h.start, h.end, t.start, t.end) for h, t in pairs]


def test_same_sentence_and_type_pairs(doc):
    gen = CandidateGenerator()
    assert keys(gen(doc, {("DRUG", "AE")})) == [(0, 1, 2, 3), (5, 6, 9, 10)]
    # No whitelist: every ordered pair inside each sentence.
    assert len(gen(doc, None)) == 4


def test_sentence_window_and_distance(doc):
    assert len(CandidateGenerator(sentence_window=1)(doc, {("DRUG", "AE")})) == 4
    assert len(CandidateGenerator(sentence_window=-1)(doc, {("DRUG", "AE")})) == 4
    # Gaps: aspirin(5)-rash(9) 3 tokens, aspirin-bleeding(2) 2, warfarin-bleeding 1.
    near = CandidateGenerator(max_distance=1, sentence_window=-1)
    assert keys(near(doc, {("DRUG", "AE")})) == [(0, 1, 2, 3)]


def test_span_group_source_keeps_nested_entities(doc):
    gen = relation_candidates_v1(source="entities", max_distance=100, sentence_window=0)
    pairs = keys(gen(doc, {("DRUG", "AE")}))
    assert (7, 8, 7, 10) in pairs  # the drug nested inside its AE span
    assert (7, 8, 9, 10) in pairs
    assert CandidateGenerator(source="missing")(doc, None) == []


def test_override_and_bad_override(doc):
    gen = CandidateGenerator(allowed_pairs={"TREATS": [["AE", "DRUG"]]})
    assert gen.type_pairs({("DRUG", "AE")}) == {("AE", "DRUG")}
    assert CandidateGenerator().type_pairs(None) is None
    with pytest.raises(ValueError, match="allowed_pairs"):
        CandidateGenerator(allowed_pairs={"TREATS": [["AE"]]})


def test_learned_pairs_and_floor_labels():
    rows = learn_type_pairs([("D", "A", "x")] * 3 + [("D", "A", "y")] * 5 + [("A", "D", "z")])
    assert rows[0] == ["D", "A", "y", 5]
    assert most_frequent_labels(rows) == {("D", "A"): "y", ("A", "D"): "z"}


@pytest.mark.parametrize("max_distance", [0, 3, 10, -1])
def test_windowed_pairs_match_all_pairs_scan(max_distance):
    """The bisect window must return exactly what checking every pair returns."""
    import random

    rng = random.Random(max_distance)
    doc = spacy.blank("en")(" ".join(f"w{i}" for i in range(300)))
    ents = []
    for _ in range(80):  # overlapping and nested spans of several widths
        start = rng.randrange(0, 295)
        ents.append(Span(doc, start, start + rng.randint(1, 5), label=rng.choice("AB")))
    gen = CandidateGenerator(max_distance=max_distance, sentence_window=-1)
    expected = []
    for head in ents:
        for tail in ents:
            if head is tail or (head.start, head.end) == (tail.start, tail.end):
                continue
            gap = max(head.start, tail.start) - min(head.end, tail.end)
            if max_distance >= 0 and gap > max_distance:
                continue
            expected.append((head, tail))
    assert gen.pairs(doc, ents) == expected
