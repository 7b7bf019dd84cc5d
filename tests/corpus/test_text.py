import gzip
import json
import tracemalloc

import pytest

from spacy_wv.corpus.text import MAX_DOC_CHARS, ReadStats, find_text_files, iter_documents
from spacy_wv.errors import UserError


def blocks(path):
    """Blank-line separated blocks of a file, read whole: the reference for the streaming reader."""
    text = path.read_text(encoding="utf8")
    return [b.strip() for b in text.split("\n\n") if b.strip()]


def test_txt_documents_are_blank_line_separated_blocks(data_dir):
    path = data_dir / "wikipedia_en" / "wiki_en_000.txt"
    stats = ReadStats()
    docs = list(iter_documents([path], stats))
    assert docs == blocks(path)
    assert docs[0].startswith("Anarchism\n")
    assert stats.documents == len(docs) and stats.files_read == 1
    assert stats.bytes_read == path.stat().st_size


def test_book_without_blank_lines_streams_in_bounded_chunks(data_dir):
    path = data_dir / "gutenberg" / "austen-emma.txt"
    docs = list(iter_documents([path]))
    assert len(docs) > 1
    assert all(len(d) <= MAX_DOC_CHARS for d in docs)
    # Cut at line breaks, so no word is split and no text is lost.
    assert "\n".join(docs).split() == path.read_text(encoding="utf8").split()


def test_jsonl_and_gz_give_the_same_documents(data_dir, tmp_path):
    source = data_dir / "reuters21578" / "reut2-000.txt"
    expected = blocks(source)
    jsonl = tmp_path / "reuters.jsonl"
    jsonl.write_text("".join(json.dumps({"text": d, "id": i}) + "\n" for i, d in enumerate(expected)), encoding="utf8")
    gz_txt = tmp_path / "reuters.txt.gz"
    gz_txt.write_bytes(gzip.compress(source.read_bytes()))
    gz_jsonl = tmp_path / "reuters.jsonl.gz"
    gz_jsonl.write_bytes(gzip.compress(jsonl.read_bytes()))
    for path in (jsonl, gz_txt, gz_jsonl):
        assert list(iter_documents([path])) == expected, path.name


def test_folders_are_read_recursively_in_sorted_order(data_dir, tmp_path):
    brown = data_dir / "brown"
    (tmp_path / "b" / "inner").mkdir(parents=True)
    (tmp_path / "a.txt").write_text((brown / "brown_cr.txt").read_text(encoding="utf8"), encoding="utf8")
    (tmp_path / "b" / "inner" / "z.txt").write_text((brown / "brown_cp.txt").read_text(encoding="utf8"), encoding="utf8")
    (tmp_path / "b" / "notes.csv").write_text("not,read\n", encoding="utf8")
    assert [p.name for p in find_text_files([tmp_path])] == ["a.txt", "z.txt"]
    stats = ReadStats()
    docs = list(iter_documents([tmp_path], stats))
    assert docs == blocks(brown / "brown_cr.txt") + blocks(brown / "brown_cp.txt")
    assert stats.files_read == 2


def test_crlf_text_reads_like_lf(data_dir, tmp_path):
    source = data_dir / "brown" / "brown_cr.txt"
    crlf = tmp_path / "brown_crlf.txt"
    crlf.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    assert list(iter_documents([crlf])) == blocks(source)


def test_binary_file_among_text_files_is_skipped_and_named(data_dir, tmp_path, capsys):
    text = data_dir / "brown" / "brown_cr.txt"
    (tmp_path / "a.txt").write_bytes(text.read_bytes())
    (tmp_path / "b.txt").write_bytes(bytes(range(256)) * 64)  # NUL bytes
    (tmp_path / "c.txt.gz").write_bytes(gzip.compress(bytes(range(128, 256)) * 64))  # undecodable
    stats = ReadStats()
    docs = list(iter_documents([tmp_path], stats))
    assert docs == blocks(text)
    assert [p.rsplit("/", 1)[-1] for p in stats.binary_files_skipped] == ["b.txt", "c.txt.gz"]
    out = " ".join(capsys.readouterr().out.split())  # wasabi wraps long lines
    assert "b.txt" in out and "c.txt.gz" in out


def test_invalid_utf8_lines_are_skipped_and_counted(data_dir, tmp_path):
    source = data_dir / "brown" / "brown_cr.txt"
    lines = source.read_bytes().split(b"\n")
    for i in (5, 50, 500):
        lines[i] = b"caf\xe9 au lait \xff\xfe"
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"\n".join(lines))
    stats = ReadStats()
    docs = list(iter_documents([broken], stats))
    assert stats.invalid_utf8_lines == 3
    kept = "\n".join(docs)
    assert "caf" not in kept.split()
    # Everything else survives: only the three bad lines' words are missing.
    original = source.read_text(encoding="utf8").split("\n")
    assert kept.split() == "\n".join(l for i, l in enumerate(original) if i not in (5, 50, 500)).split()


def test_fifty_megabyte_line_streams_in_bounded_chunks(data_dir, tmp_path):
    words = (data_dir / "brown" / "brown_ca.txt").read_text(encoding="utf8").split()[:5000]
    block = " ".join(words) + " "
    huge = tmp_path / "one_line.txt"
    repeats = 50_000_000 // len(block) + 1
    with huge.open("w", encoding="utf8") as f:
        for _ in range(repeats):
            f.write(block)
        f.write("\n")
    vocabulary = set(words)
    n_words = 0
    n_docs = 0
    tracemalloc.start()
    for doc in iter_documents([huge]):
        assert len(doc) <= MAX_DOC_CHARS
        # Cut at whitespace: the words at both ends of a chunk are whole.
        assert doc.split(" ", 1)[0] in vocabulary and doc.rsplit(" ", 1)[-1] in vocabulary
        n_words += doc.count(" ") + 1
        n_docs += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n_words == repeats * len(words)
    assert n_docs >= 50_000_000 // MAX_DOC_CHARS
    assert peak < 10_000_000


def test_bad_jsonl_lines_are_skipped_with_their_line_number(data_dir, tmp_path, capsys):
    docs = blocks(data_dir / "brown" / "brown_cr.txt")[:3]
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        json.dumps({"text": docs[0]}) + "\n"
        + "{not json\n"
        + json.dumps({"title": "no text field"}) + "\n"
        + "\n"
        + json.dumps({"text": docs[1]}) + "\n"
        + json.dumps({"text": docs[2]}),  # no final newline
        encoding="utf8",
    )
    stats = ReadStats()
    assert list(iter_documents([path], stats)) == docs
    assert stats.bad_jsonl_lines == 2
    out = " ".join(capsys.readouterr().out.split())  # wasabi wraps long lines
    assert "line 2" in out and "line 3" in out


def test_missing_input_is_a_user_error(data_dir, tmp_path):
    with pytest.raises(UserError, match="not found"):
        list(iter_documents([data_dir / "brown", tmp_path / "missing.txt"]))


@pytest.mark.parametrize("files", [{}, {"empty.txt": b""}, {"blank.txt": b"\n\n  \n", "empty.jsonl.gz": gzip.compress(b"")}])
def test_empty_corpus_is_a_user_error(tmp_path, files):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    with pytest.raises(UserError, match="empty corpus"):
        next(iter_documents([tmp_path]))


# ---- a task's own text (task-adaptive pretraining): .spacy DocBins and CLUE's .json lines

def test_a_docbin_gives_each_docs_text_without_labels(conll_slice_docbin):
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    expected = [doc.text.strip() for doc in DocBin().from_disk(conll_slice_docbin).get_docs(nlp.vocab)]
    assert len(expected) == 100 and all(expected)
    stats = ReadStats()
    assert list(iter_documents([conll_slice_docbin], stats)) == expected
    assert stats.files_read == 1 and stats.bytes_read == conll_slice_docbin.stat().st_size
    assert "EU rejects German call to boycott British lamb ." in expected[0]
    assert not any(tag in " ".join(expected) for tag in ("B-ORG", "I-PER", "-DOCSTART-"))


def test_tnews_json_lines_give_their_sentences(data_dir, tmp_path):
    source = data_dir / "tnews_fewclue" / "unlabeled.json"
    head = tmp_path / "unlabeled.json"
    lines = source.read_text(encoding="utf8").splitlines()[:50]
    head.write_text("\n".join(lines) + "\n", encoding="utf8")
    assert list(iter_documents([head])) == [json.loads(line)["sentence"].strip() for line in lines]
    # A 'text' field comes first where a line has both.
    both = tmp_path / "both.jsonl"
    both.write_text(json.dumps({"text": "the text", "sentence": "the sentence"}) + "\n", encoding="utf8")
    assert list(iter_documents([both])) == ["the text"]


def test_a_folder_reads_no_docbin_or_json(conll_slice_docbin, data_dir, tmp_path):
    (tmp_path / "task.spacy").write_bytes(conll_slice_docbin.read_bytes())
    (tmp_path / "tokenizer.json").write_text('{"version": "1.0"}', encoding="utf8")
    (tmp_path / "notes.txt").write_text("Only this file is text.\n", encoding="utf8")
    assert [p.name for p in find_text_files([tmp_path])] == ["notes.txt"]
    assert list(iter_documents([tmp_path])) == ["Only this file is text."]


def test_a_file_that_is_no_docbin_is_a_user_error(data_dir, tmp_path):
    fake = tmp_path / "train.spacy"
    fake.write_bytes((data_dir / "conll2003" / "eng.train").read_bytes()[:2000])
    with pytest.raises(UserError, match=r"train\.spacy is not a spaCy DocBin") as err:
        list(iter_documents([fake]))
    assert "\n" not in str(err.value)


def test_an_empty_docbin_is_an_empty_corpus(tmp_path, capsys):
    from spacy.tokens import DocBin

    empty = tmp_path / "empty.spacy"
    DocBin().to_disk(empty)
    with pytest.raises(UserError, match="empty corpus"):
        next(iter_documents([empty]))
    assert "empty.spacy holds no docs" in " ".join(capsys.readouterr().out.split())
