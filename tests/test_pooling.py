import numpy
import pytest

from spacy_wv.errors import UserError
from spacy_wv.pooling import POOLING_MODES, mix_layers, pool_wordpieces

# Three words: "a" = pieces 0,1; "b" = no piece (whitespace); "c" = pieces 2,3,4.
PIECES = numpy.array([[1.0, 4.0], [3.0, 0.0], [2.0, 2.0], [6.0, -2.0], [4.0, 9.0]], dtype="float32")
LENGTHS = numpy.array([2, 0, 3])
EXPECTED = {
    "first": [[1, 4], [0, 0], [2, 2]],
    "last": [[3, 0], [0, 0], [4, 9]],
    "mean": [[2, 2], [0, 0], [4, 3]],
    "max": [[3, 4], [0, 0], [6, 9]],
    "first_last": [[2, 2], [0, 0], [3, 5.5]],
}


@pytest.mark.parametrize("mode", POOLING_MODES)
def test_each_mode_matches_hand_computed_vectors(mode):
    assert numpy.allclose(pool_wordpieces(PIECES, LENGTHS, mode), EXPECTED[mode])


@pytest.mark.parametrize("mode", POOLING_MODES)
def test_word_seen_in_two_windows_is_pooled_per_window_then_averaged(mode):
    # "c" occurs in window 0 (pieces 2, 3) and again in window 1 (piece 4 only, as if cut).
    windows = numpy.array([0, 0, 0, 0, 1])
    pooled = pool_wordpieces(PIECES, LENGTHS, mode, windows=windows)
    in_window_0 = pool_wordpieces(PIECES[2:4], numpy.array([2]), mode)[0]
    assert numpy.allclose(pooled[2], (in_window_0 + PIECES[4]) / 2)
    assert numpy.allclose(pooled[0], EXPECTED[mode][0])


def test_no_pieces_at_all_gives_zero_vectors():
    pooled = pool_wordpieces(numpy.zeros((0, 3), dtype="float32"), numpy.array([0, 0]), "mean")
    assert pooled.shape == (2, 3) and not pooled.any()


def test_unknown_mode_is_a_user_error():
    with pytest.raises(UserError, match="Unknown pooling 'median'"):
        pool_wordpieces(PIECES, LENGTHS, "median")


def test_mix_layers_averages_only_the_gathered_rows():
    first = numpy.arange(12, dtype="float32").reshape(6, 2)
    second = first * 3
    assert numpy.allclose(mix_layers([first, second], numpy.array([5, 0])), [[20, 22], [0, 2]])
