"""Wordpiece vectors pooled into one vector per word, in numpy: the one implementation
that the `wv_vectors` component (`pipeline/vectors.py`) and the static vector export
(`vectors/`) share, where no gradient is needed and speed matters (every step is one
vectorised numpy call). It sits on the ground floor so that both import it downward.

Where a gradient is needed (a listener while training), `layers/subword_pooling.py`
pools with thinc's own `reduce_*` layers.
"""
from typing import Optional, Sequence

import numpy

from .errors import UserError

POOLING_MODES = ("first", "last", "mean", "max", "first_last")


def check_pooling(mode: str) -> str:
    if mode not in POOLING_MODES:
        raise UserError(f"Unknown pooling {mode!r}: choose one of {', '.join(POOLING_MODES)}.")
    return mode


def mix_layers(layers: Sequence[numpy.ndarray], rows: numpy.ndarray) -> numpy.ndarray:
    """Average the given rows of several hidden-state layers, each flattened to (n_rows, width).

    Only the rows a word uses are gathered, so the cost does not grow with padding.
    """
    mixed = layers[0][rows]  # fancy indexing copies, so adding in place below is safe
    if mixed.dtype != numpy.float32:
        mixed = mixed.astype("float32")
    for layer in layers[1:]:
        mixed += layer[rows]
    if len(layers) > 1:
        mixed /= len(layers)
    return mixed


def pool_wordpieces(
    pieces: numpy.ndarray,
    lengths: numpy.ndarray,
    mode: str,
    windows: Optional[numpy.ndarray] = None,
) -> numpy.ndarray:
    """Pool wordpiece vectors into one vector per word.

    pieces: (n_pieces, width), the pieces of word 0, then of word 1, ... in order.
    lengths: (n_words,), how many of the rows in `pieces` belong to each word; a word
        with no pieces (a whitespace token) gets a zero vector.
    windows: (n_pieces,), optional id of the window each piece was encoded in. A word
        seen in two overlapping windows is pooled in each window, then averaged.
    mode: "first", "last", "mean", "max" or "first_last" (the average of the first and
        the last piece, so that every mode keeps the encoder's width).
    """
    lengths = numpy.asarray(lengths, dtype="int64")
    n_words = lengths.shape[0]
    width = pieces.shape[1]
    pooled = numpy.zeros((n_words, width), dtype="float32")
    n_pieces = int(lengths.sum())
    if n_pieces == 0:
        return pooled
    if pieces.shape[0] != n_pieces:
        raise ValueError(f"{pieces.shape[0]} wordpiece rows for lengths summing to {n_pieces}")
    word_of_piece = numpy.repeat(numpy.arange(n_words), lengths)
    starts_group = numpy.empty(n_pieces, dtype=bool)
    starts_group[0] = True
    starts_group[1:] = word_of_piece[1:] != word_of_piece[:-1]
    if windows is not None:
        starts_group[1:] |= windows[1:] != windows[:-1]
    group_starts = numpy.flatnonzero(starts_group)
    group_ends = numpy.append(group_starts[1:], n_pieces)
    if mode == "first":
        grouped = pieces[group_starts]
    elif mode == "last":
        grouped = pieces[group_ends - 1]
    elif mode == "first_last":
        grouped = (pieces[group_starts] + pieces[group_ends - 1]) * 0.5
    elif mode == "mean":
        grouped = _segment_sums(pieces, group_starts, group_ends) / (group_ends - group_starts)[:, None]
    elif mode == "max":
        grouped = numpy.maximum.reduceat(pieces, group_starts, axis=0)
    else:
        check_pooling(mode)
    if grouped.shape[0] == n_words and lengths.all():
        pooled[:] = grouped
        return pooled
    group_word = word_of_piece[group_starts]
    if (group_word[1:] != group_word[:-1]).all():  # no word in two windows; some have no piece
        pooled[group_word] = grouped
        return pooled
    word_starts = numpy.flatnonzero(numpy.r_[True, group_word[1:] != group_word[:-1]])
    n_windows = numpy.diff(numpy.append(word_starts, group_word.shape[0]))
    word_ends = numpy.append(word_starts[1:], group_word.shape[0])
    pooled[group_word[word_starts]] = _segment_sums(grouped, word_starts, word_ends) / n_windows[:, None]
    return pooled


def _segment_sums(rows: numpy.ndarray, starts: numpy.ndarray, ends: numpy.ndarray) -> numpy.ndarray:
    """Sums of rows[start:end] for each segment, from one cumulative sum (in float64,
    so that differences of large prefixes stay exact enough). Much faster than
    `numpy.add.reduceat` when most segments are a single row."""
    prefix = numpy.zeros((rows.shape[0] + 1, rows.shape[1]), dtype="float64")
    numpy.cumsum(rows, axis=0, out=prefix[1:])
    return (prefix[ends] - prefix[starts]).astype("float32")
