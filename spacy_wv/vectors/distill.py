"""X2Static-style distillation (Gupta & Jaggi 2021, arXiv 2106.04302), simplified.

Static vectors are trained with a CBOW-like objective whose context comes from the
encoder: for each occurrence of a word in an encoded window, the context vector is the
mean of the encoder's (contextual) vectors of the words around it, the word itself
excluded; the word's static vector is pushed towards that context vector and away from
the static vectors of randomly drawn negative words (logistic loss, as in word2vec's
negative sampling). The static table starts from the pooled vectors.

Context vectors are gathered while the export encodes its windows (a bounded sample,
so memory stays flat), then the table is trained for a few epochs with numpy SGD.
"""
from typing import List, Optional

import numpy

CONTEXT_SIZE = 5  # words either side
MAX_EXAMPLES = 400_000
NEGATIVES = 5


class Distiller:
    def __init__(self, n_words: int, width: int, seed: int = 0, max_examples: int = MAX_EXAMPLES):
        self.n_words, self.width = n_words, width
        self.rng = numpy.random.default_rng(seed)
        self.targets = numpy.zeros(max_examples, dtype="int64")
        self.contexts = numpy.zeros((max_examples, width), dtype="float16")
        self.size = 0
        self.offered = 0
        self.frequency = numpy.zeros(n_words, dtype="float64")

    def observe(self, words_vectors: List[List[Optional[numpy.ndarray]]], vocab_ids: List[List[int]]) -> None:
        """Add (word, context vector) examples from a batch of encoded windows
        (reservoir-sampled beyond `max_examples`)."""
        for vectors, ids in zip(words_vectors, vocab_ids):
            present = [v is not None for v in vectors]
            for position, word in enumerate(ids):
                if word < 0 or not present[position]:
                    continue
                lo, hi = max(0, position - CONTEXT_SIZE), min(len(ids), position + CONTEXT_SIZE + 1)
                around = [vectors[j] for j in range(lo, hi) if j != position and present[j]]
                if not around:
                    continue
                self.frequency[word] += 1
                self._add(int(word), numpy.mean(around, axis=0))

    def _add(self, word: int, context: numpy.ndarray) -> None:
        self.offered += 1
        slot = self.size if self.size < self.targets.shape[0] else int(self.rng.integers(self.offered))
        if slot < self.targets.shape[0]:
            self.targets[slot], self.contexts[slot] = word, context
            self.size = max(self.size, slot + 1)

    def train(self, table: numpy.ndarray, pooled: numpy.ndarray, epochs: int, learning_rate: float = 0.05, batch: int = 256) -> numpy.ndarray:
        """Train the static table (initialised from `table`) on the gathered examples."""
        return train_cbow(table, self.targets[: self.size], self.contexts[: self.size].astype("float32"), self.frequency, epochs, learning_rate, batch, self.rng)


def train_cbow(table: numpy.ndarray, targets: numpy.ndarray, contexts: numpy.ndarray, frequency: numpy.ndarray, epochs: int,
               learning_rate: float = 0.05, batch: int = 256, rng=None) -> numpy.ndarray:
    """Negative-sampling logistic loss of dot(static[word], normalised context). Returns the new table."""
    rng = rng or numpy.random.default_rng(0)
    static = table.astype("float32", copy=True)
    scale = numpy.linalg.norm(static, axis=1).mean() or 1.0
    static /= scale
    contexts = contexts - contexts.mean(0)
    contexts /= numpy.maximum(numpy.linalg.norm(contexts, axis=1, keepdims=True), 1e-6)
    noise = frequency ** 0.75
    noise = noise / noise.sum() if noise.sum() > 0 else numpy.full(len(frequency), 1 / len(frequency))
    for _ in range(epochs):
        order = rng.permutation(len(targets))
        for start in range(0, len(targets), batch):
            index = order[start : start + batch]
            words, ctx = targets[index], contexts[index]
            negatives = rng.choice(len(noise), size=(len(index), NEGATIVES), p=noise)
            positive_score = (static[words] * ctx).sum(1)
            negative_score = numpy.einsum("bkd,bd->bk", static[negatives], ctx)
            positive_grad = (_sigmoid(positive_score) - 1.0)[:, None] * ctx
            negative_grad = _sigmoid(negative_score)[:, :, None] * ctx[:, None, :]
            numpy.add.at(static, words, -learning_rate * positive_grad)
            numpy.add.at(static, negatives.ravel(), -learning_rate * negative_grad.reshape(-1, ctx.shape[1]))
    return static * scale


def cbow_loss(static: numpy.ndarray, targets: numpy.ndarray, contexts: numpy.ndarray, negatives: numpy.ndarray) -> float:
    """Mean negative-sampling loss (for tests and monitoring)."""
    positive = (static[targets] * contexts).sum(1)
    negative = numpy.einsum("bkd,bd->bk", static[negatives], contexts)
    return float(-(numpy.log(_sigmoid(positive) + 1e-9).mean() + numpy.log(1 - _sigmoid(negative) + 1e-9).sum(1).mean()))


def _sigmoid(x):
    return 1.0 / (1.0 + numpy.exp(-numpy.clip(x, -30, 30)))
