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

    def __init__(self, name: str, table: StaticVectors, every_word=None):
        """`every_word`: a `WordVectors` that composes words outside the table (optional)."""
        self.name, self.table, self.every_word = name, table, every_word

    def lookup(self, words: Sequence[str]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        return (self.every_word or self.table).lookup(words)

    def analogy_candidates(self, top_n: int, question_words: Iterable[str]) -> StaticVectors:
        return StaticVectors(self.table.words[:top_n], self.table.table[:top_n])

    def candidates_policy(self, top_n: int) -> str:
        return f"analogy candidates are the {min(top_n, len(self.table.words)):,} most frequent words of the table"

    def in_context_vectors(self, pairs) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Context-free vectors of the two target words (zero where unknown)."""
        return self.lookup([a for a, _ in pairs.targets])[0], self.lookup([b for _, b in pairs.targets])[0]

    def describe(self) -> str:
        composed = f"; {self.every_word.oov_policy}" if self.every_word is not None and self.every_word.oov_policy else ""
        return f"static table, {len(self.table.words):,} words x {self.table.width}{composed}"


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

    def in_context_vectors(self, pairs) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """`span.vector` of each target in its context, through the pipeline."""
        from .in_context import span_vectors

        return (span_vectors(self.nlp, [a for a, _ in pairs.contexts], [a for a, _ in pairs.spans]),
                span_vectors(self.nlp, [b for _, b in pairs.contexts], [b for _, b in pairs.spans]))

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
    from .joint import JOINT_JSON, JointVectors
    from .wordvectors import EXPORT_JSON, WordVectors

    if (path / JOINT_JSON).is_file():
        every_word = JointVectors.load(path)
        return StaticSource(name, every_word.table, every_word)
    if (path / EXPORT_JSON).is_file():
        every_word = WordVectors.load(path)
        return StaticSource(name, every_word.table, every_word)
    return StaticSource(name, spacy_table(nlp.vocab))


def _only_first(nlp, keep: int):
    """Drop the components after `wv_vectors`: evaluation needs no ner or textcat."""
    for pipe_name in nlp.pipe_names[keep:]:
        nlp.remove_pipe(pipe_name)
    return nlp
