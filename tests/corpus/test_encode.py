import re

import numpy as np
import pytest
from tokenizers import Tokenizer

from spacy_wv.corpus.encode import encode_corpus
from spacy_wv.hf_dirs import load_backend_tokenizer
from spacy_wv.corpus.shards import ShardReader
from spacy_wv.corpus.text import iter_documents
from spacy_wv.corpus.tokenizer_training import train_tokenizer
from spacy_wv.errors import UserError


@pytest.fixture(scope="module")
def corpus(data_dir, tmp_path_factory):
    """Real text in two files: Wikipedia articles and Reuters stories (~400 kB)."""
    out = tmp_path_factory.mktemp("raw")
    (out / "wiki.txt").write_text((data_dir / "wikipedia_en" / "wiki_en_000.txt").read_text(encoding="utf8")[:250_000], encoding="utf8")
    (out / "reuters.txt").write_text((data_dir / "reuters21578" / "reut2-001.txt").read_text(encoding="utf8")[:150_000], encoding="utf8")
    return out


def split_documents(ids, sep):
    """Token ids of each document: the shards end every document with `sep`."""
    ends = np.flatnonzero(ids == sep)
    assert len(ends) and ends[-1] == len(ids) - 1
    return np.split(ids, ends + 1)[:-1]


def assert_decodes_to(tokenizer, doc_ids, text):
    """The pieces decode to `text` as the lowercase WordPiece tokenizer normalises it,
    ignoring where spaces fall; an [UNK] stands for a word with a character it never saw.
    Returns the number of [UNK]s."""
    decoded = tokenizer.decode(doc_ids.tolist(), skip_special_tokens=False)
    known_parts = "".join(decoded.split()).split("[UNK]")
    pattern = "[^ ]+?".join(map(re.escape, known_parts))
    assert re.fullmatch(pattern, "".join(tokenizer.normalizer.normalize_str(text).split()))
    return len(known_parts) - 1


def test_shards_decode_back_to_the_source_documents(tiny_tokenizer_dir, corpus, tmp_path):
    meta = encode_corpus(tiny_tokenizer_dir, [corpus], tmp_path / "shards", batch_size=7, shard_tokens=20_000)
    reader = ShardReader(tmp_path / "shards")
    assert len(reader.arrays) > 1 and all(a.dtype == np.uint16 for a in reader.arrays)
    assert reader.meta["tokenizer_kind"] == "wordpiece"
    assert reader.meta["special_token_ids"]["sep"] == reader.doc_sep_id
    ids = np.concatenate(reader.arrays)
    assert len(ids) == meta["n_tokens"] == reader.n_tokens
    docs = list(iter_documents([corpus]))
    encoded = split_documents(ids, reader.doc_sep_id)
    assert len(encoded) == len(docs) == meta["n_docs"]
    tokenizer = Tokenizer.from_file(str(tiny_tokenizer_dir / "tokenizer.json"))
    n_unknown = sum(assert_decodes_to(tokenizer, doc_ids[:-1], doc) for doc, doc_ids in zip(docs, encoded))
    assert n_unknown < 0.002 * len(ids)


def test_a_tasks_docbin_encodes_to_its_docs_text(tiny_tokenizer_dir, conll_slice_docbin, corpus, tmp_path):
    """A task's .spacy file beside raw text: each doc's text, in input order, no labels."""
    import spacy
    from spacy.tokens import DocBin

    texts = [doc.text for doc in DocBin().from_disk(conll_slice_docbin).get_docs(spacy.blank("en").vocab)]
    meta = encode_corpus(tiny_tokenizer_dir, [conll_slice_docbin, corpus / "reuters.txt"], tmp_path / "shards", workers=1)
    reader = ShardReader(tmp_path / "shards")
    encoded = split_documents(np.concatenate(reader.arrays), reader.doc_sep_id)
    raw = list(iter_documents([corpus / "reuters.txt"]))
    assert meta["n_docs"] == len(encoded) == len(texts) + len(raw)
    tokenizer = Tokenizer.from_file(str(tiny_tokenizer_dir / "tokenizer.json"))
    n_unknown = sum(assert_decodes_to(tokenizer, ids[:-1], text) for ids, text in zip(encoded, texts + raw))
    assert n_unknown < 0.002 * reader.n_tokens
    first = tokenizer.decode(encoded[0][:-1].tolist())
    assert "eu rejects german call to boycott british lamb" in first and "b-org" not in first
    assert str(conll_slice_docbin.resolve()) in meta["inputs"]


def test_bpe_shards_use_eos_between_documents(corpus, tmp_path):
    train_tokenizer([corpus], tmp_path / "bpe", kind="bpe", vocab_size=600)
    encode_corpus(tmp_path / "bpe", [corpus / "reuters.txt"], tmp_path / "shards")
    reader = ShardReader(tmp_path / "shards")
    _, special_ids = load_backend_tokenizer(tmp_path / "bpe")
    assert reader.doc_sep_id == special_ids["eos"] == special_ids["sep"]
    tokenizer = Tokenizer.from_file(str(tmp_path / "bpe" / "tokenizer.json"))
    docs = list(iter_documents([corpus / "reuters.txt"]))
    encoded = split_documents(reader.arrays[0], reader.doc_sep_id)
    assert [tokenizer.decode(d[:-1].tolist()).strip() for d in encoded] == [d.lower() for d in docs]


def test_shards_of_another_tokenizer_need_overwrite(tiny_tokenizer_dir, corpus, tmp_path):
    out = tmp_path / "shards"
    encode_corpus(tiny_tokenizer_dir, [corpus / "reuters.txt"], out)
    first = ShardReader(out).meta
    encode_corpus(tiny_tokenizer_dir, [corpus / "wiki.txt"], out)  # same tokenizer: replaced
    assert ShardReader(out).meta["n_docs"] != first["n_docs"]
    train_tokenizer([corpus], tmp_path / "other", vocab_size=500)
    with pytest.raises(UserError, match="another tokenizer"):
        encode_corpus(tmp_path / "other", [corpus / "reuters.txt"], out)
    encode_corpus(tmp_path / "other", [corpus / "reuters.txt"], out, overwrite=True)
    assert ShardReader(out).meta["tokenizer_dir"] == str((tmp_path / "other").resolve())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "shards"]


def test_empty_corpus_leaves_no_output(tiny_tokenizer_dir, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.jsonl").write_text("\n", encoding="utf8")
    with pytest.raises(UserError, match="empty corpus"):
        encode_corpus(tiny_tokenizer_dir, [tmp_path / "in"], tmp_path / "shards")
    assert [p.name for p in tmp_path.iterdir()] == ["in"]


def test_missing_tokenizer_is_a_user_error(corpus, tmp_path):
    with pytest.raises(UserError, match="No tokenizer"):
        encode_corpus(tmp_path / "nope", [corpus], tmp_path / "shards")
    assert not (tmp_path / "shards").exists()


def test_a_folder_that_is_not_a_shard_dir_is_never_replaced(tiny_tokenizer_dir, corpus, tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf8")
    with pytest.raises(UserError, match="not token shards"):
        encode_corpus(tiny_tokenizer_dir, [corpus], tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text(encoding="utf8") == "mine"


def test_workers_give_the_same_shards_and_a_str_path_is_one_input(tiny_tokenizer_dir, corpus, tmp_path):
    one = encode_corpus(tiny_tokenizer_dir, [corpus], tmp_path / "one", batch_size=5, shard_tokens=15_000, workers=1)
    two = encode_corpus(str(tiny_tokenizer_dir), str(corpus), tmp_path / "two", batch_size=5, shard_tokens=15_000,
                        workers=2)
    assert one["shards"] == two["shards"] and one["n_docs"] == two["n_docs"] and len(one["shards"]) > 2
    for shard in one["shards"]:
        assert (tmp_path / "one" / shard["file"]).read_bytes() == (tmp_path / "two" / shard["file"]).read_bytes()


def test_shards_record_the_tokenizer_fingerprint_and_sizes(tiny_tokenizer_dir, corpus, tmp_path):
    from spacy_wv.hf_dirs import tokenizer_fingerprint

    meta = encode_corpus(tiny_tokenizer_dir, [corpus], tmp_path / "shards", workers=1)
    assert meta["tokenizer_fingerprint"] == tokenizer_fingerprint(tiny_tokenizer_dir / "tokenizer.json")
    for shard in meta["shards"]:
        assert (tmp_path / "shards" / shard["file"]).stat().st_size == 2 * shard["n_tokens"]
        assert isinstance(shard["crc32"], int)


def test_legacy_shard_dir_is_recognised_as_shards(tiny_tokenizer_dir, corpus, tmp_path):
    """Shards written before markers (meta.json without a fingerprint): replaced with
    --overwrite, as shards of another tokenizer."""
    import json

    out = tmp_path / "shards"
    encode_corpus(tiny_tokenizer_dir, [corpus], out, workers=1)
    (out / ".spacy_wv-shards").unlink()
    meta = json.loads((out / "meta.json").read_text(encoding="utf8"))
    del meta["tokenizer_fingerprint"]
    (out / "meta.json").write_text(json.dumps(meta), encoding="utf8")
    with pytest.raises(UserError, match="shards of another tokenizer"):
        encode_corpus(tiny_tokenizer_dir, [corpus], out, workers=1)
    encode_corpus(tiny_tokenizer_dir, [corpus], out, workers=1, overwrite=True)
    assert (out / ".spacy_wv-shards").is_file()
