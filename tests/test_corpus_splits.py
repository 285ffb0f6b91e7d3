"""Grouped, deterministic splits; explicit split lists; relations surviving DocBin round trips; the CLI."""
from collections import OrderedDict

import pytest
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_clinicalbert.cli import app
from spacy_clinicalbert.corpus import CorpusError, assign_groups, convert, parse_ratios
from spacy_clinicalbert.relations import get_relations, relation_key
from spacy_clinicalbert.text import blank_clinical

TEXT = "Patient on warfarin developed bleeding.\n"
ANN = "T1\tDrug 11 19\twarfarin\nT2\tAE 30 38\tbleeding\nR1\tADE Arg1:T1 Arg2:T2\n"


@pytest.fixture(scope="module")
def nlp():
    return blank_clinical()


@pytest.fixture
def brat_dir(tmp_path):
    folder = tmp_path / "brat"
    folder.mkdir()
    for i in range(30):
        for part in ("inc", "exc"):
            (folder / f"NCT{i:03d}_{part}.txt").write_text(TEXT, encoding="utf8")
            (folder / f"NCT{i:03d}_{part}.ann").write_text(ANN, encoding="utf8")
    return folder


def test_assign_groups_deterministic_and_balanced():
    sizes = OrderedDict((f"g{i}", 1 + i % 4) for i in range(200))
    a = assign_groups(sizes, (0.8, 0.1, 0.1), seed=1)
    assert a == assign_groups(OrderedDict(reversed(list(sizes.items()))), (0.8, 0.1, 0.1), seed=1)
    assert a != assign_groups(sizes, (0.8, 0.1, 0.1), seed=2)
    total = sum(sizes.values())
    docs = {s: sum(n for g, n in sizes.items() if a[g] == s) / total for s in ("train", "dev", "test")}
    assert abs(docs["train"] - 0.8) < 0.02 and abs(docs["dev"] - 0.1) < 0.02
    assert set(assign_groups(sizes, (1.0, 0.0, 0.0)).values()) == {"train"}


def test_parse_ratios():
    assert parse_ratios("0.7,0.15,0.15") == (0.7, 0.15, 0.15)
    for bad in ("0.5,0.5", "0.9,0.2,0.1", "a,b,c"):
        with pytest.raises(ValueError):
            parse_ratios(bad)


def test_no_group_in_two_splits(brat_dir, nlp):
    result = convert("brat", brat_dir, nlp=nlp, seed=7)
    seen = {}
    for split, docs in result.docs.items():
        for doc in docs:
            assert seen.setdefault(doc._.note_id.split("_")[0], split) == split
    assert sum(len(d) for d in result.docs.values()) == 60
    stats = result.stats.to_dict()
    assert stats["groups"]["total"] == 30 == sum(stats["groups"][s] for s in ("train", "dev", "test"))


def test_split_lists(brat_dir, tmp_path, nlp):
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "train.txt").write_text("\n".join(f"NCT{i:03d}" for i in range(20)) + "\n", encoding="utf8")
    (lists / "dev.txt").write_text("NCT020\n# comment\nNCT021\n", encoding="utf8")
    (lists / "test.txt").write_text("NCT022_inc\nNCT022_exc\n", encoding="utf8")  # record ids work too
    result = convert("brat", brat_dir, nlp=nlp, split_lists=lists)
    assert [len(result.docs[s]) for s in ("train", "dev", "test")] == [40, 4, 2]
    assert result.stats.omissions["record_in_no_split_list"] == 14
    (lists / "test.txt").write_text("NCT022_inc\nNCT001_exc\n", encoding="utf8")
    with pytest.raises(CorpusError, match="group 'NCT001'.*both train and test"):
        convert("brat", brat_dir, nlp=nlp, split_lists=lists)
    (lists / "dev.txt").write_text("NCT000\n", encoding="utf8")
    with pytest.raises(CorpusError, match=r"dev\.txt:1: id 'NCT000' is already listed in train\.txt"):
        convert("brat", brat_dir, nlp=nlp, split_lists=lists)


def test_relations_survive_docbin_round_trip(brat_dir, tmp_path, nlp):
    out = tmp_path / "out"
    result = convert("brat", brat_dir, out, nlp=nlp)
    assert (out / "stats.json").exists()
    for split in ("train", "dev", "test"):
        loaded = list(DocBin().from_disk(out / f"{split}.spacy").get_docs(nlp.vocab))
        assert len(loaded) == len(result.docs[split])
        for before, after in zip(result.docs[split], loaded):
            assert [relation_key(r) for r in get_relations(after)] == [relation_key(r) for r in get_relations(before)]
            (rel,) = get_relations(after)
            assert (rel.head.text, rel.tail.text, rel.label, rel.score) == ("warfarin", "bleeding", "ADE", 1.0)
            assert [(s.text, s.label_) for s in after.spans["entities"]] == [("warfarin", "Drug"), ("bleeding", "AE")]
            assert after._.note_id == before._.note_id


def test_cli_convert_corpus_and_errors(brat_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(app, ["convert-corpus", "brat", str(brat_dir), str(out), "--split", "0.5,0.25,0.25", "--seed", "3"])
    assert res.exit_code == 0, res.output
    assert "relation ADE" in res.output and (out / "train.spacy").exists()
    (brat_dir / "NCT000_inc.ann").write_text("T1\tDrug 11 19\twarfarin\nbroken\n", encoding="utf8")
    res = runner.invoke(app, ["convert-corpus", "brat", str(brat_dir), str(out)])
    assert res.exit_code == 1 and "NCT000_inc.ann:2: unrecognised annotation line" in " ".join(res.output.split())
    res = runner.invoke(app, ["convert-corpus", "brat", str(brat_dir), str(out), "--on-invalid", "skip"])
    assert res.exit_code == 0 and "brat_invalid_line" in res.output
    res = runner.invoke(app, ["convert-corpus", "brat", str(brat_dir), str(out), "--text-column", "x"])
    assert res.exit_code == 1 and "option 'text_column' is not valid for format 'brat'" in " ".join(res.output.split())
    res = runner.invoke(app, ["convert-corpus", "--help"])
    assert res.exit_code == 0 and "--alignment" in res.output
    # The command's former name still runs it, and says the new one.
    (brat_dir / "NCT000_inc.ann").write_text(ANN, encoding="utf8")
    res = runner.invoke(app, ["convert", "brat", str(brat_dir), str(out)])
    assert res.exit_code == 0 and "`convert` is now called `convert-corpus`" in res.output


def test_registered_corpus_reader_reads_relations(brat_dir, tmp_path, nlp):
    """spacy-clinicalbert.Corpus.v1 (found through its entry point) yields the same
    examples as spaCy's reader, relations included, and leaves srsly as it found it."""
    from importlib.metadata import entry_points

    import srsly.msgpack
    from spacy.util import registry

    assert "spacy-clinicalbert.Corpus.v1" in {ep.name for ep in entry_points(group="spacy_readers")}
    out = tmp_path / "out"
    convert("brat", brat_dir, out, nlp=nlp, ratios=(1, 0, 0))
    ours = registry.readers.get("spacy-clinicalbert.Corpus.v1")(out / "train.spacy")
    stock = registry.readers.get("spacy.Corpus.v1")(out / "train.spacy", gold_preproc=False)
    a, b = list(ours(nlp)), list(stock(nlp))
    assert len(a) == len(b) == 60
    for x, y in zip(a, b):
        assert x.reference.to_json() == y.reference.to_json()
        assert [relation_key(r) for r in get_relations(x.reference)] == [relation_key(r) for r in get_relations(y.reference)]
    assert "get_all" not in vars(srsly.msgpack.msgpack_decoders)
