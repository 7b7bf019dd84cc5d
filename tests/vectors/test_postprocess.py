import numpy
import pytest

from spacy_wv.errors import UserError
from spacy_wv.vectors.postprocess import postprocess_apply, postprocess_fit


def test_postprocess_centers_and_removes_top_components():
    rng = numpy.random.default_rng(0)
    table = rng.normal(size=(200, 8)).astype("float32") + rng.normal(size=(1, 8)).astype("float32") * 5
    table[:, 0] *= 20  # a dominant direction
    cleaned = postprocess_apply(table, *postprocess_fit(table, center=False, remove_pcs=1))
    assert numpy.allclose(cleaned.mean(axis=0), 0, atol=1e-4)
    top = numpy.linalg.svd(table - table.mean(axis=0), full_matrices=False)[2][0]
    assert numpy.abs(cleaned @ top).max() < 1e-3
    with pytest.raises(UserError, match="--remove-pcs"):
        postprocess_fit(table, center=True, remove_pcs=8)
