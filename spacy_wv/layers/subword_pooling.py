"""Pool the wordpiece rows of each spaCy token into one vector."""
from typing import Tuple

from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d, Ragged

from ..errors import UserError

POOLING_MODES = ("first", "last", "mean", "first_last")


@registry.architectures("spacy_wv.SubwordPooling.v1")
def SubwordPooling(mode: str = "mean") -> Model[Ragged, Floats2d]:
    """`first`, `last` or `mean` piece of each token, or `first_last`: the first and last
    piece concatenated (twice the width). A token with no pieces (cut off by the
    transformer's length limit) gets a zero vector."""
    if mode not in POOLING_MODES:
        raise UserError(f"Subword pooling must be one of {POOLING_MODES}, got {mode!r}")
    return Model(f"subword_pooling_{mode}", forward, attrs={"mode": mode})


def _ends(model: Model, lengths) -> Tuple:
    xp = model.ops.xp
    lengths = xp.asarray(lengths, dtype="i")
    starts = xp.cumsum(lengths) - lengths
    has_pieces = lengths > 0
    return starts, starts + lengths - 1, has_pieces


def _gather(model: Model, X: Floats2d, rows, has_pieces) -> Floats2d:
    Y = model.ops.alloc2f(len(rows), X.shape[1])
    Y[has_pieces] = X[rows[has_pieces]]
    return Y


def forward(model: Model, X: Ragged, is_train: bool):
    mode = model.attrs["mode"]
    data, lengths = X.dataXd, X.lengths
    if mode == "mean":
        Y = model.ops.reduce_mean(data, lengths)

        def backprop_mean(dY: Floats2d) -> Ragged:
            return Ragged(model.ops.backprop_reduce_mean(dY, lengths), lengths)

        return Y, backprop_mean
    first, last, has_pieces = _ends(model, lengths)
    picks = {"first": [first], "last": [last], "first_last": [first, last]}[mode]
    parts = [_gather(model, data, rows, has_pieces) for rows in picks]
    Y = parts[0] if len(parts) == 1 else model.ops.xp.hstack(parts)
    width = data.shape[1]

    def backprop(dY: Floats2d) -> Ragged:
        dX = model.ops.alloc2f(*data.shape)
        for i, rows in enumerate(picks):
            # Rows of different tokens never coincide; first == last for one-piece tokens.
            model.ops.xp.add.at(dX, rows[has_pieces], dY[has_pieces, i * width:(i + 1) * width])
        return Ragged(dX, lengths)

    return Y, backprop
