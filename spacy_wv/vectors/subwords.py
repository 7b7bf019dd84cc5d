"""fastText's character n-gram buckets, saved beside its word table, so that any word,
seen or not, gets a subword vector: the mean of its n-grams' vectors, as fastText
computes it for a word outside its vocabulary.

The file is a `.npz` read with `allow_pickle=False`: the bucket table (float16) and the
n-gram settings. Hashing is gensim's own (`ft_ngram_hashes`, Facebook fastText's FNV-1a),
so a word gets the same buckets it had in training.
"""
from pathlib import Path
from typing import Sequence

import numpy

from ..errors import UserError

SUBWORD_KEYS = ("ngrams", "min_n", "max_n")


class SubwordVectors:
    def __init__(self, ngrams: numpy.ndarray, min_n: int, max_n: int):
        self.ngrams, self.min_n, self.max_n = ngrams, int(min_n), int(max_n)

    @property
    def width(self) -> int:
        return self.ngrams.shape[1]

    @classmethod
    def from_gensim(cls, model) -> "SubwordVectors":
        return cls(numpy.asarray(model.wv.vectors_ngrams, dtype="float16"), model.wv.min_n, model.wv.max_n)

    def save(self, path: Path) -> None:
        with Path(path).open("wb") as file:
            numpy.savez(file, ngrams=self.ngrams, min_n=self.min_n, max_n=self.max_n)

    @classmethod
    def load(cls, path: Path) -> "SubwordVectors":
        path = Path(path)
        if not path.is_file():
            raise UserError(f"Subword vectors file not found: {path}")
        try:
            with numpy.load(path, allow_pickle=False) as stored:
                missing = [key for key in SUBWORD_KEYS if key not in stored.files]
                if missing:
                    raise UserError(f"{path} is not a subword table from `vectors fasttext --subwords` (no {', '.join(missing)})")
                return cls(stored["ngrams"], stored["min_n"], stored["max_n"])
        except (ValueError, OSError) as err:
            raise UserError(f"{path} is not a readable subword table: {err}") from None

    def vectors(self, words: Sequence[str]) -> numpy.ndarray:
        """The mean n-gram vector of each word (zeros for a word with no n-gram, e.g. "")."""
        from gensim.models.fasttext import ft_ngram_hashes

        out = numpy.zeros((len(words), self.width), dtype="float32")
        for i, word in enumerate(words):
            buckets = ft_ngram_hashes(word, self.min_n, self.max_n, self.ngrams.shape[0])
            if buckets:
                out[i] = self.ngrams[buckets].astype("float32").mean(axis=0)
        return out


def is_subword_file(path: Path) -> bool:
    try:
        SubwordVectors.load(path)
    except UserError:
        return False
    return True
