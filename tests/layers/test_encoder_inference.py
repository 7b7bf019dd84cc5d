"""A cheaper frozen encoder: int8 Linear layers and only the layers the features use.
On real sentences (SST-2 dev), with a tiny BERT and a tiny ModernBERT."""
import numpy
import pytest
import spacy

from spacy_wv.errors import UserError
from spacy_wv.layers.encoder_features import EncoderFeatures
from spacy_wv.layers.encoder_inference import layer_stack


@pytest.fixture(scope="module")
def real_docs(data_dir):
    nlp = spacy.blank("en")
    lines = (data_dir / "sst2" / "dev.txt").read_text(encoding="utf8").splitlines()[:24]
    return [nlp(line.split(" ", 1)[1]) for line in lines]


@pytest.fixture(params=["bert", "modernbert"])
def encoder_dir(request, tiny_encoder_dir, tiny_modernbert_dir):
    return tiny_encoder_dir if request.param == "bert" else tiny_modernbert_dir


def shim_for(encoder_dir, docs, **kwargs):
    model = EncoderFeatures(str(encoder_dir), width=8, cache_mb=0, **kwargs)
    model.initialize(X=docs)
    return model.shims[0]


def stacked(shim, docs) -> numpy.ndarray:
    return numpy.concatenate(shim.features(docs), axis=1).astype("float32")  # (layers, tokens, width)


def test_int8_features_are_close_to_fp32_and_not_the_same(encoder_dir, real_docs):
    fp32 = stacked(shim_for(encoder_dir, real_docs), real_docs)
    int8 = stacked(shim_for(encoder_dir, real_docs, quantize="int8"), real_docs)
    # The embeddings (layer 0) have no Linear: untouched.
    numpy.testing.assert_array_equal(int8[0], fp32[0])
    upper_fp32, upper_int8 = fp32[1:], int8[1:]
    assert not numpy.array_equal(upper_int8, upper_fp32)
    cosines = (upper_fp32 * upper_int8).sum(-1) / (numpy.linalg.norm(upper_fp32, axis=-1) * numpy.linalg.norm(upper_int8, axis=-1))
    assert cosines.mean() >= 0.99, cosines.mean()


def test_a_model_cut_to_the_used_layers_gives_the_same_features(encoder_dir, real_docs):
    full = shim_for(encoder_dir, real_docs)
    cut = shim_for(encoder_dir, real_docs, layers=[0, 1])
    assert len(getattr(*layer_stack(full._model))) == 2
    assert len(getattr(*layer_stack(cut._model))) == 1
    assert cut.n_hidden_states == full.n_hidden_states == 3  # the saved encoder's, not what runs
    numpy.testing.assert_array_equal(stacked(cut, real_docs), stacked(full, real_docs)[:2])


def test_quantized_features_survive_serialization_exactly(encoder_dir, real_docs):
    model = EncoderFeatures(str(encoder_dir), width=8, cache_mb=0, quantize="int8", layers=[0, 1])
    model.initialize(X=real_docs)
    data = model.to_bytes()
    restored = EncoderFeatures("", width=8, cache_mb=0, quantize="int8", layers=[0, 1]).from_bytes(data)
    numpy.testing.assert_array_equal(stacked(restored.shims[0], real_docs), stacked(model.shims[0], real_docs))
    # What travels is the encoder directory as pretrained (fp32 safetensors), not the int8 model.
    saved = {f.name: f.read_bytes() for f in encoder_dir.iterdir() if f.suffix in (".json", ".safetensors", ".txt")}
    assert restored.shims[0].files == saved


def test_quantize_setting_is_checked():
    with pytest.raises(UserError, match='quantize must be null or "int8"'):
        EncoderFeatures("x", quantize="int4")


def test_int8_refuses_a_gpu(tiny_encoder_dir, real_docs):
    shim = shim_for(tiny_encoder_dir, real_docs, quantize="int8")
    with pytest.raises(UserError, match="CPU only"):
        shim.to_device("gpu", 0)


def test_short_windows_of_mixed_lengths_are_not_padded_to_the_longest():
    from spacy_wv.layers.frozen_encoder import _batches

    lengths = [10, 11, 12, 30, 31, 60]  # sorted, as the shim sorts windows
    batches = list(_batches(list(range(6)), lengths, max_pieces=8192))
    assert batches == [[0, 1, 2], [3, 4], [5]]
    padded = sum(max(lengths[w] for w in b) * len(b) for b in batches)
    assert padded == 12 * 3 + 31 * 2 + 60  # against 60 * 6 in one batch
    # The piece budget still splits a run of equal windows.
    assert list(_batches(list(range(4)), [100] * 4, max_pieces=250)) == [[0, 1], [2, 3]]
