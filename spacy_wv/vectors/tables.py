"""Static vector tables: word2vec text and spaCy vectors directories, read and written.

Rows are kept in file order, which for our exports and for word2vec/gensim files is
frequency order (most frequent first): analogy evaluation restricts itself to the
first rows.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy

from ..errors import UserError
from ..outputs import atomic_output_file

W2V_FILE = "vectors.w2v.txt"


@dataclass
class StaticVectors:
    """Words (most frequent first) and their vectors, one row each."""

    words: List[str]
    table: numpy.ndarray
    _exact: Dict[str, int] = field(default_factory=dict, repr=False)
    _folded: Dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.table.ndim != 2 or self.table.shape[0] != len(self.words):
            raise ValueError(f"{len(self.words)} words for a table of shape {self.table.shape}")
        finite = numpy.isfinite(self.table).all(axis=1)
        if not finite.all():
            bad = numpy.flatnonzero(~finite)
            raise UserError(f"{bad.size:,} vectors hold NaN or infinite values (first: {self.words[bad[0]]!r}, row {bad[0] + 1}); "
                            "re-export them: a non-finite vector has no cosine")
        # Reversed, so that the first (most frequent) spelling of a word wins.
        for i in range(len(self.words) - 1, -1, -1):
            self._exact[self.words[i]] = i
            self._folded[self.words[i].lower()] = i

    @property
    def width(self) -> int:
        return self.table.shape[1]

    def row(self, word: str) -> Optional[int]:
        """The row of `word`: the exact spelling, else its most frequent case variant."""
        row = self._exact.get(word)
        return row if row is not None else self._folded.get(word.lower())

    def lookup(self, words: Sequence[str]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Vectors of `words` (zero rows where unknown) and a mask of the known ones."""
        rows = [self.row(word) for word in words]
        found = numpy.array([row is not None for row in rows], dtype=bool)
        vectors = numpy.zeros((len(words), self.width), dtype="float32")
        if found.any():
            vectors[found] = self.table[[row for row in rows if row is not None]]
        return vectors, found


def write_word2vec(path: Path, words: Sequence[str], table: numpy.ndarray) -> None:
    """word2vec text (what `spacy init vectors` and gensim read): a `count width` header,
    then `word v1 ... vN` per line. Written atomically: a temporary sibling is filled and
    renamed over `path`, so an interrupted write leaves the old file as it was."""
    table = numpy.asarray(table)
    if table.ndim != 2 or table.shape[0] != len(words):
        raise ValueError(f"{len(words)} words for a table of shape {table.shape}")
    row_format = " ".join(["%.6g"] * table.shape[1])
    with atomic_output_file(path) as tmp, tmp.open("w", encoding="utf8") as file:
        file.write(f"{table.shape[0]} {table.shape[1]}\n")
        for word, vector in zip(words, table.tolist()):
            file.write(f"{word} {row_format % tuple(vector)}\n")


def read_word2vec(path: Path) -> StaticVectors:
    """Read word2vec text (or GloVe text, which has no header line).

    A line with the wrong number of values or an unreadable number is a UserError
    naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Vectors file not found: {path}")
    words: List[str] = []
    rows: List[numpy.ndarray] = []
    width = declared_count = None
    with path.open("r", encoding="utf8", errors="replace") as file:
        for line_number, line in enumerate(file, start=1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if line_number == 1 and len(parts) == 2 and all(part.isdigit() for part in parts):
                declared_count, width = int(parts[0]), int(parts[1])
                continue
            if not line.strip():
                continue
            if width is None:
                width = len(parts) - 1
            if len(parts) - 1 != width:
                raise UserError(f"{path}:{line_number}: expected a word and {width} values, found {len(parts) - 1} values")
            try:
                rows.append(numpy.asarray(parts[1:], dtype="float32"))
            except ValueError:
                raise UserError(f"{path}:{line_number}: a value is not a number") from None
            words.append(parts[0])
    if not words or not width:
        raise UserError(f"No vectors in {path}")
    if declared_count is not None and declared_count != len(words):
        raise UserError(f"{path}: the header declares {declared_count} vectors, the file has {len(words)}")
    return StaticVectors(words, numpy.vstack(rows))


def is_word2vec_text(path: Path) -> bool:
    """The whole file is a word2vec text table with its `count width` header (what
    `vectors fasttext` and `vectors export` write): every line a word and `width` numbers."""
    with Path(path).open("rb") as file:
        header = file.readline(64).split()
    if len(header) != 2 or not all(part.isdigit() for part in header):
        return False
    try:
        read_word2vec(path)
    except UserError:
        return False
    return True


def write_spacy_vectors(path: Path, words: Sequence[str], table: numpy.ndarray, lowercase: bool = False) -> None:
    """A blank English pipeline holding the vectors: `spacy.load`-able, and usable as
    `[initialize] vectors = PATH` of any pipeline. A lowercased table also keys each row by
    the word's Title and UPPER forms, so that 'Paris' in a document finds the row of
    'paris' in token.vector and in the CNN's static-vector features. (Keying by LOWER
    instead is lost on disk: spaCy 3.8 saves `Vectors.attr` only for floret tables.)"""
    import spacy
    from spacy.vectors import Vectors

    nlp = spacy.blank("en")
    keys = [nlp.vocab.strings.add(word) for word in words]
    vectors = Vectors(strings=nlp.vocab.strings, data=numpy.ascontiguousarray(table, dtype="float32"), keys=keys)
    if lowercase:
        for row, word in enumerate(words):
            for form in {word.title(), word.upper()} - {word}:
                vectors.add(nlp.vocab.strings.add(form), row=row)
    nlp.vocab.vectors = vectors
    nlp.to_disk(path)


def spacy_table(vocab) -> StaticVectors:
    """The vectors table of a spaCy vocab, in row order."""
    vectors = vocab.vectors
    # A row's first key names it (key2row keeps insertion order, on disk too): the word
    # itself, not the Title or UPPER form `write_spacy_vectors` adds after it.
    word_of_row: Dict[int, str] = {}
    for key, row in vectors.key2row.items():
        word_of_row.setdefault(row, vocab.strings[key])
    rows = sorted(word_of_row)
    return StaticVectors([word_of_row[row] for row in rows], numpy.asarray(vectors.data)[rows])
