"""Pool the wordpiece rows of each spaCy token into one vector, with thinc's `reduce_*` layers.

This is the differentiable pooling (a listener while training); inference-only pooling
in numpy, for the `wv_vectors` component and the vector export, is `spacy_wv.pooling`.
"""
from typing import Callable, Dict

from spacy.util import registry
from thinc.api import Model, concatenate, reduce_first, reduce_last, reduce_max, reduce_mean
from thinc.types import Floats2d, Ragged

from ..errors import UserError

REDUCERS: Dict[str, Callable[[], Model[Ragged, Floats2d]]] = {
    "first": reduce_first,
    "last": reduce_last,
    "mean": reduce_mean,
    "max": reduce_max,
    "first_last": lambda: concatenate(reduce_first(), reduce_last()),
}
POOLING_MODES = tuple(REDUCERS)


@registry.architectures("spacy_wv.SubwordPooling.v1")
def SubwordPooling(mode: str = "mean") -> Model[Ragged, Floats2d]:
    """The `first`, `last`, `mean` or `max` of each token's pieces, or `first_last`: the
    first and last piece concatenated (twice the width; the numpy pooling's `first_last`
    averages them instead). A token with no pieces (cut off by the transformer's length
    limit) gets a zero vector and passes no gradient on."""
    if mode not in REDUCERS:
        raise UserError(f"Subword pooling must be one of {POOLING_MODES}, got {mode!r}")
    return Model(f"subword_pooling_{mode}", forward, layers=[REDUCERS[mode]()], attrs={"mode": mode})


def forward(model: Model, X: Ragged, is_train: bool):
    """thinc's reducers refuse empty sequences (all but `reduce_mean`): they see only the
    tokens with pieces, which hold every row of the data, and the others get zeros."""
    lengths = model.ops.asarray1i(X.lengths)
    has_pieces = lengths > 0
    if not has_pieces.any():  # e.g. a doc of whitespace; the reducers would lose the width
        width = X.dataXd.shape[1] * (2 if model.attrs["mode"] == "first_last" else 1)
        return model.ops.alloc2f(lengths.shape[0], width), lambda dY: Ragged(model.ops.alloc2f(*X.dataXd.shape), lengths)
    pooled, backprop_pooled = model.layers[0](Ragged(X.dataXd, lengths[has_pieces]), is_train)
    Y = model.ops.alloc2f(lengths.shape[0], pooled.shape[1], dtype=pooled.dtype)
    Y[has_pieces] = pooled

    def backprop(dY: Floats2d) -> Ragged:
        dX = backprop_pooled(model.ops.as_contig(dY[has_pieces]))
        return Ragged(dX.dataXd, lengths)

    return Y, backprop
