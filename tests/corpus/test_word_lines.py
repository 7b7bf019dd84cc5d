import pytest

from spacy_wv.corpus.text import ReadStats
from spacy_wv.corpus.word_lines import (check_segmentation, document_word_lines, iter_word_lines, make_segmenter,
                                        write_word_lines)
from spacy_wv.errors import UserError


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("do n't stop , please\nsecond line\n\n \t\nnext document\n", encoding="utf8")
    return path


def test_each_non_blank_line_is_a_list_of_words(corpus):
    assert list(iter_word_lines([corpus], make_segmenter(whitespace=True), max_words=3)) == [
        ["do", "n't", "stop"], [",", "please"], ["second", "line"], ["next", "document"]]
    assert list(iter_word_lines([corpus], make_segmenter()))[0] == ["do", "n't", "stop", ",", "please"]
    assert list(iter_word_lines([corpus], lambda text: text.upper().split(",")))[0] == ["DO N'T STOP ", " PLEASE"]


def test_by_document_and_a_line_that_segments_to_nothing(corpus):
    stats = ReadStats()
    documents = list(iter_word_lines([corpus], make_segmenter(), by_document=True, stats=stats))
    assert documents == [["do", "n't", "stop", ",", "please", "second", "line"], ["next", "document"]]
    assert stats.documents == 2 and stats.bytes_read == corpus.stat().st_size
    assert list(document_word_lines("a b\n c \n", lambda text: [w for w in text.split() if w != "c"])) == [["a", "b"]]


def test_write_word_lines_cuts_long_lines_and_counts_words(tmp_path):
    out = tmp_path / "lines.txt"
    assert write_word_lines([["a", "b", "c", "d", "e"], [], ["東京"]], out, max_words=2) == 6
    assert out.read_text(encoding="utf8") == "a b\nc d\ne\n東京\n"


def test_chinese_segmenters_and_an_unknown_language():
    assert make_segmenter(segmenter="char")("我们 ok") == ["我", "们", "ok"]
    with pytest.raises(UserError, match="Unknown spaCy language code 'nope'"):
        make_segmenter(lang="nope")


def test_a_segmentation_that_leaves_chinese_uncut_is_refused():
    check_segmentation([["the", "cat"], ["我们"]], "spaCy's English tokenizer")
    with pytest.raises(UserError, match="--segmenter jieba"):
        check_segmentation([["我们今天去北京看看"]], "spaCy's English tokenizer")
