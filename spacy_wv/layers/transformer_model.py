"""`TransformerModel.v3` that returns every hidden state, lets gradients flow back
into all of them, can perturb its input embeddings while training, and can run int8
once loaded from disk."""
from typing import Callable, Optional

from spacy.util import registry
from spacy_transformers.layers.hf_shim import HFShim
from spacy_transformers.layers.transformer_model import TransformerModel
from spacy_transformers.layers.transformer_model import forward as transformer_forward
from spacy_transformers.layers.transformer_model import init as transformer_init
from thinc.api import Model
from thinc.types import ArgsKwargs

from ..errors import UserError
from ..hf_dirs import check_model_dir
from .embedding_noise import install_embedding_noise
from .encoder_inference import check_quantize, quantize_int8


@registry.architectures("spacy_wv.TransformerModel.v1")
def create_transformer_model(
    name: str,
    get_spans: Callable,
    tokenizer_config: dict = {},
    transformer_config: dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
    embedding_noise: float = 0.0,
    quantize: Optional[str] = None,
) -> Model:
    """`name` is a local encoder directory. `embedding_noise` > 0 adds Gaussian noise
    to the input embeddings during training, with norm `embedding_noise` times each
    embedding's own norm. `quantize = "int8"`: a pipeline loaded from disk runs the
    fine-tuned encoder's Linear layers in int8 (CPU); training never does, and the
    pipeline keeps its fp32 weights."""
    if embedding_noise < 0:
        raise UserError(f"embedding_noise must be >= 0, got {embedding_noise}")
    model = TransformerModel(
        name, get_spans, tokenizer_config, {**transformer_config, "output_hidden_states": True},
        mixed_precision, grad_scaler_config,
    )
    if check_quantize(quantize):
        model.layers[0].shims[0].__class__ = QuantizingHFShim
    model.layers[0].attrs["convert_outputs"] = convert_outputs_with_hidden_states
    model.attrs["embedding_noise"] = embedding_noise
    model.init = init_from_local_dir
    model._func = forward_with_noise
    return model


def init_from_local_dir(model: Model, X=None, Y=None):
    # A missing path would be taken for a model-hub id and fail only after network retries;
    # a directory with pickled weights only would be unpickled.
    if not model.attrs["has_transformer"]:
        check_model_dir(model.attrs["name"], hint="pretrain one, or point the config's 'name' at it")
    return transformer_init(model, X=X, Y=Y)


def forward_with_noise(model: Model, docs, is_train: bool):
    if is_train and model.attrs["embedding_noise"] > 0:
        install_embedding_noise(model.transformer, model.attrs["embedding_noise"])
    return transformer_forward(model, docs, is_train)


def convert_outputs_with_hidden_states(model: Model, inputs_outputs, is_train: bool):
    _, model_output = inputs_outputs

    def backprop(d_model_output) -> ArgsKwargs:
        grads = list(d_model_output.values())
        roots = [model_output.last_hidden_state, *model_output.get("hidden_states", ())]
        return ArgsKwargs(args=(roots[: len(grads)],), kwargs={"grad_tensors": grads})

    return model_output, backprop


class QuantizingHFShim(HFShim):
    """spacy-transformers' shim, quantized to int8 whenever it is loaded from bytes (what
    `spacy.load` does); serializing returns the fp32 bytes it was loaded from."""

    loaded_bytes: Optional[bytes] = None

    def from_bytes(self, bytes_data):
        super().from_bytes(bytes_data)
        if next(self._model.parameters()).device.type != "cpu":
            raise UserError('quantize = "int8" runs on CPU only; set [components.transformer.model] quantize = null to use a GPU.')
        self._model = quantize_int8(self._model)
        self._hfmodel.transformer = self._model
        self.loaded_bytes = bytes_data
        return self

    def to_bytes(self):
        return self.loaded_bytes if self.loaded_bytes is not None else super().to_bytes()
