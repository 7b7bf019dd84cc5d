"""Make a frozen encoder cheaper to run: drop the layers above the highest hidden state
that is used, and quantize its Linear layers to int8 (dynamic quantization: int8 weights,
activations quantized per batch on the fly; CPU only).

Both are deterministic functions of the fp32 weights, so a pipeline stores fp32
safetensors and applies them each time it loads."""
from typing import Optional

from ..errors import UserError

QUANTIZE_MODES = (None, "int8")


def check_quantize(quantize: Optional[str]) -> Optional[str]:
    if quantize not in QUANTIZE_MODES:
        raise UserError(f"quantize must be null or \"int8\", got {quantize!r}")
    return quantize


def layer_stack(model):
    """The module list of transformer layers of a Hugging Face encoder, or None."""
    for owner, attr in (("encoder", "layer"), (None, "layers"), (None, "h")):  # BERT-likes, ModernBERT, GPT-2
        base = getattr(model, owner, None) if owner else model
        stack = getattr(base, attr, None) if base is not None else None
        if stack is not None:
            return base, attr
    return None


def keep_layers(model, n_layers: int) -> None:
    """Keep only the first `n_layers` transformer layers: hidden states 0..n_layers are
    then exactly those of the full model (a layer never sees the ones above it)."""
    found = layer_stack(model)
    if found is None:
        return
    base, attr = found
    stack = getattr(base, attr)
    if n_layers < len(stack):
        setattr(base, attr, stack[:n_layers])
        model.config.num_hidden_layers = n_layers


def quantize_int8(model):
    """Dynamic int8 quantization of every nn.Linear (the encoder's matmuls); embeddings and
    norms stay fp32."""
    import warnings

    import torch

    with warnings.catch_warnings():
        # torch.ao.quantization says it will move to torchao; it is what torch ships today.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
