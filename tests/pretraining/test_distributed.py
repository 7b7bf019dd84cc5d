"""Two processes under torchrun (gloo on CPU), as `torchrun --nproc_per_node 2` runs them,
with the shipped configs' warm start on: masked LM, and replaced-token detection."""
import json
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from spacy_wv.pretraining.checkpoint import AUXILIARY_FILE, latest_checkpoint, read_state

from .conftest import MLM_CONFIG, REPO, RTD_CONFIG, as_cli_args, read_metrics, tiny_overrides

RANKS = Path(__file__).with_name("ddp_ranks.py")
# The configs' warm start (piece vectors from the shards, on rank 0), one gensim thread.
WARM_START = {"warm_start.method": "pieces", "warm_start.workers": 1}


def torchrun_pretrain(config: Path, out: Path, overrides: dict) -> subprocess.CompletedProcess:
    """`torchrun --nproc_per_node 2 -m spacy_wv pretrain ...` through ddp_ranks.py; the
    ranks' weight comparison lands in out/../ranks.json."""
    import os

    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(RANKS), "pretrain", str(config), str(out), *as_cli_args(overrides)]
    env = {**os.environ, "SPACY_WV_RANKS_REPORT": str(out.parent / "ranks.json")}
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def assert_ranks_agree_and_rank_0_warm_started(done, out: Path) -> None:
    report = json.loads((out.parent / "ranks.json").read_text(encoding="utf8"))
    assert report["world_size"] == 2 and report["parameters"] > 100_000
    assert report["max_difference"] == 0.0, report  # the warm start reached rank 1 through DDP
    assert done.stdout.count("Warm start (pieces): static vectors for") == 1  # rank 0 ran it, once


def test_two_process_ddp_run_trains_and_writes_once(tmp_path, tiny_shards, tiny_tokenizer_dir):
    out = tmp_path / "encoder"
    # With a time budget too, the ranks share rank 0's clock every step (LR and stopping),
    # and the warm start's seconds (rank 0's) count in it on both.
    overrides = tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{
        "training.max_steps": 8, "training.max_minutes": 30, "training.checkpoint_every": 4, **WARM_START,
    })
    done = torchrun_pretrain(MLM_CONFIG, out, overrides)
    assert done.stdout.count("Pretrained to step 8") == 1  # only rank 0 reports and writes
    assert_ranks_agree_and_rank_0_warm_started(done, out)

    state = read_state(latest_checkpoint(out))
    assert state["step"] == 8 and state["world_size"] == 2
    # Each rank read 512 of the 1024 tokens of a step: the sampler advanced by 2 x 8 sequences.
    assert state["sampler"] == {"epoch": 0, "cursor": 8 * 16}
    assert state["elapsed_s"] > 0
    rng = load_file(str(latest_checkpoint(out) / "rng.safetensors"))
    assert not torch.equal(rng["0.mask"], rng["1.mask"])  # each rank's own masking stream was saved
    rows = read_metrics(out)
    assert [r["step"] for r in rows] == [4, 8]
    assert rows[-1]["loss"] < rows[0]["loss"] and "eval_loss" in rows[-1]
    assert (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()


def test_replaced_token_detection_under_ddp(tmp_path, tiny_shards, tiny_tokenizer_dir):
    """configs/pretrain_rtd.cfg on two processes: the generator trains beside the
    discriminator (DDP refuses a parameter without a gradient), the ranks stay identical,
    and only the discriminator is exported."""
    out = tmp_path / "encoder"
    overrides = tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{
        "training.max_steps": 12, "training.eval_every": 12, "training.checkpoint_every": 12, **WARM_START,
    })
    done = torchrun_pretrain(RTD_CONFIG, out, overrides)
    assert done.stdout.count("Pretrained to step 12") == 1
    assert_ranks_agree_and_rank_0_warm_started(done, out)
    state = read_state(latest_checkpoint(out))
    assert state["step"] == 12 and state["world_size"] == 2
    rows = read_metrics(out)
    train_rows = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train_rows] == [4, 8, 12]
    # Generator CE + 50 x discriminator BCE (about 43 untrained): the discriminator learns.
    assert train_rows[-1]["loss"] < train_rows[0]["loss"] - 5, train_rows
    assert 0.5 < rows[-1]["eval_accuracy"] <= 1.0
    exported = load_file(str(out / "model.safetensors"))
    assert not any("generator" in k or "head" in k for k in exported)
    assert any("generator" in k for k in load_file(str(latest_checkpoint(out) / AUXILIARY_FILE)))
