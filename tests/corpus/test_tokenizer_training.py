import json

import pytest
from transformers import AutoTokenizer

from spacy_wv.corpus.text import ReadStats, iter_documents
from spacy_wv.corpus.tokenizer_training import train_tokenizer, tokenizer_kind
from spacy_wv.errors import UserError

SPECIAL_ROLES = ("pad", "unk", "cls", "sep", "mask", "bos", "eos")


@pytest.fixture(scope="module")
def small_corpus(data_dir, tmp_path_factory):
    """About 200 kB of real text: newswire, fiction and encyclopedia."""
    out = tmp_path_factory.mktemp("corpus")
    for name, source in [("brown.txt", "brown/brown_cr.txt"), ("wiki.txt", "wikipedia_en/wiki_en_003.txt")]:
        (out / name).write_text((data_dir / source).read_text(encoding="utf8")[:100_000], encoding="utf8")
    return out


@pytest.fixture(scope="module")
def sample_text(data_dir):
    """Real sentences the tokenizers were not trained on."""
    docs = iter_documents([data_dir / "reuters21578" / "reut2-005.txt"])
    return [next(docs) for _ in range(5)]


VOCAB_SIZES = {"wordpiece": 800, "bpe": 800, "unigram": 500}


@pytest.fixture(scope="module")
def tokenizer_dirs(small_corpus, tmp_path_factory):
    """One tokenizer of each kind, trained once for the tests of this module."""
    out = tmp_path_factory.mktemp("tokenizers")
    for kind, vocab_size in VOCAB_SIZES.items():
        train_tokenizer([small_corpus], out / kind, kind=kind, vocab_size=vocab_size)
    return {kind: out / kind for kind in VOCAB_SIZES}


@pytest.mark.parametrize("kind", list(VOCAB_SIZES))
def test_each_kind_loads_as_a_fast_tokenizer_with_all_special_tokens(tokenizer_dirs, kind):
    out = tokenizer_dirs[kind]
    assert {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} <= {p.name for p in out.iterdir()}
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.is_fast
    assert tokenizer_kind(tok) == kind
    assert len(tok) == VOCAB_SIZES[kind]
    ids = {role: getattr(tok, f"{role}_token_id") for role in SPECIAL_ROLES}
    assert None not in ids.values()
    assert len({ids["pad"], ids["unk"], ids["cls"], ids["sep"], ids["mask"]}) == 5
    mask_ids = tok(f"the {tok.mask_token} sat on the mat", add_special_tokens=False).input_ids
    assert mask_ids.count(ids["mask"]) == 1


@pytest.mark.parametrize("kind", list(VOCAB_SIZES))
def test_each_kind_round_trips_unseen_text_with_offsets(tokenizer_dirs, sample_text, kind):
    tok = AutoTokenizer.from_pretrained(tokenizer_dirs[kind])
    normalize = tok.backend_tokenizer.normalizer.normalize_str
    for text in sample_text:
        enc = tok(text, return_offsets_mapping=True)
        assert enc.input_ids[0] == tok.cls_token_id and enc.input_ids[-1] == tok.sep_token_id
        pieces = tok.convert_ids_to_tokens(enc.input_ids)
        for piece, (start, end) in zip(pieces[1:-1], enc.offset_mapping[1:-1]):
            # A lone word-start marker may carry the offsets of the character after it.
            if piece in (tok.unk_token, "▁"):
                continue
            # Each piece's offsets point at the text it came from.
            if kind == "bpe":  # pieces are bytes, shown as printable characters
                assert tok.convert_tokens_to_string([piece]).strip() == text[start:end].lower().strip()
            else:
                assert piece.replace("##", "").replace("▁", " ").strip() == normalize(text[start:end]).strip()
        decoded = tok.decode(enc.input_ids, skip_special_tokens=True)
        if kind == "bpe":
            assert decoded.strip() == text.lower()  # byte-level: exact
        elif tok.unk_token_id not in enc.input_ids:
            assert "".join(decoded.split()) == "".join(normalize(text).split())


def trained(corpus, out, **kwargs):
    train_tokenizer([corpus], out, **{"vocab_size": 600, **kwargs})
    return AutoTokenizer.from_pretrained(out)


def test_cased_keeps_capitals_and_lowercase_folds_them(small_corpus, tmp_path):
    cased = trained(small_corpus, tmp_path / "cased", lowercase=False)
    lower = trained(small_corpus, tmp_path / "lower", lowercase=True)
    assert "The" in cased.get_vocab() and "The" not in lower.get_vocab()
    assert cased.tokenize("The") != lower.tokenize("The") == lower.tokenize("the")


def test_extra_special_tokens_are_kept_whole(small_corpus, tmp_path):
    tok = trained(small_corpus, tmp_path / "tok", special_tokens=["<url>"])
    assert "<url>" in tok.tokenize("see <url> now")
    assert "<url>" in json.loads((tmp_path / "tok" / "special_tokens_map.json").read_text())["additional_special_tokens"]


def test_max_mb_limits_what_is_read(data_dir, tmp_path):
    stats = ReadStats()
    train_tokenizer([data_dir / "brown"], tmp_path / "tok", vocab_size=600, max_mb=0.5, stats=stats)
    assert 500_000 <= stats.bytes_read < 600_000  # stops in the first file, just past 0.5 MB
    assert stats.files_read == 1


@pytest.mark.parametrize("kwargs,message", [
    ({"kind": "sentencepiece"}, "Unknown tokenizer kind"),
    ({"vocab_size": 5}, "vocab_size"),
    ({"max_mb": 0}, "max_mb"),
])
def test_bad_settings_are_user_errors_and_write_nothing(small_corpus, tmp_path, kwargs, message):
    with pytest.raises(UserError, match=message):
        train_tokenizer([small_corpus], tmp_path / "tok", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_empty_corpus_writes_nothing(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.txt").write_text("\n\n", encoding="utf8")
    with pytest.raises(UserError, match="empty corpus"):
        train_tokenizer([tmp_path / "in"], tmp_path / "tok")
    assert not (tmp_path / "tok").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in"]


def test_retraining_replaces_a_tokenizer_but_not_other_files(small_corpus, tmp_path):
    out = tmp_path / "tok"
    train_tokenizer([small_corpus], out, vocab_size=600)
    train_tokenizer([small_corpus], out, vocab_size=700)
    assert len(AutoTokenizer.from_pretrained(out)) == 700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf8")
    with pytest.raises(UserError, match="not a tokenizer made by"):
        train_tokenizer([small_corpus], other, vocab_size=600)
    assert (other / "notes.txt").read_text(encoding="utf8") == "mine"
