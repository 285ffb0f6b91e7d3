"""Clinical text preparation: placeholders, whitespace, and offsets that stay true both ways."""
import random

import pytest

from spacy_clinicalbert.text import (
    OffsetMap,
    Edit,
    chunk_text,
    iter_paragraphs,
    placeholder_type,
    prepare_clinical_text,
    text_key,
)

NOTE = (
    "  Pt [**Last Name (NamePattern1) 1234**] seen on [**2150-3-4**] at [**Hospital1 18**].\r\n"
    "HPI:\t\tchest  pain, s/p CABG x3.\r\n\r\n\r\n\r\nPlan: call ___ at [**Telephone/Fax (1) 55**]  \u200b "
)


@pytest.mark.parametrize(
    "body,expected",
    [
        ("Last Name (NamePattern1) 1234", "NAME"),
        ("First Name8 (NamePattern2) ", "NAME"),
        ("Known lastname 123", "NAME"),
        ("Doctor Last Name 22", "NAME"),
        ("2150-3-4", "DATE"),
        ("3-14", "DATE"),
        ("2150", "DATE"),
        ("Month (only) 11", "DATE"),
        ("Hospital1 18", "HOSPITAL"),
        ("Hospital Unit Name 10", "HOSPITAL"),
        ("Telephone/Fax (1) 55", "PHONE"),
        ("Medical Record Number 12", "ID"),
        ("MD Number(1) 3", "ID"),
        ("Age over 90 ", "AGE"),
        ("Street Address(2) 1", "LOCATION"),
        ("Company 4", "ORGANIZATION"),
        ("E-mail address 2", "EMAIL"),
        ("something odd", "OTHER"),
    ],
)
def test_placeholder_types(body, expected):
    assert placeholder_type(body) == expected


def test_prepare_note():
    prep = prepare_clinical_text(NOTE)
    assert prep.text == (
        "Pt [NAME] seen on [DATE] at [HOSPITAL].\nHPI: chest pain, s/p CABG x3.\n\n"
        "Plan: call [REDACTED] at [PHONE]"
    )
    assert [p.type for p in prep.placeholders] == ["NAME", "DATE", "HOSPITAL", "REDACTED", "PHONE"]
    for p in prep.placeholders:
        assert prep.text[p.start:p.end] == f"[{p.type}]"
        assert NOTE[slice(*prep.span_to_original(p.start, p.end))] == p.original


def test_spans_map_both_ways_without_shift():
    prep = prepare_clinical_text(NOTE)
    for word in ["Pt", "chest", "pain", "s/p", "CABG", "Plan", "call"]:
        o_start = NOTE.index(word)
        p_start, p_end = prep.span_to_prepared(o_start, o_start + len(word))
        assert prep.text[p_start:p_end] == word
        assert prep.span_to_original(p_start, p_end) == (o_start, o_start + len(word))
    # A span cut inside a tag snaps outwards to the whole placeholder.
    inside = NOTE.index("Name (Name")
    p_start, p_end = prep.span_to_prepared(inside, inside + 6)
    assert prep.text[p_start:p_end] == "[NAME]"
    # A span over "chest  pain" keeps both words, with the collapsed space.
    o = NOTE.index("chest  pain")
    assert prep.text[slice(*prep.span_to_prepared(o, o + len("chest  pain")))] == "chest pain"


def test_crlf_only_keeps_lines():
    prep = prepare_clinical_text("a\r\nb\rc\n", collapse_spaces=False, strip=False)
    assert prep.text == "a\nb\nc\n"
    assert prep.span_to_original(*prep.span_to_prepared(5, 6)) == (5, 6)


def test_switches_off():
    prep = prepare_clinical_text(NOTE, deid=False, newlines=False, collapse_spaces=False, strip=False)
    # Only odd whitespace characters become spaces; the length and line breaks stay.
    assert len(prep.text) == len(NOTE) - 1  # the zero-width space goes
    assert "[**Hospital1 18**]" in prep.text and "\r\n" in prep.text
    plain = "No change here."
    same = prepare_clinical_text(plain)
    assert same.text == plain and not same.changed


def test_unwrap_lines():
    prep = prepare_clinical_text("chest pain\nradiating to arm.\n\nPlan: ASA", unwrap_lines=True)
    assert prep.text == "chest pain radiating to arm.\n\nPlan: ASA"


def test_custom_placeholder_template_and_bad_template():
    assert prepare_clinical_text("[**2150-3-4**]", placeholder="__{type}__").text == "__DATE__"
    with pytest.raises(ValueError, match="one word"):
        prepare_clinical_text("[**2150-3-4**]", placeholder="<{type} tag>")


def test_offset_map_random_edits_round_trip():
    rng = random.Random(0)
    text = "".join(rng.choice("ab \n") for _ in range(300))
    edits, pos = [], 0
    while pos < 290:
        start = pos + rng.randint(0, 10)
        end = start + rng.randint(0, 5)
        edits.append(Edit(start, end, "X" * rng.randint(0, 4)))
        pos = end + 1
    omap = OffsetMap(len(text), edits)
    prepared_len = len(text) + sum(len(e.replacement) - (e.end - e.start) for e in edits)
    assert omap.prepared_length == prepared_len
    for offset in range(len(text) + 1):
        for side in ("start", "end"):
            p = omap.to_prepared(offset, side)
            assert 0 <= p <= prepared_len
            # Mapping forward and back never moves a copied offset.
            if omap.touches_edit(max(offset - 1, 0), offset + 1) is None:
                assert omap.to_original(p, side) == offset
    with pytest.raises(IndexError):
        omap.to_prepared(len(text) + 1)
    with pytest.raises(ValueError, match="Overlapping"):
        OffsetMap(10, [Edit(2, 5, ""), Edit(4, 6, "")])


def test_paragraphs_chunks_and_keys():
    text = "Line one. Line two is longer.\n\n  Second para\nwith two lines.\n\n\n"
    assert [text[s:e] for s, e in iter_paragraphs(text)] == [
        "Line one. Line two is longer.",
        "Second para\nwith two lines.",
    ]
    chunks = chunk_text(text, 20)
    assert all(e - s <= 20 for s, e in chunks)
    covered = "".join(text[s:e] for s, e in chunks)
    assert covered.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    long_word = "x" * 50
    assert [(e - s) for s, e in chunk_text(long_word, 20)] == [20, 20, 10]
    assert text_key("a  b\n c") == text_key("a b c ") != text_key("a b d")
