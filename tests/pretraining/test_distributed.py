"""Two processes under torchrun (gloo on CPU), as `torchrun --nproc_per_node 2` runs them."""
import subprocess
import sys

import torch
from safetensors.torch import load_file

from spacy_wv.pretraining.checkpoint import latest_checkpoint, read_state

from .conftest import MLM_CONFIG, REPO, as_cli_args, read_metrics, tiny_overrides


def test_two_process_ddp_run_trains_and_writes_once(tmp_path, tiny_shards, tiny_tokenizer_dir):
    out = tmp_path / "encoder"
    # With a time budget too, the ranks share rank 0's clock every step (LR and stopping).
    overrides = tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{
        "training.max_steps": 8, "training.max_minutes": 30, "training.checkpoint_every": 4,
    })
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "spacy_wv", "pretrain", str(MLM_CONFIG), str(out), *as_cli_args(overrides)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("Pretrained to step 8") == 1  # only rank 0 reports and writes

    state = read_state(latest_checkpoint(out))
    assert state["step"] == 8 and state["world_size"] == 2
    # Each rank read 512 of the 1024 tokens of a step: the sampler advanced by 2 x 8 sequences.
    assert state["sampler"] == {"epoch": 0, "cursor": 8 * 16}
    rng = load_file(str(latest_checkpoint(out) / "rng.safetensors"))
    assert not torch.equal(rng["0.mask"], rng["1.mask"])  # each rank's own masking stream was saved
    rows = read_metrics(out)
    assert [r["step"] for r in rows] == [4, 8]
    assert rows[-1]["loss"] < rows[0]["loss"] and "eval_loss" in rows[-1]
    assert (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()
