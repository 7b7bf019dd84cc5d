import numpy

from spacy_wv.layers.scalar_mix import ScalarMix

X = numpy.random.default_rng(0).normal(size=(3, 4, 5)).astype("f")


def test_starts_as_the_mean_of_layers():
    model = ScalarMix()
    model.initialize(X=X)
    numpy.testing.assert_allclose(model.predict(X), X.mean(axis=0), rtol=1e-5)


def _loss(model, dY):
    return float((model.predict(X) * dY).sum())


def test_gradients_match_finite_differences():
    model = ScalarMix()
    model.initialize(X=X)
    model.set_param("weights", numpy.asarray([0.3, -0.2, 0.5], dtype="f"))
    model.set_param("gamma", numpy.asarray([1.5], dtype="f"))
    dY = numpy.random.default_rng(1).normal(size=(4, 5)).astype("f")
    Y, backprop = model(X, is_train=True)
    dX = backprop(dY)
    eps = 1e-2
    for name in ("weights", "gamma"):
        analytic = model.get_grad(name)
        for i in range(len(analytic)):
            param = model.get_param(name).copy()
            param[i] += eps
            model.set_param(name, param)
            up = _loss(model, dY)
            param[i] -= 2 * eps
            model.set_param(name, param)
            down = _loss(model, dY)
            param[i] += eps
            model.set_param(name, param)
            assert numpy.isclose((up - down) / (2 * eps), analytic[i], rtol=1e-2, atol=1e-3), (name, i)
    probs = numpy.exp(model.get_param("weights")) / numpy.exp(model.get_param("weights")).sum()
    numpy.testing.assert_allclose(dX, 1.5 * probs[:, None, None] * dY[None], rtol=1e-5)


def test_layer_count_comes_from_the_first_batch():
    model = ScalarMix()
    model.predict(X)
    assert model.get_dim("nL") == 3 and model.get_param("weights").shape == (3,)


def test_last_layer_logit_starts_the_mix_on_the_last_layer():
    model = ScalarMix(last_layer_logit=2.0)
    model.initialize(X=X)
    probs = numpy.asarray([1.0, 1.0, numpy.exp(2.0)]) / (2 + numpy.exp(2.0))
    numpy.testing.assert_allclose(model.predict(X), numpy.tensordot(probs, X, axes=(0, 0)), rtol=1e-5)
    Y, backprop = model(X, is_train=True)
    backprop(numpy.ones_like(Y))
    assert model.get_grad("weights").shape == (3,)
