"""spacy_wv.TransformerModel.v1: local encoder dirs only, input-embedding noise in training only."""
import numpy
import pytest
import spacy
from spacy.util import registry

from spacy_wv.errors import UserError
from spacy_wv.layers.transformer_model import create_transformer_model

TEXT = "EU rejects German call to boycott British lamb ."


def test_embedding_noise_only_in_training(tiny_encoder_dir):
    import torch

    nlp = spacy.blank("en")
    get_spans = registry.span_getters.get("spacy-transformers.strided_spans.v1")(window=32, stride=24)
    noisy = create_transformer_model(str(tiny_encoder_dir), get_spans, embedding_noise=0.5)
    docs = [nlp(TEXT)]
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


def test_stock_listener_gradients_still_flow(tiny_encoder_dir):
    """spacy-transformers' own listener sends back only last_hidden_state's gradient."""
    from spacy_transformers.layers.trfs2arrays import trfs2arrays
    from thinc.api import reduce_mean

    nlp = spacy.blank("en")
    get_spans = registry.span_getters.get("spacy-transformers.strided_spans.v1")(window=32, stride=24)
    model = create_transformer_model(str(tiny_encoder_dir), get_spans)
    docs = [nlp(TEXT), nlp("Peter Blackburn")]
    model.initialize(X=docs)
    model.transformer.zero_grad(set_to_none=False)
    full, backprop_full = model.begin_update(docs)
    Ys, backprop = trfs2arrays(reduce_mean(), 1.0)(full.doc_data, is_train=True)
    d_trf = backprop([numpy.ones_like(Y) for Y in Ys])
    backprop_full(full.unsplit_by_doc([d.tensors for d in d_trf]))
    assert float(model.transformer.encoder.layer[-1].output.dense.weight.grad.abs().sum()) > 0
