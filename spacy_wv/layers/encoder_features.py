"""Frozen encoder features for spaCy: the encoder runs without gradients (once per
document in a training run, thanks to the shim's cache), and only a layer mix and a
projection train. ELMo's feature-based use of a contextual encoder, on CPU budgets."""
from pathlib import Path
from typing import List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model
from thinc.types import Floats2d

from ..errors import UserError
from .encoder_inference import check_quantize
from .frozen_encoder import FrozenEncoderShim, check_layers_arg
from .scalar_mix import ScalarMix

COMBINE_MODES = ("mix", "concat")
# Outside training, each doc keeps its tokens' features per hidden layer, so that
# `wv_vectors` in a stacked pipeline reads them instead of running the encoder again:
# {"layers": [hidden-state indices, embeddings = 0], "n_hidden": how many the encoder has,
#  "features": float16 (layers, tokens, width), pieces averaged and standardized per token}.
ENCODER_LAYERS_ATTR = "wv_encoder_layers"
if not Doc.has_extension(ENCODER_LAYERS_ATTR):
    Doc.set_extension(ENCODER_LAYERS_ATTR, default=None)


@registry.architectures("spacy_wv.EncoderFeatures.v1")
def EncoderFeatures(
    name: str,
    width: int = 96,
    layers: Optional[List[int]] = None,
    combine: str = "mix",
    max_pieces: int = 128,
    batch_pieces: int = 8192,
    cache_mb: float = 2048,
    quantize: Optional[str] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """Per-token features from the encoder directory `name` (any local BERT, RoBERTa,
    ModernBERT or ELECTRA directory with safetensors weights and a fast tokenizer).

    layers: hidden states to use (0 = embeddings, -1 = last); null for all.
    combine: "mix" (ELMo's learned scalar mix) or "concat" (the layers side by side,
        as the BERT paper's feature-based NER concatenates the last four).
    width: output width of the trainable projection.
    max_pieces: window length in subword pieces, start token included; windows never
        split a spaCy token. Keep it at the pretraining sequence length.
    batch_pieces: padded pieces per forward pass.
    cache_mb: memory for cached features (float16, least recently used out first);
        0 disables the cache. Only a training run caches: a pipeline loaded from disk
        runs the encoder on every call.
    quantize: null, or "int8" to run the encoder's Linear layers in int8 (CPU; the
        pipeline still stores fp32 weights). Layers above the highest one in `layers`
        never run, quantized or not.
    """
    if combine not in COMBINE_MODES:
        raise UserError(f"EncoderFeatures combine must be one of {COMBINE_MODES}, got {combine!r}")
    for label, value in (("width", width), ("max_pieces", max_pieces), ("batch_pieces", batch_pieces)):
        if value < 1:
            raise UserError(f"EncoderFeatures {label} must be a positive integer, got {value}")
    if max_pieces < 2:
        raise UserError(f"EncoderFeatures max_pieces must be at least 2, got {max_pieces}")
    if cache_mb < 0:
        raise UserError(f"EncoderFeatures cache_mb must be >= 0, got {cache_mb}")
    shim = FrozenEncoderShim({
        "layers": None if layers is None else check_layers_arg(layers), "max_pieces": max_pieces,
        "batch_pieces": batch_pieces, "cache_mb": cache_mb, "quantize": check_quantize(quantize),
    })
    sublayers = [ScalarMix(), Linear(nO=width)] if combine == "mix" else [Linear(nO=width)]
    return Model("encoder_features", forward, init=init, layers=sublayers, shims=[shim], dims={"nO": width},
                 attrs={"name": str(name), "combine": combine})


def _ensure_loaded(model: Model) -> FrozenEncoderShim:
    shim = model.shims[0]
    if not shim.loaded:
        name = model.attrs["name"]
        if not name:
            raise UserError("EncoderFeatures has no encoder directory: set its 'name' (e.g. --paths.encoder DIR)")
        shim.load(Path(name))
    return shim


def init(model: Model, X=None, Y=None) -> None:
    shim = _ensure_loaded(model)
    n_layers = len(shim.cfg["layers"])
    projection = model.layers[-1]
    if model.attrs["combine"] == "mix":
        model.layers[0].initialize(X=model.ops.alloc3f(n_layers, 1, shim.width))
        projection.set_dim("nI", shim.width)
    else:
        projection.set_dim("nI", n_layers * shim.width)
    projection.initialize()


def forward(model: Model, docs: List[Doc], is_train: bool):
    shim = _ensure_loaded(model)
    feats = shim.features(docs)
    if not is_train:
        layers = list(shim.cfg["layers"])
        for doc, doc_feats in zip(docs, feats):
            doc._.set(ENCODER_LAYERS_ATTR, {"layers": layers, "n_hidden": shim.n_hidden_states, "features": doc_feats})
    lengths = [f.shape[1] for f in feats]
    xp = model.ops.xp
    X = xp.asarray(xp.concatenate(feats, axis=1), dtype="float32")  # (n_layers, n_tokens, width)
    if model.attrs["combine"] == "mix":
        mixed, backprop_mix = model.layers[0](X, is_train)
    else:
        mixed = model.ops.as_contig(X.transpose(1, 0, 2).reshape(X.shape[1], -1))
        backprop_mix = None
    Y, backprop_projection = model.layers[-1](mixed, is_train)

    def backprop(dYs: List[Floats2d]) -> List:
        d_mixed = backprop_projection(xp.concatenate(dYs, axis=0) if dYs else model.ops.alloc2f(0, Y.shape[1]))
        if backprop_mix is not None:
            backprop_mix(d_mixed)
        return []  # the encoder is frozen: nothing flows back into the docs

    return model.ops.unflatten(Y, model.ops.asarray1i(lengths)), backprop
