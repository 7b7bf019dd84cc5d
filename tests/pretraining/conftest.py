"""Token shards of real text for pretraining tests, and a tiny-model recipe.

The shards are the `text_slice` fixture encoded with the `tiny_tokenizer_dir` WordPiece
tokenizer, one document per blank-line-separated block, as `spacy_wv encode` writes them.
"""
import json
from pathlib import Path
from typing import Dict, List

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
MLM_CONFIG = REPO / "configs" / "pretrain_mlm.cfg"
CLM_CONFIG = REPO / "configs" / "pretrain_clm.cfg"
GPU_CONFIG = REPO / "configs" / "pretrain_mlm_gpu.cfg"
RTD_CONFIG = REPO / "configs" / "pretrain_rtd.cfg"

# A 2-layer, 64-wide model trained for a few dozen steps of 1024 tokens; with dropout,
# so that resuming must restore the dropout random stream too. Without the warm start:
# gensim over several threads is not bit-reproducible, and the exact-resume tests
# compare two runs from scratch (test_warm_start.py tests it).
TINY = {
    "warm_start.method": "none",
    "encoder.dropout": 0.1, "encoder.width": 64, "encoder.depth": 2, "encoder.heads": 2, "encoder.ffn_size": 128,
    "encoder.max_length": 128,
    "training.seq_len": 64, "training.batch_tokens": 1024, "training.max_steps": 24, "training.max_minutes": None,
    "training.eval_every": 8, "training.eval_tokens": 4096, "training.checkpoint_every": 8, "training.log_every": 4,
    "schedule.warmup_steps": 4, "optimizer.lr": 0.003,
}


@pytest.fixture(scope="module", autouse=True)
def one_thread(monkeypatch_module):
    """The test machine's cores are shared: with two threads each, tiny models spend their
    time in thread synchronisation (10x slower under load). Subprocesses inherit the env."""
    threads = torch.get_num_threads()
    monkeypatch_module.setenv("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def tiny_overrides(shards: Path, tokenizer: Path, **extra) -> Dict:
    return {"paths.train": str(shards), "paths.tokenizer": str(tokenizer), **TINY, **extra}


def as_cli_args(overrides: Dict) -> List[str]:
    args: List[str] = []
    for key, value in overrides.items():
        args += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    return args


def pretrain_cli(config: Path, output_dir: Path, overrides: Dict) -> str:
    """`spacy_wv pretrain CONFIG OUTPUT_DIR --key value ...` in this process, on one thread,
    for a ModernBERT (the configs' family); what it printed."""
    from typer.testing import CliRunner

    from spacy_wv.cli import app

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = CliRunner().invoke(app, ["pretrain", str(config), str(output_dir), *as_cli_args(overrides)])
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    assert json.loads((Path(output_dir) / "config.json").read_text(encoding="utf8"))["model_type"] == "modernbert"
    return result.output


def run_in_process(config: Path, output_dir: Path, overrides: Dict) -> Dict:
    from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings
    from spacy_wv.pretraining.loop import pretrain

    return pretrain(resolve_settings(load_pretrain_config(config, overrides)), output_dir)


def read_metrics(output_dir: Path) -> List[Dict]:
    lines = (Path(output_dir) / "metrics.jsonl").read_text(encoding="utf8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
