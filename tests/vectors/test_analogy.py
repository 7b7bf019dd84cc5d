import numpy
import pytest

from spacy_wv.errors import UserError
from spacy_wv.vectors.analogy import evaluate_analogies, read_analogies
from spacy_wv.vectors.tables import StaticVectors

# Two features: (royalty, gender) plus an orthogonal "tense" axis for the syntactic part.
WORDS = ["man", "woman", "king", "queen", "walk", "walked", "jump", "jumped", "prince"]
TABLE = numpy.array([
    [0, 1, 0], [0, -1, 0], [1, 1, 0], [1, -1, 0],
    [0, 0, 1], [0.5, 0, -1], [0.1, 0.2, 1], [0.6, 0.2, -1], [0.9, 0.9, 0.1],
], dtype="float32")
QUESTIONS = """: capital-common-countries
man woman king queen
woman man queen king
man king woman prince
: gram7-past-tense
walk walked jump jumped
walk walked zebra zebras
"""


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text(QUESTIONS, encoding="utf8")
    return read_analogies(path)


def test_known_answers_per_category(questions):
    result = evaluate_analogies(StaticVectors(WORDS, TABLE), questions)
    # man:woman::king:queen and woman:man::queen:king are solved; man:king::woman:? gives queen, not prince.
    assert result["3CosAdd"]["semantic"] == pytest.approx(2 / 3)
    assert result["3CosAdd"]["syntactic"] == pytest.approx(1.0)
    assert result["3CosAdd"]["overall"] == pytest.approx(3 / 4)
    assert result["3CosMul"]["semantic"] == pytest.approx(2 / 3)
    assert (result["covered"], result["questions"]) == (4, 5)
    assert result["coverage_syntactic"] == pytest.approx(0.5)
    assert set(result["3CosAdd"]["sections"]) == {"capital-common-countries", "gram7-past-tense"}


def test_restricting_the_vocabulary_drops_questions(questions):
    result = evaluate_analogies(StaticVectors(WORDS[:4], TABLE[:4]), questions)
    assert result["covered"] == 2 and result["3CosAdd"]["overall"] == 1.0
    assert numpy.isnan(result["3CosAdd"]["syntactic"])


def test_case_insensitive_questions(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(": capital\nMan Woman King Queen\n", encoding="utf8")
    assert evaluate_analogies(StaticVectors(WORDS, TABLE), read_analogies(path))["3CosAdd"]["overall"] == 1.0


def test_malformed_and_empty_question_files(tmp_path, capsys):
    path = tmp_path / "q.txt"
    path.write_text(": s\nman woman king\nman woman king queen\n", encoding="utf8")
    assert len(read_analogies(path)) == 1
    assert "line 2" in " ".join(capsys.readouterr().out.split())
    path.write_text(": only a section\n", encoding="utf8")
    with pytest.raises(UserError, match="no valid"):
        read_analogies(path)


def test_real_google_file_sections(data_dir):
    questions = read_analogies(data_dir / "analogy" / "questions-words.txt")
    assert len(questions) == 19544
    assert sum(q.category == "semantic" for q in questions) == 8869
