import numpy
import pytest

from spacy_wv.errors import UserError
from spacy_wv.vectors.similarity import evaluate_similarity, rank, read_word_pairs, spearman
from spacy_wv.vectors.tables import StaticVectors


def test_ranks_average_ties():
    assert rank(numpy.array([10, 20, 20, 5, 20])).tolist() == [2, 4, 4, 1, 4]


def test_spearman_matches_hand_computed_values():
    # Ranks x: 1,2,3,4,5; ranks y: 2,1,4,3,5 -> rho = 1 - 6*sum(d^2)/(n(n^2-1)) = 1 - 6*4/120 = 0.8
    assert spearman(numpy.array([1, 2, 3, 4, 5.0]), numpy.array([20, 10, 40, 30, 50.0])) == pytest.approx(0.8)
    # With ties (x ranks 1, 2.5, 2.5, 4): Pearson of ranks, computed by hand = 0.9486832980505138
    assert spearman(numpy.array([1, 2, 2, 3.0]), numpy.array([1, 2, 3, 4.0])) == pytest.approx(0.9486832980505138)
    assert spearman(numpy.array([1, 2, 3.0]), numpy.array([3, 2, 1.0])) == pytest.approx(-1.0)
    assert numpy.isnan(spearman(numpy.array([1.0]), numpy.array([2.0])))


def test_similarity_on_hand_made_vectors_skips_oov_pairs(tmp_path):
    # cos(cat, dog) = 0.8, cos(cat, car) = 0, cos(dog, car) = 0.6: human order cat-dog > dog-car > cat-car.
    vectors = StaticVectors(["cat", "dog", "car"], numpy.array([[1, 0], [0.8, 0.6], [0, 1]], dtype="float32"))
    path = tmp_path / "pairs.tsv"
    path.write_text("cat\tdog\t9\ncat\tcar\t1\ndog\tcar\t5\ncat\tunicorn\t7\n", encoding="utf8")
    result = evaluate_similarity(vectors, read_word_pairs(path))
    assert result["spearman"] == pytest.approx(1.0)
    assert (result["pairs"], result["covered"], result["coverage"]) == (4, 3, 0.75)
    assert "skipped" in result["oov_policy"]


def test_malformed_lines_are_reported_with_line_numbers_and_skipped(tmp_path, capsys):
    path = tmp_path / "pairs.tsv"
    path.write_text("a\tb\t1\nno tabs here\na\tb\tnot-a-number\n\nc\td\t2\ta-fourth-field\ne\tf\t3\n", encoding="utf8")
    pairs = read_word_pairs(path)
    assert pairs.pairs == [("a", "b"), ("e", "f")]
    output = " ".join(capsys.readouterr().out.split())
    assert f"Skipped 3 malformed line(s) of {path} (line 2, 3, 5)" in output


def test_no_valid_line_is_a_user_error(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("just words\n", encoding="utf8")
    with pytest.raises(UserError, match="no valid"):
        read_word_pairs(path)


def test_real_wordsim_file_reads_completely(data_dir):
    pairs = read_word_pairs(data_dir / "wordsim" / "ws353_all.tsv")
    assert len(pairs.pairs) == 353 and pairs.scores.max() <= 10
