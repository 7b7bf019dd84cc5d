"""Frozen encoder features: windows that never split a token, the cache, serialization,
bad input. On real text, with a tiny BERT and a tiny ModernBERT (the default family)."""
import numpy
import pytest
import spacy
from spacy.util import registry
from thinc.api import Config

from spacy_wv.errors import UserError
from spacy_wv.layers.encoder_features import EncoderFeatures
from spacy_wv.layers.frozen_encoder import FeatureCache, _windows


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


@pytest.fixture(scope="module")
def real_docs(nlp, data_dir):
    lines = (data_dir / "sst2" / "dev.txt").read_text(encoding="utf8").splitlines()[:12]
    return [nlp(line.split(" ", 1)[1]) for line in lines]


@pytest.fixture(params=["bert", "modernbert"])
def encoder_dir(request, tiny_encoder_dir, tiny_modernbert_dir):
    return tiny_encoder_dir if request.param == "bert" else tiny_modernbert_dir


def _features(encoder_dir, docs, **kwargs):
    model = EncoderFeatures(str(encoder_dir), width=8, **kwargs)
    model.initialize(X=docs)
    return model


def test_resolves_from_config(tiny_encoder_dir):
    config = Config().from_str(f"""
        [model]
        @architectures = "spacy_wv.EncoderFeatures.v1"
        name = "{tiny_encoder_dir}"
        width = 12
        layers = [-2, -1]
        combine = "concat"
        [stacked]
        @architectures = "spacy_wv.StackedTok2Vec.v1"
        [stacked.embed]
        @architectures = "spacy.MultiHashEmbed.v2"
        width = 32
        attrs = ["NORM", "SHAPE"]
        rows = [500, 50]
        include_static_vectors = false
        [stacked.encode]
        @architectures = "spacy.MaxoutWindowEncoder.v2"
        width = 32
        depth = 1
        window_size = 1
        maxout_pieces = 2
        [stacked.features]
        @architectures = "spacy_wv.EncoderFeatures.v1"
        name = "{tiny_encoder_dir}"
        width = 12
    """)
    resolved = registry.resolve(config)
    assert resolved["model"].get_dim("nO") == 12
    assert resolved["stacked"].get_dim("nO") == 32 + 12


def test_one_row_per_token_and_only_mix_and_projection_train(encoder_dir, real_docs):
    model = _features(encoder_dir, real_docs)
    Y, backprop = model.begin_update(real_docs)
    assert [y.shape for y in Y] == [(len(doc), 8) for doc in real_docs]
    assert backprop([numpy.ones_like(y) for y in Y]) == []
    trained = {name for node in model.walk() for name in node.param_names if node.has_grad(name)}
    assert trained == {"weights", "gamma", "W", "b"}


def test_windows_never_split_a_token(tiny_encoder_dir, nlp):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    words = [t.text for t in nlp("Unquestionably, antidisestablishmentarianism perplexes lexicographers " * 30)]
    encoded = tokenizer([words], is_split_into_words=True, add_special_tokens=False, verbose=False)
    word_ids = encoded.word_ids(0)
    windows = list(_windows(encoded["input_ids"][0], word_ids, 7))
    assert all(len(ids) <= 7 for ids, _ in windows)
    seen = [w for _, piece_words in windows for w in dict.fromkeys(piece_words.tolist())]
    assert seen == sorted(set(word_ids))  # every token once, in order: none split across windows
    # A token longer than a window keeps its first 7 pieces; nothing else is dropped.
    pieces_per_token = numpy.bincount(word_ids)
    assert pieces_per_token.max() > 7
    assert sum(len(ids) for ids, _ in windows) == numpy.minimum(pieces_per_token, 7).sum()


def test_long_docs_and_small_windows_give_the_same_rows_for_a_repeated_sentence(tiny_encoder_dir, nlp):
    sentence = "The European Commission said on Thursday it disagreed with German advice ."
    n = len(nlp(sentence))
    model = _features(tiny_encoder_dir, [nlp(sentence)], max_pieces=n + 8, layers=[0])
    long_doc = nlp(" ".join([sentence] * 40))
    (Y,) = model.predict([long_doc])
    assert Y.shape[0] == len(long_doc)
    # Layer 0 (embeddings) depends only on the piece and its position in the window.
    numpy.testing.assert_allclose(Y[:n], model.predict([nlp(sentence)])[0], atol=1e-3)


def test_cache_returns_what_a_fresh_forward_pass_computes(encoder_dir, real_docs):
    model = _features(encoder_dir, real_docs)
    cache = model.shims[0].cache
    first = model.predict(real_docs)
    assert (cache.misses, cache.hits, len(cache)) == (len(real_docs), 0, len(real_docs))
    second = model.predict(real_docs)
    assert cache.hits == len(real_docs)
    model.shims[0].caching = False
    fresh = model.predict(real_docs)
    for a, b, c in zip(first, second, fresh):
        numpy.testing.assert_array_equal(a, b)
        numpy.testing.assert_allclose(a, c, atol=1e-2)


def test_cache_respects_its_limit_least_recently_used_first():
    cache = FeatureCache(max_bytes=3000)
    arrays = {k: numpy.zeros(500, dtype="float16") for k in "abcd"}  # 1000 bytes each
    for key in "abc":
        cache.put(key, arrays[key])
    assert cache.get("a") is not None  # now b is the least recently used
    cache.put("d", arrays["d"])
    assert cache.n_bytes <= 3000 and cache.get("b") is None and cache.get("a") is not None
    cache.put("huge", numpy.zeros(5000, dtype="float16"))
    assert cache.get("huge") is None and cache.n_bytes <= 3000


def test_cache_of_zero_runs_the_encoder_every_time(tiny_encoder_dir, real_docs):
    model = _features(tiny_encoder_dir, real_docs, cache_mb=0)
    model.predict(real_docs)
    model.predict(real_docs)
    assert len(model.shims[0].cache) == 0 and not model.shims[0].caching


def test_same_text_tokenized_otherwise_is_not_served_from_the_cache(tiny_encoder_dir, nlp):
    from spacy.tokens import Doc

    model = _features(tiny_encoder_dir, [nlp("New York")])
    (one,) = model.predict([Doc(nlp.vocab, words=["New York"], spaces=[False])])
    (two,) = model.predict([Doc(nlp.vocab, words=["New", "York"], spaces=[True, False])])
    assert one.shape[0] == 1 and two.shape[0] == 2


def test_empty_whitespace_and_huge_docs(encoder_dir, nlp):
    docs = [nlp(""), nlp("   \n\t "), nlp("word " * 20000), nlp("😀 🎉 €")]
    model = _features(encoder_dir, docs[:1])
    Y = model.predict(docs)
    assert [y.shape for y in Y] == [(len(doc), 8) for doc in docs]
    assert all(numpy.isfinite(y).all() for y in Y)
    # Whitespace tokens have no pieces: zero features, so the projection's bias alone.
    assert len(docs[1]) > 0 and numpy.allclose(Y[1], model.layers[-1].get_param("b")[None, :])


def test_serializes_with_the_encoder_inside(encoder_dir, real_docs, tmp_path):
    model = _features(encoder_dir, real_docs)
    expected = model.predict(real_docs)
    data = model.to_bytes()
    restored = EncoderFeatures(str(tmp_path / "gone"), width=8).from_bytes(data)
    assert not restored.shims[0].caching  # a loaded pipeline runs the encoder on every call
    for a, b in zip(expected, restored.predict(real_docs)):
        numpy.testing.assert_allclose(a, b, atol=1e-2)


@pytest.mark.parametrize("kwargs,message", [
    ({"combine": "sum"}, "combine must be one of"),
    ({"width": 0}, "width must be a positive integer"),
    ({"cache_mb": -1}, "cache_mb must be >= 0"),
    ({"max_pieces": 1}, "max_pieces must be at least 2"),
    ({"layers": []}, "at least one layer"),
])
def test_bad_settings_are_one_line_errors(tiny_encoder_dir, kwargs, message):
    with pytest.raises(UserError, match=message):
        EncoderFeatures(str(tiny_encoder_dir), **kwargs)


def test_layer_out_of_range(tiny_encoder_dir, real_docs):
    with pytest.raises(UserError, match=r"layers \[7\] out of range: the encoder has 3 hidden states"):
        _features(tiny_encoder_dir, real_docs, layers=[7])


def test_missing_or_non_model_directory(tmp_path, real_docs):
    with pytest.raises(UserError, match="Encoder directory not found: .*nowhere"):
        _features(tmp_path / "nowhere", real_docs)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("not a model")
    with pytest.raises(UserError, match="notes is not a Hugging Face model directory .no config.json.: it holds 1 other file"):
        _features(tmp_path / "notes", real_docs)
    with pytest.raises(UserError, match="has no encoder directory"):
        _features("", real_docs)


def test_outside_training_docs_keep_their_layer_features(tiny_encoder_dir, real_docs, nlp):
    from spacy_wv.layers.encoder_features import ENCODER_LAYERS_ATTR

    model = _features(tiny_encoder_dir, real_docs, layers=[-1, 1])
    docs = [nlp(doc.text) for doc in real_docs[:3]]
    model.begin_update(docs)
    assert all(doc._.get(ENCODER_LAYERS_ATTR) is None for doc in docs)  # not while training
    model.predict(docs)
    stored = docs[0]._.get(ENCODER_LAYERS_ATTR)
    assert stored["layers"] == [2, 1] and stored["n_hidden"] == 3
    assert stored["features"].shape == (2, len(docs[0]), 64)
    # A round trip through bytes (what nlp.pipe(n_process=2) does) keeps them.
    restored = type(docs[0])(nlp.vocab).from_bytes(docs[0].to_bytes())
    numpy.testing.assert_array_equal(restored._.get(ENCODER_LAYERS_ATTR)["features"], stored["features"])
