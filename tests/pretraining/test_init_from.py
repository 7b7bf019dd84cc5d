"""Continued pretraining from a local Hugging Face model dir ([paths] init_from): a model
pretrained by this toolkit, base models without the masked-LM head, an ELECTRA
discriminator; resuming such a run."""
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from spacy_wv.cli import app
from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings
from spacy_wv.pretraining.init_from import build_or_load_model
from spacy_wv.pretraining.loop import prepare_run

from .conftest import MLM_CONFIG, RTD_CONFIG, TINY, as_cli_args, read_metrics

# A continuation of a few steps: the [encoder] sizes of TINY are left in to show that
# the checkpoint's config.json, not [encoder], decides the architecture.
CONTINUE = {**TINY, "training.max_steps": 2, "training.eval_every": 2, "training.checkpoint_every": 2, "training.log_every": 1}


def continue_overrides(checkpoint: Path, shards: Path, **extra):
    return {"paths.train": str(shards), "paths.init_from": str(checkpoint), "paths.tokenizer": None, **CONTINUE, **extra}


def pretrain_cli(output_dir: Path, overrides, *flags, config: Path = MLM_CONFIG):
    result = CliRunner().invoke(app, ["pretrain", str(config), str(output_dir), *as_cli_args(overrides), *flags])
    assert result.exit_code == 0, result.output
    return result.output


def save_tiny_checkpoint(saved_class: str, family: str, tokenizer_dir: Path, checkpoint: Path) -> Path:
    """A 1-layer, 32-wide `transformers.<saved_class>` with random weights and the tiny
    tokenizer, saved as a local checkpoint."""
    import transformers
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    sizes = dict(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=64, max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id)
    # ELECTRA's embeddings may be narrower than its layers: the new head must fit both.
    config = transformers.BertConfig(**sizes) if family == "bert" else transformers.ElectraConfig(embedding_size=16, **sizes)
    getattr(transformers, saved_class)(config).save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)
    return checkpoint


def starting_model(checkpoint: Path, shards: Path, output_dir: Path):
    """The model a run with init_from starts from, as the loop builds it."""
    settings = resolve_settings(load_pretrain_config(MLM_CONFIG, continue_overrides(checkpoint, shards)))
    run = prepare_run(settings, output_dir, world_size=1)
    return build_or_load_model(run.settings, run.tokenizer, resuming=False, verbose=False)


def assert_starts_from(model, checkpoint: Path):
    saved = load_file(str(checkpoint / "model.safetensors"))
    state = model.state_dict()
    # A base model's keys lack the task model's prefix (bert.embeddings... vs embeddings...).
    prefix = "" if set(saved) & set(state) else f"{model.base_model_prefix}."
    assert saved and all(torch.equal(state[prefix + key], value) for key, value in saved.items()
                         if prefix + key in state)
    assert sum(prefix + key in state for key in saved) >= len(state) // 2


def test_init_from_resolves_from_the_command_line(tiny_shards, tmp_path):
    settings = resolve_settings(load_pretrain_config(MLM_CONFIG, continue_overrides(tmp_path / "ckpt", tiny_shards)))
    assert settings.init_from == tmp_path / "ckpt"
    assert settings.tokenizer_path == tmp_path / "ckpt"  # a null tokenizer: the checkpoint's own
    plain = resolve_settings(load_pretrain_config(MLM_CONFIG, {"paths.train": "s", "paths.tokenizer": "t"}))
    assert plain.init_from is None and plain.tokenizer_path == Path("t")
    assert plain.config_hash != settings.config_hash


def test_continuing_our_own_model_starts_where_it_ended(tiny_modernbert_dir, tiny_tokenizer_dir, tiny_shards, tmp_path):
    from transformers import AutoModel, AutoModelForMaskedLM

    assert_starts_from(starting_model(tiny_modernbert_dir, tiny_shards, tmp_path / "probe"), tiny_modernbert_dir)
    # One step at a negligible learning rate: the first eval (same held-back tokens, same
    # masks) must give the loss the original run ended with.
    out = tmp_path / "continued"
    output = pretrain_cli(out, continue_overrides(tiny_modernbert_dir, tiny_shards, **{
        "training.max_steps": 1, "optimizer.lr": 1e-9, "paths.tokenizer": str(tiny_tokenizer_dir)}))
    assert "Continuing from" in output and "no ModernBertForMaskedLM head" not in output
    original = [r for r in read_metrics(tiny_modernbert_dir) if "eval_loss" in r][-1]
    first = [r for r in read_metrics(out) if "eval_loss" in r][0]
    assert first["step"] == 1 and first["eval_loss"] == pytest.approx(original["eval_loss"], abs=1e-4)
    model = AutoModelForMaskedLM.from_pretrained(out)
    assert model.config.model_type == "modernbert" and model.config.hidden_size == 64
    assert AutoModel.from_pretrained(out).config.num_hidden_layers == 2


def test_a_resumed_run_reads_its_own_checkpoint_not_init_from(tiny_modernbert_dir, tiny_shards, tmp_path):
    checkpoint = tmp_path / "checkpoint"
    shutil.copytree(tiny_modernbert_dir, checkpoint)
    out = tmp_path / "continued"
    overrides = continue_overrides(checkpoint, tiny_shards, **{"training.max_steps": 1, "optimizer.lr": 1e-9})
    pretrain_cli(out, overrides)
    # Replace the checkpoint's weights by random ones: a resume that read them would show.
    from transformers import AutoModelForMaskedLM

    random_model = AutoModelForMaskedLM.from_config(AutoModelForMaskedLM.from_pretrained(checkpoint).config)
    random_model.save_pretrained(checkpoint)
    output = pretrain_cli(out, {**overrides, "training.max_steps": 2}, "--allow-config-change")
    assert "Resuming from" in output and "Continuing from" not in output
    evals = [r for r in read_metrics(out) if "eval_loss" in r]
    assert [r["step"] for r in evals] == [1, 2]
    assert evals[1]["eval_loss"] == pytest.approx(evals[0]["eval_loss"], abs=1e-3)


@pytest.mark.parametrize("saved_class,family,task_class", [
    ("BertModel", "bert", "BertForMaskedLM"),                    # a base model, built from a config
    ("ElectraForPreTraining", "electra", "ElectraForMaskedLM"),  # an ELECTRA discriminator
    ("ElectraModel", "electra", "ElectraForMaskedLM"),
])
def test_a_checkpoint_without_the_masked_lm_head_gets_a_new_one(saved_class, family, task_class, tiny_tokenizer_dir,
                                                                 tiny_shards, tmp_path):
    from transformers import AutoModel, AutoModelForMaskedLM

    checkpoint = save_tiny_checkpoint(saved_class, family, tiny_tokenizer_dir, tmp_path / "checkpoint")
    model = starting_model(checkpoint, tiny_shards, tmp_path / "probe")
    assert type(model).__name__ == task_class
    assert_starts_from(model, checkpoint)
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    out = tmp_path / "continued"
    output = pretrain_cli(out, continue_overrides(checkpoint, tiny_shards))
    assert f"The checkpoint has no {task_class} head" in " ".join(output.split())
    assert [r["step"] for r in read_metrics(out) if "eval_loss" in r] == [2]
    continued = AutoModelForMaskedLM.from_pretrained(out)
    assert continued.config.architectures == [task_class] and continued.config.hidden_size == 32
    assert AutoModel.from_pretrained(out).config.model_type == family


@pytest.mark.parametrize("saved_class,family", [("BertForMaskedLM", "bert"), ("ElectraForPreTraining", "electra")])
def test_replaced_token_detection_continues_a_checkpoint_as_its_discriminator(saved_class, family, tiny_tokenizer_dir,
                                                                              tiny_shards, tmp_path):
    from transformers import AutoModel

    checkpoint = save_tiny_checkpoint(saved_class, family, tiny_tokenizer_dir, tmp_path / "checkpoint")
    out = tmp_path / "continued"
    pretrain_cli(out, continue_overrides(checkpoint, tiny_shards), config=RTD_CONFIG)
    continued = AutoModel.from_pretrained(out)
    assert continued.config.model_type == family and continued.config.hidden_size == 32
    saved = load_file(str(checkpoint / "model.safetensors"))
    key = next(k for k in saved if k.endswith("word_embeddings.weight"))
    # Two steps moved the shared embeddings away from the checkpoint's, not from random ones.
    moved = continued.get_input_embeddings().weight.detach() - saved[key]
    assert 0 < float(moved.abs().max()) < 0.1
