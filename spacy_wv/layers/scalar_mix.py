"""ELMo's scalar mix: gamma * sum_l softmax(w)_l * h_l over the hidden layers."""
from thinc.api import Model
from thinc.types import Floats1d, Floats2d, Floats3d


def ScalarMix(last_layer_logit: float = 0.0) -> Model[Floats3d, Floats2d]:
    """Input (n_layers, n_rows, width). The number of layers is taken from the first
    batch; gamma starts at 1, and the weights start equal (zeros before the softmax) but
    for the last layer's, `last_layer_logit` above the others. With fine-tuning learning
    rates the mix weights move slowly (Adam steps of ~lr each), so where the mix starts is
    close to where it stays: an even average dilutes the last layer with the embeddings
    and lower layers, while 2.0 over five layers starts near spacy-transformers'
    last-layer listener (65% on the last) and can still learn to draw on the others."""
    return Model("scalar_mix", forward, init=init, params={"weights": None, "gamma": None}, dims={"nL": None},
                 attrs={"last_layer_logit": last_layer_logit})


def init(model: Model, X=None, Y=None) -> None:
    if X is not None and model.has_dim("nL") is None:
        _allocate(model, X.shape[0])


def _allocate(model: Model, n_layers: int) -> None:
    model.set_dim("nL", n_layers)
    weights = model.ops.alloc1f(n_layers)
    weights[-1] = model.attrs["last_layer_logit"]
    model.set_param("weights", weights)
    model.set_param("gamma", model.ops.asarray1f([1.0]))


def _softmax(xp, weights: Floats1d) -> Floats1d:
    exp = xp.exp(weights - weights.max())
    return exp / exp.sum()


def forward(model: Model, X: Floats3d, is_train: bool):
    if model.has_dim("nL") is None:
        _allocate(model, X.shape[0])
    if X.shape[0] != model.get_dim("nL"):
        raise ValueError(f"ScalarMix was built for {model.get_dim('nL')} layers, got {X.shape[0]}")
    xp = model.ops.xp
    probs = _softmax(xp, model.get_param("weights"))
    gamma = model.get_param("gamma")[0]
    mixed = xp.tensordot(probs, X, axes=(0, 0))
    Y = gamma * mixed

    def backprop(dY: Floats2d) -> Floats3d:
        # d/d(probs_l) of sum(dY * Y) = gamma * <dY, X_l>; then through the softmax.
        d_probs = gamma * xp.tensordot(X, dY, axes=([1, 2], [0, 1]))
        model.inc_grad("weights", probs * (d_probs - (probs * d_probs).sum()))
        model.inc_grad("gamma", model.ops.asarray1f([(dY * mixed).sum()]))
        return (gamma * probs)[:, None, None] * dY[None, :, :]

    return Y.astype("float32"), backprop
