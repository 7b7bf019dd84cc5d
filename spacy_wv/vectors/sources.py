"""What `vectors evaluate` can evaluate: a static table (word2vec text, or a spaCy
pipeline dir with a vectors table) or a pipeline's contextual vectors."""
from pathlib import Path
from typing import Iterable, Sequence, Tuple

import numpy

from ..errors import UserError
from .tables import StaticVectors, read_word2vec, spacy_table

CONTEXTUAL_POLICY = "a word's vector is its contextual vector in isolation: the vector of `nlp(word)` (the mean of its tokens' vectors if the tokenizer splits it)"
CONTEXTUAL_CANDIDATES = "contextual vectors have no vocabulary: analogy candidates are the words of the question file"


class StaticSource:
    kind = "static"

    def __init__(self, name: str, table: StaticVectors):
        self.name, self.table = name, table

    def lookup(self, words: Sequence[str]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        return self.table.lookup(words)

    def analogy_candidates(self, top_n: int, question_words: Iterable[str]) -> StaticVectors:
        return StaticVectors(self.table.words[:top_n], self.table.table[:top_n])

    def candidates_policy(self, top_n: int) -> str:
        return f"analogy candidates are the {min(top_n, len(self.table.words)):,} most frequent words of the table"

    def describe(self) -> str:
        return f"static table, {len(self.table.words):,} words x {self.table.width}"


class ContextualSource:
    kind = "contextual"

    def __init__(self, name: str, nlp):
        self.name, self.nlp = name, nlp

    def lookup(self, words: Sequence[str]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        docs = list(self.nlp.pipe(words, batch_size=256))
        width = max((doc.vector.shape[0] for doc in docs), default=0)
        vectors = numpy.zeros((len(words), width), dtype="float32")
        found = numpy.zeros(len(words), dtype=bool)
        for i, doc in enumerate(docs):
            if doc.has_vector:
                vectors[i], found[i] = doc.vector, True
        return vectors, found

    def analogy_candidates(self, top_n: int, question_words: Iterable[str]) -> StaticVectors:
        words = list(dict.fromkeys(question_words))
        vectors, found = self.lookup(words)
        return StaticVectors([w for w, f in zip(words, found) if f], vectors[found])

    def candidates_policy(self, top_n: int) -> str:
        return CONTEXTUAL_CANDIDATES

    def describe(self) -> str:
        return f"contextual vectors of pipeline {self.nlp.pipe_names}; {CONTEXTUAL_POLICY}"


def load_source(path: Path, name: str):
    """A word2vec text file, a spaCy pipeline with a vectors table, or a pipeline with
    a transformer (its `wv_vectors` component, added with defaults if missing)."""
    path = Path(path)
    if path.is_file():
        return StaticSource(name, read_word2vec(path))
    if not (path / "config.cfg").is_file():
        raise UserError(f"Not a vectors file nor a spaCy pipeline dir (no config.cfg): {path}")
    import spacy

    nlp = spacy.load(path)
    factories = [nlp.get_pipe_meta(pipe_name).factory for pipe_name in nlp.pipe_names]
    if "wv_vectors" not in factories and "transformer" in factories:
        nlp.add_pipe("wv_vectors", after=nlp.pipe_names[factories.index("transformer")])
        factories = [nlp.get_pipe_meta(pipe_name).factory for pipe_name in nlp.pipe_names]
    if "wv_vectors" in factories:
        keep = factories.index("wv_vectors") + 1
        return ContextualSource(name, _only_first(nlp, keep))
    if nlp.vocab.vectors.size == 0:
        raise UserError(f"The pipeline at {path} has neither a vectors table nor a transformer")
    return StaticSource(name, spacy_table(nlp.vocab))


def _only_first(nlp, keep: int):
    """Drop the components after `wv_vectors`: evaluation needs no ner or textcat."""
    for pipe_name in nlp.pipe_names[keep:]:
        nlp.remove_pipe(pipe_name)
    return nlp
