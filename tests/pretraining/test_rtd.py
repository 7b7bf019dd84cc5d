"""Replaced-token detection (ELECTRA): config, batches, and tiny runs on real text."""
import json

import pytest
import torch
from safetensors.torch import load_file
from spacy.util import registry
from transformers import AutoTokenizer

from spacy_wv.errors import UserError
from spacy_wv.pretraining.checkpoint import AUXILIARY_FILE, latest_checkpoint, read_state, step_dirs
from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings
from spacy_wv.pretraining.architecture import transformer_encoder
from spacy_wv.pretraining.objectives import IGNORE_INDEX
from spacy_wv.pretraining.rtd import NOT_MASKED, ReplacedTokenDetection, generator_size, replaced_token_detection
from spacy_wv.hf_dirs import load_model_dir

from .conftest import RTD_CONFIG, read_metrics, run_in_process, tiny_overrides


@pytest.fixture(scope="module")
def rtd_overrides(tiny_shards, tiny_tokenizer_dir):
    return tiny_overrides(tiny_shards, tiny_tokenizer_dir)


@pytest.fixture(scope="module")
def reference_run(rtd_overrides, tmp_path_factory):
    out = tmp_path_factory.mktemp("rtd") / "encoder"
    run_in_process(RTD_CONFIG, out, rtd_overrides)
    return out


def test_the_config_resolves_to_the_registered_objective(rtd_overrides):
    settings = resolve_settings(load_pretrain_config(RTD_CONFIG, rtd_overrides))
    objective = settings.objective
    assert isinstance(objective, ReplacedTokenDetection) and objective.name == "replaced-token"
    assert registry.misc.get("spacy_wv.ReplacedTokenDetection.v1") is replaced_token_detection
    assert (objective.generator_width_ratio, objective.discriminator_weight, objective.generator_depth) == (0.25, 50.0, None)
    assert objective.masking.mask_token_prob == 1.0 and objective.masking.random_token_prob == 0.0


@pytest.mark.parametrize("setting,match", [
    ({"generator_width_ratio": 0.0}, "generator_width_ratio"), ({"generator_width_ratio": 1.5}, "generator_width_ratio"),
    ({"generator_depth": 0}, "generator_depth"), ({"discriminator_weight": -1.0}, "discriminator_weight"),
    ({"generator_loss_weight": 0.0}, "generator_loss_weight"), ({"mask_rate": 1.0}, "mask_rate"),
])
def test_bad_settings_are_one_line_errors(setting, match):
    with pytest.raises(UserError, match=match):
        replaced_token_detection(**setting)


def test_gpt2_is_refused():
    with pytest.raises(UserError, match="bidirectional encoder family"):
        replaced_token_detection().check_encoder(transformer_encoder(family="gpt2"))


def test_generator_keeps_the_head_size_where_it_can():
    assert generator_size(768, 12, 1 / 3) == (256, 4)  # ELECTRA-Base's generator
    assert generator_size(256, 4, 0.5) == (128, 2)
    assert generator_size(64, 2, 0.25) == (16, 1)  # narrower than one head


def test_batches_mask_with_mask_only_and_label_every_ordinary_token(tiny_tokenizer_dir, tiny_shards):
    from spacy_wv.corpus.shards import ShardReader
    from spacy_wv.pretraining.batching import PackedCorpus

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    objective = replaced_token_detection()
    objective.bind(tokenizer, tokenizer.sep_token_id)
    corpus = PackedCorpus(ShardReader(tiny_shards), 64, tokenizer.cls_token_id, eval_tokens=0)
    ids = corpus.sequences(corpus.train, list(range(32)))
    inputs, labels = objective.make_batch(ids, torch.Generator().manual_seed(0))
    masked, special = labels >= 0, objective.masking.special[ids]
    assert (inputs[masked] == tokenizer.mask_token_id).all() and torch.equal(labels[masked], ids[masked])
    assert torch.equal(inputs[~masked], ids[~masked])
    assert ((labels == IGNORE_INDEX) == special).all()
    assert ((labels == NOT_MASKED) == (~special & ~masked)).all()
    assert 0.1 < masked.sum() / (~special).sum() < 0.2


@pytest.mark.parametrize("family", ["modernbert", "bert", "roberta"])
def test_the_generator_shares_the_discriminators_embeddings(rtd_overrides, family):
    settings = resolve_settings(load_pretrain_config(RTD_CONFIG, {**rtd_overrides, "encoder.family": family}))
    tokenizer = AutoTokenizer.from_pretrained(settings.tokenizer_path)
    settings.objective.bind(tokenizer, tokenizer.sep_token_id)
    model = settings.objective.build_model(settings.encoder.hf_config(tokenizer))
    module = settings.objective.wrap(model, settings.encoder)
    generator = module.auxiliary["generator"]
    assert generator.encoder.config.hidden_size == 16 and generator.encoder.config.num_hidden_layers == 2
    # The generator holds no embedding table of its own: it reads the discriminator's.
    assert not any(p.shape[0] == len(tokenizer) and p.ndim == 2 for p in generator.parameters())
    embedding = model.get_input_embeddings().weight
    assert sum(p is embedding for p in module.parameters()) == 1  # one parameter, trained by both
    ids = torch.full((2, 8), tokenizer.cls_token_id)
    labels = torch.full((2, 8), NOT_MASKED)
    labels[:, 3] = 100
    loss, _, _ = module(ids, labels)
    loss.backward()
    assert embedding.grad is not None and generator.bias.grad is not None
    # Every parameter is trained (DDP refuses unused ones): the discriminator has no pooler.
    assert all(p.grad is not None for p in module.parameters())


def test_tiny_run_trains_the_discriminator_and_exports_it_alone(reference_run, tiny_tokenizer_dir):
    from transformers import AutoModel

    rows = read_metrics(reference_run)
    train_rows = [r for r in rows if "loss" in r]
    evals = [r for r in rows if "eval_loss" in r]
    assert [r["step"] for r in evals] == [8, 16, 24]
    # The loss is generator CE (~ln 4000 = 8.3 untrained) + 50 x discriminator BCE (~35
    # untrained): a fall of 10 or more is the discriminator learning, not the generator.
    assert train_rows[-1]["loss"] < train_rows[0]["loss"] - 10
    assert 0.8 < evals[-1]["eval_accuracy"] <= 1.0  # about 15% of the tokens are replaced
    assert not any("eval_perplexity" in r for r in evals)  # exp of a weighted sum is no perplexity

    config = json.loads((reference_run / "config.json").read_text())
    assert config["architectures"] == ["ModernBertModel"] and config["hidden_size"] == 64
    exported = load_file(str(reference_run / "model.safetensors"))
    assert not any("generator" in k or "head" in k for k in exported)
    step_dir = latest_checkpoint(reference_run)
    trained = load_file(str(step_dir / "model.safetensors"))
    assert trained.keys() == exported.keys() and all(torch.equal(trained[k], exported[k]) for k in trained)
    model = AutoModel.from_pretrained(reference_run)
    assert torch.equal(model.get_input_embeddings().weight, trained["embeddings.tok_embeddings.weight"])
    assert any("generator" in k for k in load_file(str(step_dir / AUXILIARY_FILE)))
    encoder, tokenizer = load_model_dir(reference_run)  # what `vectors export` and EncoderFeatures load
    assert encoder.config.model_type == "modernbert" and tokenizer.is_fast


def test_the_discriminator_loss_falls(reference_run, rtd_overrides, tiny_shards):
    """The discriminator's own binary loss on held-out windows, untrained vs trained."""
    from safetensors.torch import load_model

    from spacy_wv.corpus.shards import ShardReader
    from spacy_wv.pretraining.batching import PackedCorpus

    settings = resolve_settings(load_pretrain_config(RTD_CONFIG, rtd_overrides))
    tokenizer = AutoTokenizer.from_pretrained(settings.tokenizer_path)
    objective = settings.objective
    objective.bind(tokenizer, tokenizer.sep_token_id)
    corpus = PackedCorpus(ShardReader(tiny_shards), 64, tokenizer.cls_token_id, eval_tokens=4096)
    ids = next(iter(corpus.eval_batches(64)))
    inputs, labels = objective.make_batch(ids, torch.Generator().manual_seed(0))

    def discriminator_loss(module) -> float:
        module.generator_loss_weight, module.discriminator_weight = 0.0, 1.0
        with torch.no_grad():
            loss_sum, _, n = module.eval()(inputs, labels)
        return float(loss_sum) / n

    torch.manual_seed(0)
    untrained = objective.wrap(objective.build_model(settings.encoder.hf_config(tokenizer)), settings.encoder)
    trained = objective.wrap(objective.build_model(settings.encoder.hf_config(tokenizer)), settings.encoder)
    step_dir = latest_checkpoint(reference_run)
    load_model(trained.model, str(step_dir / "model.safetensors"))
    load_model(trained.auxiliary, str(step_dir / AUXILIARY_FILE))
    before, after = discriminator_loss(untrained), discriminator_loss(trained)
    assert before > 0.6  # about ln 2: no idea yet
    assert after < 0.75 * before


def test_resuming_from_a_checkpoint_gives_the_same_run(reference_run, rtd_overrides, tmp_path):
    import shutil

    # The reference run as a run that stopped at step 16: its output dir with the
    # step-16 checkpoint only and the metrics up to it.
    out = tmp_path / "encoder"
    shutil.copytree(reference_run, out)
    shutil.rmtree(latest_checkpoint(out))
    assert read_state(latest_checkpoint(out))["step"] == 16
    run_in_process(RTD_CONFIG, out, rtd_overrides)

    assert [p.name for p in step_dirs(out)] == ["step_0000016", "step_0000024"]
    resumed, reference = read_metrics(out), read_metrics(reference_run)
    assert [r["step"] for r in resumed] == [r["step"] for r in reference]
    for key in ("loss", "eval_loss", "eval_accuracy"):
        assert resumed[-1][key] == pytest.approx(reference[-1][key], abs=1e-4), key
    ours, theirs = load_file(str(out / "model.safetensors")), load_file(str(reference_run / "model.safetensors"))
    assert all(torch.allclose(ours[k], theirs[k], atol=1e-5) for k in theirs)
