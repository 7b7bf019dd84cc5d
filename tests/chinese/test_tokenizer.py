"""Chinese tokenizers: every CJK character its own piece, offsets back into the text, auto detection."""
import unicodedata

import pytest
from transformers import AutoTokenizer

from spacy_wv.corpus.segment import cjk_fraction, is_cjk
from spacy_wv.corpus.tokenizer_training import train_tokenizer
from spacy_wv.errors import UserError

from .conftest import AWKWARD


@pytest.fixture(scope="module", params=["wordpiece", "bpe", "unigram"])
def zh_tokenizer(request, zh_slice, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"zh_{request.param}")
    fast = train_tokenizer([zh_slice], out, kind=request.param, vocab_size=6000, lowercase=False, cjk="auto")
    assert fast.cjk_chars  # auto: the text is Chinese
    return request.param, AutoTokenizer.from_pretrained(out)


def _pieces(tokenizer, text):
    enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    return tokenizer.convert_ids_to_tokens(enc["input_ids"]), enc["offset_mapping"]


def test_every_cjk_character_is_its_own_piece_on_real_text(zh_tokenizer, zh_lines):
    kind, tokenizer = zh_tokenizer
    for line in zh_lines[:50]:
        pieces, offsets = _pieces(tokenizer, line)
        for start, end in offsets:
            span = line[start:end]
            if any(is_cjk(c) for c in span):
                assert len(span) == 1, (kind, span)
        # Each CJK character of the line is covered by some piece (no character dropped).
        covered = {i for start, end in offsets for i in range(start, end)}
        assert all(i in covered for i, c in enumerate(line) if is_cjk(c))


def test_round_trip(zh_tokenizer, zh_lines):
    kind, tokenizer = zh_tokenizer
    for line in zh_lines[:50]:
        ids = tokenizer(line, add_special_tokens=False)["input_ids"]
        decoded = tokenizer.decode(ids)
        expected = unicodedata.normalize("NFKC", line)
        if kind == "wordpiece":  # BERT's decoder puts spaces between characters
            decoded, expected = decoded.replace(" ", ""), expected.replace(" ", "")
        if tokenizer.unk_token_id not in ids:
            assert decoded.strip() == expected.strip()


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_text_keeps_offsets_inside_the_text(zh_tokenizer, text):
    kind, tokenizer = zh_tokenizer
    pieces, offsets = _pieces(tokenizer, text)
    assert pieces
    for start, end in offsets:
        assert 0 <= start <= end <= len(text)
        span = text[start:end]
        assert not any(is_cjk(c) for c in span) or len(span) == 1


def test_fullwidth_latin_digits_and_punctuation_are_normalised(zh_tokenizer):
    kind, tokenizer = zh_tokenizer
    pieces, _ = _pieces(tokenizer, "２０２６")
    assert "".join(pieces).replace("##", "").replace("▁", "").replace("Ġ", "") == "2026"


def test_auto_leaves_english_text_alone_for_unigram(text_slice, tmp_path):
    fast = train_tokenizer([text_slice], tmp_path / "tok", kind="unigram", vocab_size=500, max_mb=0.2, cjk="auto")
    assert not fast.cjk_chars


def test_cjk_mode_is_checked(zh_slice, tmp_path):
    with pytest.raises(UserError, match="cjk mode"):
        train_tokenizer([zh_slice], tmp_path / "tok", cjk="yes")


def test_cjk_fraction():
    assert cjk_fraction("中文") == 1.0
    assert cjk_fraction("ab 中文") == 0.5
    assert cjk_fraction("   ") == 0.0


def test_unigram_vocabulary_smaller_than_the_characters_is_a_user_error(zh_slice, tmp_path):
    with pytest.raises(UserError, match="not large enough to contain all chars .raise --vocab-size; Chinese text needs several thousand"):
        train_tokenizer([zh_slice], tmp_path / "tok", kind="unigram", vocab_size=500)


def test_encoding_streams_chinese_text_to_shards(zh_tokenizer_dir, zh_slice, tmp_path):
    import numpy as np

    from spacy_wv.corpus.encode import encode_corpus
    from spacy_wv.corpus.shards import ShardReader

    encode_corpus(zh_tokenizer_dir, [zh_slice], tmp_path / "shards", shard_tokens=50_000)
    reader = ShardReader(tmp_path / "shards")
    tokens = np.concatenate([np.asarray(a) for a in reader.arrays])
    assert len(reader.arrays) > 1
    tokenizer = AutoTokenizer.from_pretrained(zh_tokenizer_dir)
    text = zh_slice.read_text(encoding="utf8")
    n_cjk = sum(is_cjk(c) for c in text)
    pieces = tokenizer.convert_ids_to_tokens(tokens[tokens != reader.doc_sep_id][:2000].tolist())
    assert sum(is_cjk(p) for p in pieces) > 1500
    assert len(tokens) >= n_cjk  # at least one piece per character
