"""Sequence packing, next-sentence pairs, the masking collator and the sparse MLM head."""
import random

import pytest
import torch

from spacy_clinicalbert.pretraining.examples import NspPairBuilder, pack_mlm

CLS, SEP = 101, 102


def _note(note_id: int, n_sentences: int, rng: random.Random):
    """Sentences whose ids encode (note, sentence, position): note_id * 10000 + s * 100 + i."""
    return [[note_id * 10000 + s * 100 + i for i in range(rng.randint(3, 30))] for s in range(n_sentences)]


def test_pack_mlm_keeps_every_token_in_order_within_length():
    rng = random.Random(0)
    sentences = _note(1, 20, rng) + [list(range(500, 800))]  # one sentence longer than a sequence
    seqs = list(pack_mlm(sentences, 64, CLS, SEP))
    assert all(len(s.input_ids) <= 64 for s in seqs)
    assert all(s.input_ids[0] == CLS and s.input_ids[-1] == SEP for s in seqs)
    body = [t for s in seqs for t in s.input_ids[1:-1]]
    assert body == [t for sentence in sentences for t in sentence]
    # Sentences are not cut when they fit: only the 300-token sentence is, at 62, 124, 186, 248.
    starts = {sentence[0] for sentence in sentences}
    assert sum(s.input_ids[1] not in starts for s in seqs) == 4


def test_nsp_pairs_real_and_random_segments():
    rng = random.Random(1)
    builder = NspPairBuilder(64, CLS, SEP, seed=3)
    notes = [_note(i, rng.randint(2, 25), rng) for i in range(1, 60)]
    seqs = []
    for note in notes:
        seqs.extend(builder.add_note(note))
    seqs.extend(builder.finish())
    labels = [s.next_sentence_label for s in seqs]
    share_random = sum(labels) / len(labels)
    assert 0.35 < share_random < 0.75, share_random
    for s in seqs:
        ids = s.input_ids
        assert len(ids) <= 64
        assert ids[0] == CLS and ids[s.len_a - 1] == SEP and ids[-1] == SEP
        a, b = ids[1 : s.len_a - 1], ids[s.len_a : -1]
        assert a and b
        note_a, note_b = a[0] // 10000, b[0] // 10000
        if s.next_sentence_label == 0:
            # The real continuation: same note, B's first sentence comes after A's last.
            assert note_a == note_b and (b[0] % 10000) // 100 > (a[-1] % 10000) // 100
        else:
            assert note_a != note_b
    assert builder.stats()["pairs_real_next"] + builder.stats()["pairs_random_next"] == len(seqs)


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_bert):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_bert))


@pytest.mark.parametrize("whole_word", [False, True])
def test_collator_keeps_attention_mask_and_token_types(tiny_tokenizer, whole_word):
    from spacy_clinicalbert.pretraining.collator import PretrainingCollator

    tok = tiny_tokenizer
    a = tok("patient denies chest pain", add_special_tokens=False)["input_ids"]
    b = tok("xyzzy qwerty rash", add_special_tokens=False)["input_ids"]  # multi-piece words
    long_ids = [tok.cls_token_id] + a + [tok.sep_token_id] + b + [tok.sep_token_id]
    short_ids = [tok.cls_token_id] + a[:2] + [tok.sep_token_id]
    features = [
        {"input_ids": torch.tensor(long_ids), "token_type_ids": torch.tensor([0] * (len(a) + 2) + [1] * (len(b) + 1)),
         "next_sentence_label": torch.tensor(1)},
        {"input_ids": torch.tensor(short_ids), "token_type_ids": torch.zeros(len(short_ids), dtype=torch.long),
         "next_sentence_label": torch.tensor(0)},
    ]
    collator = PretrainingCollator(tok, mlm_probability=0.5, whole_word_mask=whole_word)
    torch.manual_seed(0)
    random.seed(0)
    masked_any = False
    for _ in range(20):
        batch = collator(features)
        assert set(batch) == {"input_ids", "attention_mask", "token_type_ids", "labels", "next_sentence_label"}
        assert batch["attention_mask"].tolist()[1] == [1] * len(short_ids) + [0] * (len(long_ids) - len(short_ids))
        assert batch["token_type_ids"][0, len(a) + 2 :].tolist() == [1] * (len(b) + 1)
        assert batch["next_sentence_label"].tolist() == [1, 0]
        labels = batch["labels"]
        # Special tokens and padding are never prediction targets.
        assert (labels[batch["attention_mask"] == 0] == -100).all()
        assert (labels[:, 0] == -100).all()
        chosen = labels[0] != -100
        masked_any |= bool(chosen.any())
        if whole_word:
            # All pieces of a word are chosen together: a '##' piece follows its head.
            pieces = tok.convert_ids_to_tokens(long_ids)
            for i, piece in enumerate(pieces):
                if piece.startswith("##"):
                    assert chosen[i] == chosen[i - 1], pieces
    assert masked_any


def test_sparse_head_loss_equals_stock_loss(tiny_bert):
    from transformers import BertForMaskedLM, BertForPreTraining

    from spacy_clinicalbert.pretraining.models import load_model

    torch.manual_seed(0)
    ids = torch.randint(5, 60, (3, 12))
    labels = torch.full_like(ids, -100)
    labels[:, 3] = ids[:, 3]
    labels[1, 7] = ids[1, 7]
    nsp = torch.tensor([0, 1, 1])
    for objective, stock_class in (("mlm", BertForMaskedLM), ("mlm+nsp", BertForPreTraining)):
        sparse, new_weights = load_model(str(tiny_bert), objective)
        assert any(name.startswith("cls.") for name in new_weights)
        stock = stock_class.from_pretrained(str(tiny_bert))
        stock.load_state_dict(sparse.state_dict())
        sparse.eval(), stock.eval()
        kwargs = {"next_sentence_label": nsp} if objective == "mlm+nsp" else {}
        got = sparse(input_ids=ids, labels=labels, **kwargs).loss
        want = stock(input_ids=ids, labels=labels, **kwargs).loss
        assert torch.allclose(got, want, atol=1e-5), (objective, got, want)
