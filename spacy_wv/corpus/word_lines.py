"""Raw text to lines of words: the one place that cuts a corpus into words for static
vectors (`vectors export`, `vectors fasttext`, the pretraining warm start, the benchmarks).

A segmenter (`make_segmenter`) turns a string into words: spaCy's blank tokenizer for a
language (English by default), whitespace, or a Chinese segmenter (`corpus/segment.py`).
`iter_word_lines` reads files (`corpus/text.py`) and yields the words of each non-blank
line (or of each whole document), and `write_word_lines` writes such lines as text, one
line of words separated by single spaces each, as gensim's `corpus_file` reads them.
"""
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Sequence

from ..errors import UserError
from .segment import CJK_CLASS, CJK_RE, get_segmenter
from .text import PathLike, ReadStats, iter_documents

Segmenter = Callable[[str], List[str]]
# A segmentation that suits the text cuts few "words" longer than MAX_WORD_CHARS, or
# with more CJK characters in a row than a Chinese word has; checked on the first lines.
MAX_WORD_CHARS = 24
MAX_CJK_RUN = re.compile(f"[{CJK_CLASS}]{{6,}}")
MAX_UNCUT_SHARE = 0.1
SEGMENTATION_SAMPLE_LINES = 2000


def make_segmenter(whitespace: bool = False, segmenter: Optional[str] = None, lang: str = "en") -> Segmenter:
    """A function text -> words (no whitespace-only words): a Chinese word segmenter
    ("jieba" or "char"), whitespace, or spaCy's blank tokenizer for `lang`."""
    if segmenter:
        return get_segmenter(segmenter)
    if whitespace:
        return str.split
    import spacy

    try:
        tokenizer = spacy.blank(lang).tokenizer
    except ImportError as err:
        raise UserError(f"Unknown spaCy language code {lang!r}: {err}") from None
    return lambda text: [token.text for token in tokenizer(text) if not token.is_space]


def describe_segmentation(whitespace: bool = False, segmenter: Optional[str] = None) -> str:
    if segmenter:
        return f"the {segmenter} segmenter"
    return "splitting at whitespace" if whitespace else "spaCy's English tokenizer"


def check_segmentation(lines: Sequence[List[str]], segmentation: str) -> None:
    """Refuse a segmentation that leaves the text's words uncut: a script written without
    spaces (Chinese through spaCy's English tokenizer) gives phrase- or sentence-long
    "words", each a vector of its own."""
    words = [word for line in lines for word in line]
    uncut = [word for word in words if len(word) > MAX_WORD_CHARS or MAX_CJK_RUN.search(word)]
    if words and len(uncut) > MAX_UNCUT_SHARE * len(words):
        chinese = any(CJK_RE.search(word) for word in uncut)
        raise UserError(f"{segmentation} leaves {len(uncut) / len(words):.0%} of the words uncut (e.g. {uncut[0][:40]!r}): "
                        f"the text is written without spaces between words; "
                        + ("give --segmenter jieba (words) or char (characters)" if chinese
                           else "give a segmenter that suits its script (export_vectors' `segment`)"))


def document_word_lines(document: str, segment: Segmenter, max_words: Optional[int] = None) -> Iterator[List[str]]:
    """The words of each non-blank line of one document, in pieces of at most `max_words`."""
    for line in document.split("\n"):
        if line.strip():
            yield from _cut(segment(line), max_words)


def iter_word_lines(paths: Iterable[PathLike], segment: Segmenter, max_words: Optional[int] = None,
                    by_document: bool = False, stats: Optional[ReadStats] = None) -> Iterator[List[str]]:
    """The corpus as lists of words: each non-blank line of each document segmented (or,
    `by_document`, each whole document), in pieces of at most `max_words`; never an
    empty list. `stats` counts what was read (`corpus/text.py`)."""
    for document in iter_documents(paths, stats):
        if by_document:
            yield from _cut(segment(document), max_words)
        else:
            yield from document_word_lines(document, segment, max_words)


def write_word_lines(lines: Iterable[List[str]], out: Path, max_words: Optional[int] = None) -> int:
    """Each list of words as a line of `out`, separated by single spaces (a longer list in
    lines of at most `max_words`); returns the number of words written."""
    n_words = 0
    with Path(out).open("w", encoding="utf8", newline="\n") as sink:
        for words in lines:
            for piece in _cut(words, max_words):
                sink.write(" ".join(piece) + "\n")
                n_words += len(piece)
    return n_words


def _cut(words: List[str], max_words: Optional[int]) -> Iterator[List[str]]:
    if not words:
        return
    if max_words is None or len(words) <= max_words:
        yield words
        return
    for start in range(0, len(words), max_words):
        yield words[start : start + max_words]
