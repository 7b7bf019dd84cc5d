"""The mix listener on a real (tiny) encoder: hidden-state gradients reach the encoder."""
import numpy
import pytest
import spacy
from spacy.util import registry

from spacy_wv.layers.mix_listener import trfs2mixed
from spacy_wv.layers.scalar_mix import ScalarMix
from spacy_wv.layers.subword_pooling import SubwordPooling
from spacy_wv.layers.transformer_model import create_transformer_model

TEXTS = ["EU rejects German call to boycott British lamb .", "", "Peter Blackburn", "Zürich 🙂 東京"]


@pytest.fixture(scope="module")
def transformer(tiny_encoder_dir):
    get_spans = registry.span_getters.get("spacy-transformers.strided_spans.v1")(window=32, stride=24)
    model = create_transformer_model(str(tiny_encoder_dir), get_spans)
    nlp = spacy.blank("en")
    model.initialize(X=[nlp(t) for t in TEXTS])
    return model, nlp


def _encoder_grads(model):
    hf = model.transformer
    return (float(hf.embeddings.word_embeddings.weight.grad.abs().sum()),
            float(hf.encoder.layer[-1].output.dense.weight.grad.abs().sum()))


def test_gradient_reaches_the_embeddings_through_hidden_state_zero(transformer):
    model, nlp = transformer
    model.transformer.zero_grad(set_to_none=False)
    docs = [nlp(t) for t in TEXTS]
    full, backprop_full = model.begin_update(docs)
    layers = full.doc_data[0].model_output["hidden_states"]
    assert len(layers) == 3  # embeddings + 2 layers
    listener = trfs2mixed(ScalarMix(), SubwordPooling("mean"), grad_factor=1.0)
    mix = listener.layers[0]
    mix.initialize(X=numpy.zeros((3, 1, 1), dtype="f"))
    # All the mix weight on the embedding layer: the top encoder layer must get no gradient.
    mix.set_param("weights", numpy.asarray([30.0, -30.0, -30.0], dtype="f"))
    Ys, backprop = listener(full.doc_data, is_train=True)
    assert [len(Y) for Y in Ys] == [len(d) for d in docs]
    d_trf = backprop([numpy.ones_like(Y) for Y in Ys])
    backprop_full(full.unsplit_by_doc([d.tensors for d in d_trf]))
    embeddings_grad, top_layer_grad = _encoder_grads(model)
    assert embeddings_grad > 0 and top_layer_grad < 1e-6
    assert mix.get_grad("gamma")[0] != 0
