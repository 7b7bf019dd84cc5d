import numpy
import pytest
from thinc.api import Ragged

from spacy_wv.errors import UserError
from spacy_wv.layers.subword_pooling import POOLING_MODES, SubwordPooling
from spacy_wv.pooling import pool_wordpieces

# Three tokens: two pieces, none (cut off), three pieces.
DATA = numpy.arange(10, dtype="f").reshape(5, 2)
LENGTHS = numpy.asarray([2, 0, 3], dtype="i")


@pytest.mark.parametrize("mode,expected", [
    ("first", [[0, 1], [0, 0], [4, 5]]),
    ("last", [[2, 3], [0, 0], [8, 9]]),
    ("mean", [[1, 2], [0, 0], [6, 7]]),
    ("max", [[2, 3], [0, 0], [8, 9]]),
    ("first_last", [[0, 1, 2, 3], [0, 0, 0, 0], [4, 5, 8, 9]]),
])
def test_pooling_forward(mode, expected):
    Y, _ = SubwordPooling(mode)(Ragged(DATA, LENGTHS), is_train=False)
    numpy.testing.assert_allclose(Y, expected)


@pytest.mark.parametrize("mode", POOLING_MODES)
def test_pooling_backprop_is_the_transpose_of_forward(mode):
    model = SubwordPooling(mode)
    Y, backprop = model(Ragged(DATA, LENGTHS), is_train=True)
    dY = numpy.random.default_rng(0).normal(size=Y.shape).astype("f")
    dX = backprop(dY).dataXd
    # <dY, f(X)> == <f^T(dY), X> for a linear map f.
    assert numpy.isclose((dY * Y).sum(), (dX * DATA).sum(), rtol=1e-5)


# dY of the three tokens (the middle one has no pieces: its gradient goes nowhere), and the
# gradient each of the five pieces gets, written out by hand.
DY = numpy.asarray([[1, 2], [3, 4], [6, 9]], dtype="f")
DY_FIRST_LAST = numpy.asarray([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], dtype="f")


@pytest.mark.parametrize("mode,dY,expected", [
    ("first", DY, [[1, 2], [0, 0], [6, 9], [0, 0], [0, 0]]),
    ("last", DY, [[0, 0], [1, 2], [0, 0], [0, 0], [6, 9]]),
    ("mean", DY, [[0.5, 1], [0.5, 1], [2, 3], [2, 3], [2, 3]]),
    ("first_last", DY_FIRST_LAST, [[1, 2], [3, 4], [9, 10], [0, 0], [11, 12]]),
])
def test_pooling_backprop_gives_each_piece_its_exact_gradient(mode, dY, expected):
    Y, backprop = SubwordPooling(mode)(Ragged(DATA, LENGTHS), is_train=True)
    assert Y.shape == dY.shape
    dX = backprop(dY)
    numpy.testing.assert_array_equal(dX.lengths, LENGTHS)
    numpy.testing.assert_allclose(dX.dataXd, expected, rtol=1e-6)


def test_max_sends_each_column_its_gradient_to_the_piece_that_won_it():
    # The maxima of a column come from different pieces: [3, 4] = (piece 1, piece 0).
    data = numpy.asarray([[1, 4], [3, 0], [2, 2], [6, -2], [4, 9]], dtype="f")
    Y, backprop = SubwordPooling("max")(Ragged(data, LENGTHS), is_train=True)
    numpy.testing.assert_array_equal(Y, [[3, 4], [0, 0], [6, 9]])
    numpy.testing.assert_array_equal(backprop(DY).dataXd, [[0, 2], [1, 0], [0, 0], [6, 0], [0, 9]])


@pytest.mark.parametrize("mode", ["first", "last", "mean", "max"])
def test_the_layer_and_the_numpy_pooling_agree(mode):
    """The same modes give the same vectors in training (thinc) and at inference (numpy)."""
    Y, _ = SubwordPooling(mode)(Ragged(DATA, LENGTHS), is_train=False)
    numpy.testing.assert_allclose(Y, pool_wordpieces(DATA, LENGTHS, mode))


@pytest.mark.parametrize("mode,width", [(mode, 4 if mode == "first_last" else 2) for mode in POOLING_MODES])
def test_a_doc_of_tokens_without_pieces_keeps_the_width(mode, width):
    Y, backprop = SubwordPooling(mode)(Ragged(DATA[:0], numpy.asarray([0, 0], dtype="i")), is_train=True)
    assert Y.shape == (2, width) and not Y.any()
    assert backprop(numpy.ones_like(Y)).dataXd.shape == (0, 2)


def test_single_piece_token_gets_both_gradients_in_first_last():
    Y, backprop = SubwordPooling("first_last")(Ragged(DATA[:1], numpy.asarray([1], dtype="i")), is_train=True)
    dX = backprop(numpy.ones_like(Y)).dataXd
    numpy.testing.assert_allclose(dX, [[2, 2]])


def test_unknown_mode_is_a_user_error():
    with pytest.raises(UserError, match="first_last"):
        SubwordPooling("median")
