"""Vectors for words that got no context: encoded alone and mapped into the pooled space.

A word outside the exported table (or a table word whose windows all overflowed the
encoder's length limit) is encoded alone, from its pieces, with the export's layers and
pooling; a ridge regression fitted from the isolated vectors of the pooled words to
their pooled vectors maps it into the table's space.
"""
from typing import List, Optional, Sequence, Tuple

import numpy

from .window_encoder import WindowEncoder, pool_all_words


class Composer:
    """Vectors for words from their pieces in isolation, mapped into the pooled space;
    `heldout_cosine` scores the map on a tenth of the pooled words held out of its fit."""

    def __init__(self, encoder: Optional[WindowEncoder], weights: numpy.ndarray, bias: numpy.ndarray, heldout_cosine: float = float("nan")):
        self.encoder, self.weights, self.bias, self.heldout_cosine = encoder, weights, bias, heldout_cosine

    @classmethod
    def fit(cls, encoder: WindowEncoder, words: List[str], table: numpy.ndarray, pooled: numpy.ndarray, ridge: float, max_fit: int = 10_000, seed: int = 0) -> "Composer":
        width = table.shape[1]
        rows = numpy.flatnonzero(pooled)
        if rows.size < 10:
            return cls(encoder, numpy.eye(width, dtype="float32"), numpy.zeros(width, dtype="float32"))
        rng = numpy.random.default_rng(seed)
        rows = rng.permutation(rows)[:max_fit]
        isolated = cls(encoder, numpy.eye(width, dtype="float32"), numpy.zeros(width, dtype="float32")).compose([words[i] for i in rows])
        held = max(1, rows.size // 10)
        weights, bias = _ridge(isolated[held:], table[rows[held:]], ridge)
        predicted = isolated[:held] @ weights + bias
        heldout = float(numpy.mean(_cosines(predicted, table[rows[:held]])))
        weights, bias = _ridge(isolated, table[rows], ridge)
        return cls(encoder, weights, bias, heldout)

    def compose(self, words: Sequence[str], batch_size: int = 512) -> numpy.ndarray:
        width = self.weights.shape[0]
        out = numpy.zeros((len(words), width), dtype="float32")
        for start in range(0, len(words), batch_size):
            batch = [[word] for word in words[start : start + batch_size]]
            hidden, word_ids = self.encoder.hidden(batch)
            for i, row in enumerate(pool_all_words(hidden, word_ids, [1] * len(batch), self.encoder.pooling)):
                if row[0] is not None:
                    out[start + i] = row[0]
        return (out @ self.weights + self.bias).astype("float32")


def _ridge(x: numpy.ndarray, y: numpy.ndarray, ridge: float) -> Tuple[numpy.ndarray, numpy.ndarray]:
    x_mean, y_mean = x.mean(0), y.mean(0)
    xc = (x - x_mean).astype("float64")
    weights = numpy.linalg.solve(xc.T @ xc + ridge * len(x) * numpy.eye(x.shape[1]), xc.T @ (y - y_mean))
    return weights.astype("float32"), (y_mean - x_mean @ weights).astype("float32")


def _cosines(a: numpy.ndarray, b: numpy.ndarray) -> numpy.ndarray:
    return (a * b).sum(1) / numpy.maximum(numpy.linalg.norm(a, axis=1) * numpy.linalg.norm(b, axis=1), 1e-12)
