"""Task-adaptive pretraining (configs/tapt_mlm.cfg): a task's .spacy text, encoded with the
encoder's own tokenizer, continues a tiny ModernBERT for a number of epochs."""
import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from spacy_wv.corpus.shards import ShardReader
from spacy_wv.errors import UserError
from spacy_wv.pretraining.checkpoint import latest_checkpoint, read_state

from .conftest import REPO, pretrain_cli, read_metrics, run_in_process

TAPT_CONFIG = REPO / "configs" / "tapt_mlm.cfg"
# The config's recipe at tiny sizes. The LR is the general tiny recipe's (TINY), not the
# config's 2e-4: the tiny encoder was pretrained for 4 steps only.
TINY_TAPT = {
    "training.seq_len": 64, "training.batch_tokens": 1024, "training.eval_tokens": 2048, "training.eval_every": 1000,
    "training.checkpoint_every": 1000, "training.log_every": 2, "schedule.warmup_steps": 2, "optimizer.lr": 0.003,
    "training.max_minutes": 30,
}
EPOCHS = 3


def tapt_overrides(init_from, shards, **extra):
    return {"paths.init_from": str(init_from), "paths.train": str(shards), **TINY_TAPT, **extra}


@pytest.fixture(scope="module")
def task_shards(tiny_modernbert_dir, conll_slice_docbin, tmp_path_factory):
    """The CoNLL slice's text, encoded with the encoder's own tokenizer by `spacy_wv encode`."""
    from typer.testing import CliRunner

    from spacy_wv.cli import app

    out = tmp_path_factory.mktemp("tapt_shards") / "shards"
    result = CliRunner().invoke(app, ["encode", str(tiny_modernbert_dir), str(out), str(conll_slice_docbin), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def before(tiny_modernbert_dir, task_shards, tmp_path_factory):
    """The starting encoder's eval loss on the held-back task text: one step at a
    negligible LR (the eval uses the same tokens and masks in every run)."""
    out = tmp_path_factory.mktemp("tapt_before") / "encoder"
    pretrain_cli(TAPT_CONFIG, out, tapt_overrides(tiny_modernbert_dir, task_shards, **{
        "training.max_steps": 1, "optimizer.lr": 1e-12}))
    return read_metrics(out)[-1]["eval_loss"]


@pytest.fixture(scope="module")
def tapt_run(tiny_modernbert_dir, task_shards, tmp_path_factory):
    out = tmp_path_factory.mktemp("tapt") / "encoder"
    output = pretrain_cli(TAPT_CONFIG, out, tapt_overrides(tiny_modernbert_dir, task_shards, **{"training.max_epochs": EPOCHS}))
    return out, output


def test_tapt_stops_after_its_epochs(tapt_run, task_shards):
    out, output = tapt_run
    reader = ShardReader(task_shards)
    # One shard: windows of 63 tokens behind [CLS], the last 2048 tokens held back; 16 a step.
    windows = (reader.n_tokens - 2048) // 63
    steps_per_epoch = windows // 16
    assert steps_per_epoch >= 5
    state = read_state(latest_checkpoint(out))
    assert state["step"] == EPOCHS * steps_per_epoch
    # The sampler ended the third pass exactly and began no fourth.
    assert state["sampler"] == {"epoch": EPOCHS - 1, "cursor": steps_per_epoch * 16}
    assert f"{EPOCHS} epoch(s) over the training windows: {EPOCHS * steps_per_epoch} steps" in " ".join(output.split())


def test_the_loss_on_the_task_text_falls(tapt_run, before):
    out, _ = tapt_run
    rows = read_metrics(out)
    assert rows[-1]["eval_loss"] < before - 0.3
    train = [r["loss"] for r in rows if "loss" in r]
    assert train[-1] < train[0]


def test_the_tapt_encoder_loads_as_a_hf_model(tapt_run, tiny_modernbert_dir):
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    out, _ = tapt_run
    model = AutoModel.from_pretrained(out)
    assert model.config.model_type == "modernbert" and model.config.hidden_size == 64
    assert AutoModelForMaskedLM.from_pretrained(out).config.vocab_size == model.config.vocab_size
    # The general encoder's own tokenizer, and weights moved away from its.
    assert json.loads((out / "tokenizer.json").read_text(encoding="utf8"))["model"]["vocab"] == \
        json.loads((tiny_modernbert_dir / "tokenizer.json").read_text(encoding="utf8"))["model"]["vocab"]
    tokenizer = AutoTokenizer.from_pretrained(out)
    with torch.no_grad():
        states = model(**tokenizer(["EU rejects German call to boycott British lamb."], return_tensors="pt")).last_hidden_state
    assert states.shape[-1] == 64
    start, end = load_file(str(tiny_modernbert_dir / "model.safetensors")), load_file(str(out / "model.safetensors"))
    shared = start.keys() & end.keys()
    assert shared and any(not torch.equal(start[k], end[k]) for k in shared)


def test_the_first_of_steps_and_epochs_ends_the_run(tiny_modernbert_dir, task_shards, tmp_path):
    pretrain_cli(TAPT_CONFIG, tmp_path / "encoder", tapt_overrides(tiny_modernbert_dir, task_shards, **{
        "training.max_epochs": EPOCHS, "training.max_steps": 2}))
    assert read_state(latest_checkpoint(tmp_path / "encoder"))["step"] == 2


def test_resuming_after_the_general_encoder_changed_is_refused(tiny_modernbert_dir, task_shards, tmp_path):
    """A workflow reruns TAPT when the general encoder changed: the finished run in the
    output dir must not be taken for the new encoder's."""
    general = tmp_path / "general"
    shutil.copytree(tiny_modernbert_dir, general)
    overrides = tapt_overrides(general, task_shards, **{"training.max_steps": 1})
    out = tmp_path / "tapt"
    run_in_process(TAPT_CONFIG, out, overrides)
    run_in_process(TAPT_CONFIG, out, overrides)  # unchanged: the finished run stays as it is
    weights = load_file(str(general / "model.safetensors"))
    save_file({key: value + 0.01 if value.is_floating_point() else value for key, value in weights.items()},
              str(general / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(UserError, match=r"\[paths\] init_from\) changed since .* remove .*tapt to start again") as err:
        run_in_process(TAPT_CONFIG, out, overrides)
    assert "\n" not in str(err.value)
    # As for a changed config, --allow-config-change resumes anyway (test_init_from.py).
