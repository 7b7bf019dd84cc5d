"""The mix listener on a real (tiny) encoder: hidden-state gradients reach the encoder."""
import numpy
import pytest
import spacy
from spacy.util import registry

from spacy_wv.errors import UserError
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


def test_embedding_noise_only_in_training(tiny_encoder_dir):
    import torch

    nlp = spacy.blank("en")
    get_spans = registry.span_getters.get("spacy-transformers.strided_spans.v1")(window=32, stride=24)
    noisy = create_transformer_model(str(tiny_encoder_dir), get_spans, embedding_noise=0.5)
    docs = [nlp(TEXTS[0])]
    noisy.initialize(X=docs)
    noisy(docs, is_train=True)  # installs the hook
    embeddings = noisy.transformer.get_input_embeddings()
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        embeddings.eval()
        clean = embeddings(ids)
        numpy.testing.assert_array_equal(clean, embeddings.weight[ids])
        embeddings.train()
        perturbed = embeddings(ids)
    ratio = (perturbed - clean).norm(dim=-1) / clean.norm(dim=-1)
    numpy.testing.assert_allclose(ratio.numpy(), 0.5, rtol=1e-4)


def test_missing_encoder_dir_is_a_user_error(tmp_path):
    get_spans = registry.span_getters.get("spacy-transformers.strided_spans.v1")(window=32, stride=24)
    model = create_transformer_model(str(tmp_path / "nowhere"), get_spans)
    with pytest.raises(UserError, match="Encoder directory not found"):
        model.initialize(X=[spacy.blank("en")("text")])
    with pytest.raises(UserError, match="embedding_noise"):
        create_transformer_model(str(tmp_path), get_spans, embedding_noise=-1.0)
