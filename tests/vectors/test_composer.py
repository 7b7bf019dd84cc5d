import numpy
import pytest

from spacy_wv.vectors.export import ExportSettings, export_vectors


def test_unseen_words_are_composed_from_their_pieces(encoder, small_corpus):
    result = export_vectors(*encoder, [small_corpus], ExportSettings(n_words=200, contexts=2))
    assert result.pooled.all()
    composed = result.composer.compose(["zebroidification", "misspeled", result.words[0]])
    assert composed.shape == (3, 64) and numpy.isfinite(composed).all()
    assert (numpy.linalg.norm(composed, axis=1) > 0).all()
    assert not numpy.allclose(composed[0], composed[1])
    assert result.stats["composition_heldout_cosine"] == pytest.approx(heldout_cosine_by_hand(result), abs=1e-3)


def heldout_cosine_by_hand(result) -> float:
    """The composition's held-out score recomputed: a tenth of the pooled words (in the
    export's seeded order) held out, a ridge map from their vectors encoded alone to their
    pooled vectors fitted on the rest (as an augmented least-squares problem), and the mean
    cosine of its predictions for the held-out words."""
    width = result.table.shape[1]
    rows = numpy.random.default_rng(0).permutation(numpy.flatnonzero(result.pooled))[:10_000]
    alone = type(result.composer)(result.composer.encoder, numpy.eye(width, dtype="float32"), numpy.zeros(width, dtype="float32"))
    isolated = alone.compose([result.words[i] for i in rows]).astype("float64")
    targets = result.table[rows].astype("float64")
    held = max(1, rows.size // 10)
    x, y = isolated[held:], targets[held:]
    x_mean, y_mean = x.mean(0), y.mean(0)
    penalty = numpy.sqrt(ExportSettings().compose_ridge * len(x)) * numpy.eye(width)
    weights = numpy.linalg.lstsq(numpy.vstack([x - x_mean, penalty]), numpy.vstack([y - y_mean, numpy.zeros((width, width))]), rcond=None)[0]
    predicted = (isolated[:held] - x_mean) @ weights + y_mean
    cosines = (predicted * targets[:held]).sum(1) / numpy.linalg.norm(predicted, axis=1) / numpy.linalg.norm(targets[:held], axis=1)
    return float(cosines.mean())
