"""Warm start from same-corpus static vectors: mapping onto pieces, rescaling, budget."""
import os
import signal

import numpy as np
import pytest
import torch

from spacy_wv.errors import UserError
from spacy_wv.pretraining.checkpoint import step_dirs
from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings
from spacy_wv.pretraining.loop import pretrain, prepare_run
from spacy_wv.pretraining.warm_start import load_piece_vectors, piece_text, rescale, static_warm_start

from .conftest import MLM_CONFIG, read_metrics, tiny_overrides


@pytest.fixture(scope="module")
def run(tiny_shards, tiny_tokenizer_dir, tmp_path_factory):
    settings = resolve_settings(load_pretrain_config(MLM_CONFIG, tiny_overrides(tiny_shards, tiny_tokenizer_dir)))
    return prepare_run(settings, tmp_path_factory.mktemp("warm") / "out", world_size=1)


def fresh_model(run):
    torch.manual_seed(0)
    return run.settings.objective.build_model(run.settings.encoder.hf_config(run.tokenizer))


def test_config_resolves_the_warm_start_and_rejects_bad_values(tiny_shards, tiny_tokenizer_dir):
    overrides = tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{"warm_start.method": "words", "warm_start.epochs": 2})
    settings = resolve_settings(load_pretrain_config(MLM_CONFIG, overrides))
    assert settings.warm_start.method == "words" and settings.warm_start.epochs == 2 and settings.warm_start.enabled
    off = resolve_settings(load_pretrain_config(MLM_CONFIG, tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{"warm_start.method": "none"})))
    assert not off.warm_start.enabled
    for bad in ({"method": "glove"}, {"epochs": 0}, {"min_count": -1}, {"max_tokens": 0}, {"workers": -2}):
        with pytest.raises(UserError, match=r"\[warm_start\]"):
            static_warm_start(**bad)


def test_piece_text_strips_each_tokenizer_kinds_marker():
    assert [piece_text(p) for p in ("##ing", "Ġthe", "▁the", "the", "中")] == ["ing", "the", "the", "the", "中"]


def test_rescale_centres_and_matches_the_initialiser_range():
    vectors = np.random.default_rng(0).normal(3.0, 5.0, size=(500, 64)).astype(np.float32)
    scaled = rescale(vectors, 0.02)
    assert scaled.shape == vectors.shape
    assert np.abs(scaled.mean(axis=0)).max() < 1e-6
    assert scaled.std() == pytest.approx(0.02, rel=1e-4)


def test_piece_vectors_from_the_shards_load_into_tied_embeddings(run):
    warm = static_warm_start(method="pieces", epochs=2, min_count=3, workers=1)
    width = run.settings.encoder.width
    vectors, found, n_tokens = warm.piece_vectors(run.tokenizer, run.corpus, run.doc_sep_id, width, seed=0)
    vocab = run.tokenizer.get_vocab()
    assert vectors.shape == (len(run.tokenizer), width)
    assert n_tokens == sum(run.corpus.train_lengths) - np.count_nonzero(
        np.concatenate([a[:n] for a, n in zip(run.corpus.arrays, run.corpus.train_lengths)]) == run.doc_sep_id)
    # Frequent pieces get a vector, special tokens never occur in the shards' documents.
    assert found[vocab["the"]] and found[vocab["company"]] and not found[run.tokenizer.mask_token_id]
    assert 0.3 < found.mean() < 1.0
    model = fresh_model(run)
    before = model.get_input_embeddings().weight.detach().clone()
    load_piece_vectors(model, vectors, found)
    after = model.get_input_embeddings().weight.detach()
    expected = rescale(vectors[found], model.config.initializer_range)
    np.testing.assert_allclose(after[torch.from_numpy(found)].numpy(), expected, rtol=1e-5, atol=1e-7)
    assert torch.equal(after[torch.from_numpy(~found)], before[torch.from_numpy(~found)])
    assert float(after[torch.from_numpy(found)].std()) == pytest.approx(model.config.initializer_range, rel=0.01)
    # The MLM decoder is tied to the input embeddings: it scores with the warm vectors.
    assert torch.equal(model.get_output_embeddings().weight.detach(), after)
    # The geometry survives the mapping: "the" stays closer to "a" than to a random rare piece.
    cos = torch.nn.functional.cosine_similarity
    the, a = after[vocab["the"]], after[vocab["a"]]
    assert float(cos(the, a, dim=0)) > float(cos(the, after[vocab["company"]], dim=0))


def test_word_method_gives_pieces_their_fasttext_vectors(run):
    warm = static_warm_start(method="words", epochs=1, min_count=3, workers=1)
    vectors, found, _ = warm.piece_vectors(run.tokenizer, run.corpus, run.doc_sep_id, 32, seed=0)
    vocab = run.tokenizer.get_vocab()
    # Subword n-grams give a vector to continuation pieces too, from their text.
    continuation = next(i for p, i in vocab.items() if p.startswith("##") and len(p) > 4)
    assert found[vocab["the"]] and found[continuation]
    assert found.mean() > 0.9


def test_pretraining_charges_the_warm_start_to_the_budget_and_resume_skips_it(tiny_shards, tiny_tokenizer_dir, tmp_path,
                                                                              capsys, monkeypatch):
    from spacy_wv.pretraining.warm_start import StaticWarmStart

    real_apply = StaticWarmStart.apply
    # The real warm start, reported as taking 1000 s longer: those seconds must reach the clock.
    monkeypatch.setattr(StaticWarmStart, "apply", lambda self, *args: real_apply(self, *args) + 1000.0)
    overrides = tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{
        "warm_start.method": "pieces", "warm_start.workers": 1, "training.max_steps": 8})
    out = tmp_path / "encoder"
    pretrain(resolve_settings(load_pretrain_config(MLM_CONFIG, overrides)), out)
    assert "Warm start (pieces)" in " ".join(capsys.readouterr().out.split())
    assert read_metrics(out)[0]["elapsed_s"] >= 1000.0
    overrides["training.max_steps"] = 12
    pretrain(resolve_settings(load_pretrain_config(MLM_CONFIG, overrides)), out, allow_config_change=True)
    assert "Warm start" not in capsys.readouterr().out
    assert read_metrics(out)[-1]["step"] == 12


def test_a_warm_start_longer_than_the_budget_is_an_error(tiny_shards, tiny_tokenizer_dir, tmp_path, monkeypatch):
    from spacy_wv.pretraining.warm_start import StaticWarmStart

    monkeypatch.setattr(StaticWarmStart, "apply", lambda self, *args: 61.0)
    overrides = tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{
        "warm_start.method": "pieces", "training.max_steps": None, "training.max_minutes": 1})
    with pytest.raises(UserError, match=r"warm start took 61 s, all of \[training\] max_minutes"):
        pretrain(resolve_settings(load_pretrain_config(MLM_CONFIG, overrides)), tmp_path / "encoder")


def test_ctrl_c_during_the_warm_start_interrupts_at_once(tiny_shards, tiny_tokenizer_dir, tmp_path, monkeypatch):
    from spacy_wv.pretraining.warm_start import StaticWarmStart

    went_on = []

    def interrupted_apply(self, *args):
        os.kill(os.getpid(), signal.SIGINT)
        went_on.append(True)  # a stop request that only set a flag would get here
        return 0.0

    monkeypatch.setattr(StaticWarmStart, "apply", interrupted_apply)
    settings = resolve_settings(load_pretrain_config(MLM_CONFIG, tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{
        "warm_start.method": "pieces", "training.max_steps": 8})))
    out = tmp_path / "encoder"
    handler_before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        pretrain(settings, out)
    assert went_on == [] and step_dirs(out) == []
    assert signal.getsignal(signal.SIGINT) is handler_before
    # Nothing was trained, so the same command starts afresh in that directory.
    assert prepare_run(settings, out, world_size=1).resume_from is None
