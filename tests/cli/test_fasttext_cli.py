"""`python -m spacy_wv vectors fasttext`: same-corpus fastText vectors keyed by spaCy tokens,
then `spacy init vectors`; bad input gives one line."""
import subprocess
import sys

import pytest
import spacy


@pytest.fixture(scope="module")
def corpus(text_slice, tmp_path_factory):
    path = tmp_path_factory.mktemp("ft_corpus") / "small.txt"
    path.write_text(text_slice.read_text(encoding="utf8")[:200_000], encoding="utf8")
    return path


def test_trains_writes_word2vec_text_and_spacy_reads_it(run_cli, corpus, tmp_path):
    out = tmp_path / "ft.txt"
    code, printed = run_cli("vectors", "fasttext", out, corpus, "--dim", 12, "--epochs", 1,
                            "--max-words", 500, "--workers", 1)
    assert code == 0, printed
    lines = out.read_text(encoding="utf8").splitlines()
    assert lines[0] == "500 12" and len(lines) == 501
    words = [line.split(" ", 1)[0] for line in lines[1:]]
    assert words[:3] == ["the", ",", "."]  # most frequent first, punctuation split as spaCy does
    assert all(len(line.split(" ")) == 13 for line in lines[1:])
    vectors_dir = tmp_path / "vectors"
    result = subprocess.run([sys.executable, "-m", "spacy", "init", "vectors", "en", str(out), str(vectors_dir)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert spacy.load(vectors_dir).vocab.vectors.shape == (500, 12)


@pytest.mark.parametrize("args,message", [
    (["--dim", 0], "--dim must be at least 1"),
    (["--max-words", 0], "--max-words must be at least 1"),
    (["--lang", "xx-nope"], "Unknown spaCy language code"),
])
def test_bad_settings(run_cli, corpus, tmp_path, args, message):
    code, printed = run_cli("vectors", "fasttext", tmp_path / "ft.txt", corpus, *args)
    assert code == 1 and message in printed and len(printed.strip().splitlines()) == 1, printed
    assert not (tmp_path / "ft.txt").exists()


def test_refuses_a_directory_or_a_file_that_is_not_vectors(run_cli, corpus, tmp_path):
    code, printed = run_cli("vectors", "fasttext", tmp_path, corpus)
    assert code == 1 and "is a directory: give a file name ending in .txt" in printed
    notes = tmp_path / "notes.txt"
    notes.write_text("my precious notes, not vectors\n")
    code, printed = run_cli("vectors", "fasttext", notes, corpus)
    assert code == 1 and "exists and is not a word2vec text table" in printed
    assert notes.read_text() == "my precious notes, not vectors\n"


def test_subwords_refuse_a_file_that_is_not_a_subword_table_or_is_the_table(run_cli, corpus, tmp_path):
    notes = tmp_path / "notes.npz"
    notes.write_bytes(b"my precious notes, not a subword table\n")
    code, printed = run_cli("vectors", "fasttext", tmp_path / "ft.txt", corpus, "--subwords", notes)
    assert code == 1 and "exists and is not a subword table" in printed and len(printed.strip().splitlines()) == 1, printed
    assert notes.read_bytes() == b"my precious notes, not a subword table\n"
    assert not (tmp_path / "ft.txt").exists()
    code, printed = run_cli("vectors", "fasttext", tmp_path / "ft.txt", corpus, "--subwords", tmp_path / "ft.txt")
    assert code == 1 and "is the output table itself" in printed and len(printed.strip().splitlines()) == 1, printed


def test_empty_corpus(run_cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n   \n")
    code, printed = run_cli("vectors", "fasttext", tmp_path / "ft.txt", empty)
    assert code == 1 and "empty corpus" in printed
