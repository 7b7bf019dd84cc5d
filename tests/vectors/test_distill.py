import time

import numpy

from spacy_wv.vectors.distill import NEGATIVES, cbow_loss, train_cbow
from spacy_wv.hf_dirs import load_encoder
from spacy_wv.vectors.export import ExportSettings, export_vectors


def test_cbow_objective_learns_which_word_fits_a_context():
    rng = numpy.random.default_rng(0)
    n_words, width = 20, 16
    directions = rng.normal(size=(n_words, width))
    targets = rng.integers(n_words, size=3000)
    contexts = (directions[targets] + 0.3 * rng.normal(size=(3000, width))).astype("float32")
    contexts /= numpy.linalg.norm(contexts, axis=1, keepdims=True)
    start = rng.normal(size=(n_words, width)).astype("float32")
    negatives = rng.integers(n_words, size=(3000, NEGATIVES))
    trained = train_cbow(start, targets, contexts, numpy.bincount(targets, minlength=n_words).astype(float), epochs=3, rng=rng)
    scale = numpy.linalg.norm(start, axis=1).mean()
    assert cbow_loss(trained / scale, targets, contexts, negatives) < cbow_loss(start / scale, targets, contexts, negatives) - 0.5
    # Each word's vector now points towards its contexts.
    cosine = (trained * directions).sum(1) / numpy.linalg.norm(trained, axis=1) / numpy.linalg.norm(directions, axis=1)
    assert (cosine > 0.5).mean() > 0.8


def test_export_with_distillation_on_a_tiny_corpus(tiny_encoder_dir, text_slice, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text(text_slice.read_text(encoding="utf8")[:20_000], encoding="utf8")
    model, tokenizer = load_encoder(tiny_encoder_dir)
    pooled = export_vectors(model, tokenizer, [corpus], ExportSettings(n_words=100, contexts=3))
    start = time.perf_counter()
    distilled = export_vectors(model, tokenizer, [corpus], ExportSettings(n_words=100, contexts=3, distill=True, distill_epochs=2))
    wall = time.perf_counter() - start
    assert distilled.words == pooled.words and numpy.isfinite(distilled.table).all()
    assert not numpy.allclose(distilled.table, pooled.table)
    assert distilled.pooled.all()
    # A duration inside the call: positive, and with the other phases no longer than the call.
    stats = distilled.stats
    assert 0 < stats["distill_seconds"] < wall
    assert stats["encode_seconds"] + stats["distill_seconds"] + stats["compose_seconds"] <= wall
