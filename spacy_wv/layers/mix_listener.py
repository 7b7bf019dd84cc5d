"""A transformer listener that mixes all hidden layers (ELMo-style) before pooling.

The upstream transformer must return `hidden_states` and accept their gradients:
use `spacy_wv.TransformerModel.v1`. With only `last_hidden_state` available (e.g.
docs annotated without hidden states) it pools the last layer and skips the mix.
"""
from typing import Callable, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.align import apply_alignment
from spacy_transformers.data_classes import TransformerData
from spacy_transformers.layers import TransformerListener
from thinc.api import Model, chain
from thinc.types import Floats2d, Ragged
from transformers.file_utils import ModelOutput

from .scalar_mix import ScalarMix

HIDDEN_GRAD_KEY = "hidden_state_{}"


@registry.architectures("spacy_wv.ScalarMixListener.v1")
def ScalarMixListener(
    pooling: Model[Ragged, Floats2d], grad_factor: float = 1.0, upstream: str = "*", last_layer_logit: float = 0.0,
) -> Model[List[Doc], List[Floats2d]]:
    """`last_layer_logit` > 0 starts the mix weighted towards the last layer (ScalarMix)."""
    return _mix_listener(ScalarMix(last_layer_logit), pooling, grad_factor, upstream)


def _mix_listener(mix: Model, pooling: Model, grad_factor: float, upstream: str) -> Model[List[Doc], List[Floats2d]]:
    listener = TransformerListener(upstream_name=upstream)
    model: Model = chain(listener, trfs2mixed(mix, pooling, grad_factor))
    model.set_ref("listener", listener)
    return model


def trfs2mixed(mix: Model, pooling: Model, grad_factor: float) -> Model[List[TransformerData], List[Floats2d]]:
    return Model("trfs2mixed", forward, layers=[mix, pooling], attrs={"grad_factor": grad_factor})


def _layers_of(trf_data: TransformerData) -> Optional[list]:
    output = trf_data.model_output
    if "last_hidden_state" not in output or output.last_hidden_state.size == 0:
        return None
    return list(output["hidden_states"]) if output.get("hidden_states") else [output.last_hidden_state]


def _doc_forward(model: Model, trf_data: TransformerData, layers: list, is_train: bool) -> Tuple[Floats2d, Callable]:
    mix, pooling = model.layers
    width = trf_data.width
    flat = model.ops.xp.stack([model.ops.reshape2f(h, -1, width) for h in layers])
    if len(layers) > 1:
        src, backprop_mix = mix(flat, is_train)
    else:
        src, backprop_mix = flat[0], lambda d_src: d_src[None]
    dst, get_d_src = apply_alignment(model.ops, trf_data.align, src)
    Y, backprop_pooling = pooling(dst, is_train)

    def backprop(dY: Floats2d) -> TransformerData:
        d_src = get_d_src(backprop_pooling(dY)) * model.attrs["grad_factor"]
        d_layers = backprop_mix(d_src)
        last = trf_data.model_output.last_hidden_state
        # Gradients travel as separate arrays (not a list), in the order the upstream
        # transformer expects: last_hidden_state, then every hidden state.
        d_output = ModelOutput(last_hidden_state=model.ops.alloc(last.shape, dtype=last.dtype))
        if len(layers) == 1:
            d_output["last_hidden_state"] = d_layers[0].reshape(last.shape)
        else:
            for i, (h, d_h) in enumerate(zip(layers, d_layers)):
                d_output[HIDDEN_GRAD_KEY.format(i)] = d_h.reshape(h.shape)
        return TransformerData(model_output=d_output, wordpieces=trf_data.wordpieces, align=trf_data.align)

    return Y, backprop


def forward(model: Model, trf_datas: List[TransformerData], is_train: bool):
    outputs: List[Floats2d] = []
    backprops: List[Optional[Callable]] = []
    for trf_data in trf_datas:
        layers = _layers_of(trf_data)
        if layers is None:
            # Empty docs have no transformer output and get no gradient back.
            outputs.append(model.ops.alloc2f(0, 0))
            backprops.append(None)
        else:
            Y, backprop = _doc_forward(model, trf_data, layers, is_train)
            outputs.append(Y)
            backprops.append(backprop)

    def backprop_docs(dYs: List[Floats2d]) -> List[TransformerData]:
        return [backprop(dY) for backprop, dY in zip(backprops, dYs) if backprop is not None]

    return outputs, backprop_docs
