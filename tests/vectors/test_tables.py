import numpy
import pytest
import spacy
from gensim.models import KeyedVectors

from spacy_wv.errors import UserError
from spacy_wv.vectors.tables import StaticVectors, read_word2vec, spacy_table, write_spacy_vectors, write_word2vec

WORDS = ["the", "The", "Paris", "naïve", "東京", "🙂"]


@pytest.fixture
def table():
    return numpy.random.default_rng(0).normal(size=(len(WORDS), 5)).astype("float32")


def test_gensim_reads_our_word2vec_text_and_we_read_it_back(tmp_path, table):
    write_word2vec(tmp_path / "v.txt", WORDS, table)
    keyed = KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt"), binary=False)
    assert keyed.index_to_key == WORDS
    assert numpy.allclose(keyed["東京"], table[4], atol=1e-5)
    ours = read_word2vec(tmp_path / "v.txt")
    assert ours.words == WORDS and numpy.allclose(ours.table, table, atol=1e-5)


def test_spacy_loads_our_vectors_dir_in_row_order(tmp_path, table):
    write_spacy_vectors(tmp_path / "vectors", WORDS, table)
    nlp = spacy.load(tmp_path / "vectors")
    assert numpy.allclose(nlp.vocab["naïve"].vector, table[3])
    assert nlp.vocab.vectors.shape == table.shape
    back = spacy_table(nlp.vocab)
    assert back.words == WORDS and numpy.allclose(back.table, table)


def test_a_cnn_pipeline_initializes_with_our_vectors(tmp_path, table):
    write_spacy_vectors(tmp_path / "vectors", WORDS, table)
    config = spacy.util.load_config_from_str(
        "[nlp]\nlang = \"en\"\npipeline = []\n[components]\n[initialize]\nvectors = \"" + str(tmp_path / "vectors") + "\"\n"
    )
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    assert numpy.allclose(nlp("Paris")[0].vector, table[2])


def test_lookup_prefers_exact_case_then_most_frequent_variant(table):
    vectors = StaticVectors(WORDS, table)
    found_vectors, found = vectors.lookup(["The", "THE", "paris", "missing"])
    assert found.tolist() == [True, True, True, False]
    assert numpy.allclose(found_vectors[0], table[1]) and numpy.allclose(found_vectors[1], table[0])
    assert numpy.allclose(found_vectors[2], table[2]) and not found_vectors[3].any()


def test_inconsistent_dimensions_name_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("3 2\na 1 2\nb 1 2 3\nc 1 2\n", encoding="utf8")
    with pytest.raises(UserError, match=r"bad.txt:3: expected a word and 2 values, found 3"):
        read_word2vec(path)


@pytest.mark.parametrize("content, message", [
    ("2 2\na 1 x\nb 1 2\n", r":2: a value is not a number"),
    ("3 2\na 1 2\nb 1 2\n", "declares 3 vectors, the file has 2"),
    ("", "No vectors"),
])
def test_other_broken_vector_files_are_user_errors(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf8")
    with pytest.raises(UserError, match=message):
        read_word2vec(path)


def test_glove_text_without_header_is_read(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("a 1 2\nb 3 4\n", encoding="utf8")
    assert read_word2vec(path).table.tolist() == [[1, 2], [3, 4]]


class BreaksAfterTwo(list):
    """Words whose iteration is interrupted (as by Ctrl-C) after the second."""

    def __iter__(self):
        for i, word in enumerate(list.__iter__(self)):
            if i == 2:
                raise KeyboardInterrupt
            yield word


def test_an_interrupted_word2vec_write_leaves_the_old_file(tmp_path, table):
    path = tmp_path / "v.txt"
    write_word2vec(path, WORDS, table)
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        write_word2vec(path, BreaksAfterTwo(WORDS), table * 2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["v.txt"]
