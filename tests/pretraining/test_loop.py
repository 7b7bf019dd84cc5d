"""End to end: tiny models pretrained for a few dozen steps on real text."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from spacy_wv.errors import UserError
from spacy_wv.pretraining.checkpoint import STATE_DIR, latest_checkpoint, read_state, step_dirs
from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings
from spacy_wv.pretraining.loop import prepare_run

from .conftest import CLM_CONFIG, MLM_CONFIG, REPO, as_cli_args, read_metrics, run_in_process, tiny_overrides


@pytest.fixture(scope="module")
def mlm_overrides(tiny_shards, tiny_tokenizer_dir):
    return tiny_overrides(tiny_shards, tiny_tokenizer_dir)


@pytest.fixture(scope="module")
def reference_run(mlm_overrides, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "encoder"
    run_in_process(MLM_CONFIG, out, mlm_overrides)
    return out


def test_masked_lm_loss_falls_and_the_result_loads_as_a_hf_model(reference_run, tiny_tokenizer_dir):
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(reference_run)
    rows = read_metrics(reference_run)
    evals = [r for r in rows if "eval_loss" in r]
    assert [r["step"] for r in evals] == [8, 16, 24]
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"] - 0.2
    assert evals[-1]["eval_perplexity"] < 0.6 * len(tokenizer)  # uniform guessing: the vocabulary size
    train_rows = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train_rows] == [4, 8, 12, 16, 20, 24]
    assert train_rows[-1]["loss"] < train_rows[0]["loss"]
    assert all(r["tokens"] == r["step"] * 1024 and r["tokens_per_s"] > 0 for r in train_rows)

    model = AutoModelForMaskedLM.from_pretrained(reference_run)
    inputs = tokenizer(["The company said profits rose [MASK] percent."], return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape == (1, inputs["input_ids"].shape[1], len(tokenizer))
    assert AutoModel.from_pretrained(reference_run).config.hidden_size == 64
    final = load_file(str(latest_checkpoint(reference_run) / "model.safetensors"))
    exported = load_file(str(reference_run / "model.safetensors"))
    # Tied input/output embeddings are stored once, under a name each writer picks.
    shared = final.keys() & exported.keys()
    assert len(shared) >= len(exported) - 1 and all(torch.equal(final[k], exported[k]) for k in shared)


def test_checkpoints_are_kept_to_the_last_k(reference_run):
    assert [p.name for p in step_dirs(reference_run)] == ["step_0000016", "step_0000024"]
    state = read_state(latest_checkpoint(reference_run))
    assert state["step"] == 24 and state["tokens"] == 24 * 1024 and state["world_size"] == 1


def test_rerunning_a_finished_run_trains_no_further(reference_run, mlm_overrides):
    before = (reference_run / "metrics.jsonl").read_text()
    run_in_process(MLM_CONFIG, reference_run, mlm_overrides)
    assert (reference_run / "metrics.jsonl").read_text() == before
    assert latest_checkpoint(reference_run).name == "step_0000024"


def test_resuming_with_another_config_is_refused_unless_allowed(reference_run, mlm_overrides):
    changed = resolve_settings(load_pretrain_config(MLM_CONFIG, {**mlm_overrides, "optimizer.lr": 0.01}))
    with pytest.raises(UserError, match="different config"):
        prepare_run(changed, reference_run, world_size=1)
    assert prepare_run(changed, reference_run, world_size=1, allow_config_change=True).resume_from is not None


def test_a_foreign_non_empty_output_dir_is_refused(tmp_path, mlm_overrides):
    (tmp_path / "notes.txt").write_text("mine")
    settings = resolve_settings(load_pretrain_config(MLM_CONFIG, mlm_overrides))
    with pytest.raises(UserError, match=r"holds 1 other file\(s\) \(notes.txt\), not a pretraining run"):
        prepare_run(settings, tmp_path, world_size=1)


def test_killed_run_resumes_to_the_same_result(reference_run, mlm_overrides, tmp_path):
    out = tmp_path / "encoder"
    cmd = [sys.executable, "-m", "spacy_wv", "pretrain", str(MLM_CONFIG), str(out), *as_cli_args(mlm_overrides)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    try:
        while proc.poll() is None and not step_dirs(out):
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    killed_at = read_state(latest_checkpoint(out))["step"]
    assert killed_at < 24

    run_in_process(MLM_CONFIG, out, mlm_overrides)

    assert read_state(latest_checkpoint(out))["step"] == 24
    resumed, reference = read_metrics(out), read_metrics(reference_run)
    assert [r["step"] for r in resumed] == [r["step"] for r in reference]  # no duplicated rows
    assert resumed[-1]["eval_loss"] == pytest.approx(reference[-1]["eval_loss"], abs=1e-4)
    assert resumed[-1]["loss"] == pytest.approx(reference[-1]["loss"], abs=1e-4)
    ours, theirs = load_file(str(out / "model.safetensors")), load_file(str(reference_run / "model.safetensors"))
    assert all(torch.allclose(ours[k], theirs[k], atol=1e-5) for k in theirs)


def test_sigterm_saves_a_checkpoint_at_the_current_step_and_exits(mlm_overrides, tmp_path):
    out = tmp_path / "encoder"
    # No periodic checkpoint before the end: only the stop request can write one early.
    overrides = {**mlm_overrides, "training.checkpoint_every": 1000, "training.max_steps": 1000}
    cmd = [sys.executable, "-m", "spacy_wv", "pretrain", str(MLM_CONFIG), str(out), *as_cli_args(overrides)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})
    try:
        while proc.poll() is None and not (out / "metrics.jsonl").exists():
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "Stopped on request" in output
    stopped_at = read_state(latest_checkpoint(out))["step"]
    assert 0 < stopped_at < 1000
    assert read_metrics(out)[-1]["step"] == stopped_at


def test_causal_lm_trains_a_gpt2_that_loads(tmp_path, tiny_shards, tiny_tokenizer_dir):
    from transformers import AutoModelForCausalLM

    overrides = tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{"training.max_steps": 16})
    run_in_process(CLM_CONFIG, tmp_path, overrides)
    evals = [r for r in read_metrics(tmp_path) if "eval_loss" in r]
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    assert evals[-1]["eval_perplexity"] < evals[0]["eval_perplexity"]
    model = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert model.config.model_type == "gpt2" and model.config.n_layer == 2
    assert json.loads((tmp_path / "config.json").read_text())["architectures"] == ["GPT2LMHeadModel"]
    assert (tmp_path / STATE_DIR).is_dir()


def test_resuming_on_changed_shards_is_refused(reference_run, mlm_overrides, tiny_tokenizer_dir, text_slice, tmp_path):
    from spacy_wv.corpus.encode import encode_corpus

    changed = tmp_path / "shards"
    encode_corpus(tiny_tokenizer_dir, [text_slice], changed, shard_tokens=50_000, workers=1)  # other shard sizes
    settings = resolve_settings(load_pretrain_config(MLM_CONFIG, {**mlm_overrides, "paths.train": str(changed)}))
    with pytest.raises(UserError, match="changed since"):
        prepare_run(settings, reference_run, world_size=1, allow_config_change=True)


def test_a_pretrained_model_dir_serves_as_the_tokenizer_of_its_shards(reference_run, mlm_overrides, tmp_path):
    """Continued pretraining: the tokenizer saved beside the model has the fingerprint
    of the one the shards were encoded with."""
    settings = resolve_settings(load_pretrain_config(MLM_CONFIG, {**mlm_overrides, "paths.tokenizer": str(reference_run)}))
    assert prepare_run(settings, tmp_path / "continued", world_size=1).resume_from is None


def test_shards_of_an_earlier_version_are_checked_by_the_file_hash(tiny_shards, tiny_tokenizer_dir, tmp_path):
    import hashlib
    import shutil

    from spacy_wv.corpus.shards import ShardReader
    from spacy_wv.pretraining.loop import check_shards_match_tokenizer

    old = tmp_path / "old_shards"
    shutil.copytree(tiny_shards, old)
    meta = json.loads((old / "meta.json").read_text(encoding="utf8"))
    del meta["tokenizer_fingerprint"]
    meta["tokenizer_sha256"] = hashlib.sha256((tiny_tokenizer_dir / "tokenizer.json").read_bytes()).hexdigest()
    (old / "meta.json").write_text(json.dumps(meta), encoding="utf8")
    reader = ShardReader(old)
    check_shards_match_tokenizer(reader, old, tiny_tokenizer_dir, reader.vocab_size)
    meta["tokenizer_sha256"] = "0" * 64
    (old / "meta.json").write_text(json.dumps(meta), encoding="utf8")
    with pytest.raises(UserError, match="older version, or with another tokenizer"):
        check_shards_match_tokenizer(ShardReader(old), old, tiny_tokenizer_dir, reader.vocab_size)


def test_the_loop_hands_free_heap_pages_back_every_ten_steps(mlm_overrides, tmp_path, monkeypatch):
    """Issue 22: RSS grew without bound (glibc kept each step's freed tensors resident);
    benchmarks/pretrain_memory.py measures it, this checks the loop keeps trimming."""
    from spacy_wv.pretraining import loop

    trims = []
    monkeypatch.setattr(loop, "release_free_memory", lambda: trims.append(1))
    run_in_process(MLM_CONFIG, tmp_path / "encoder", {**mlm_overrides, "training.max_steps": 20})
    assert len(trims) == 2


def test_release_free_memory_trims_the_heap_of_this_process():
    from spacy_wv.memory import MALLOC_TRIM, release_free_memory

    assert MALLOC_TRIM is not None  # glibc, as on every machine this project runs on
    release_free_memory()
