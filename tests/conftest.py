"""Shared fixtures: real data from ../shared/data, and a tiny encoder built from it."""
import os
import signal
import sys
from pathlib import Path
from typing import Tuple

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SPACY_WV_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "README.md").exists():
        pytest.fail(f"Real data not found at {DATA_DIR}; set SPACY_WV_DATA to the shared data folder.")
    return DATA_DIR


@pytest.fixture(scope="session")
def text_slice(data_dir, tmp_path_factory) -> Path:
    """About 1 MB of real raw text (Wikipedia + Reuters) in one file."""
    out = tmp_path_factory.mktemp("text") / "slice.txt"
    parts = [data_dir / "wikipedia_en" / "wiki_en_000.txt", data_dir / "reuters21578" / "reut2-000.txt"]
    with out.open("w", encoding="utf8") as f:
        for p in parts:
            f.write(p.read_text(encoding="utf8")[:500_000])
            f.write("\n\n")
    return out


@pytest.fixture(scope="session")
def conll_slice_docbin(data_dir, tmp_path_factory) -> Path:
    """The first 100 docs of CoNLL-2003 train (10 sentences a doc, about 14k words) as the
    workflows convert it: a task's labelled .spacy file."""
    from spacy_wv.corpus.conll import convert_conll

    out = tmp_path_factory.mktemp("conll") / "ner_train.spacy"
    convert_conll(data_dir / "conll2003" / "eng.train", out, n_sents=10, max_docs=100)
    return out


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(text_slice, tmp_path_factory) -> Path:
    """A lowercase WordPiece tokenizer (2k pieces) trained on the text slice, saved as a HF fast tokenizer."""
    from spacy_wv.corpus.tokenizer_training import train_tokenizer

    out = tmp_path_factory.mktemp("tokenizer") / "wordpiece"
    train_tokenizer([text_slice], out, kind="wordpiece", vocab_size=2000, lowercase=True)
    return out


@pytest.fixture(scope="session")
def tiny_encoder_dir(tiny_tokenizer_dir, tmp_path_factory) -> Path:
    """A 2-layer, 64-wide BERT (random weights) with the tiny tokenizer: a Hugging Face
    model directory that spacy-transformers loads by path. For plumbing tests; tests of
    learning pretrain their own."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=128, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
    )
    out = tmp_path_factory.mktemp("encoder")
    BertForMaskedLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_shards(tiny_tokenizer_dir, text_slice, tmp_path_factory) -> Path:
    """Made by `spacy_wv encode` (the command users run), with two worker processes."""
    from typer.testing import CliRunner

    from spacy_wv.cli import app

    out = tmp_path_factory.mktemp("shards") / "shards"
    # Small shards, so that windows, held-back tokens and the sampler cross shard ends.
    result = CliRunner().invoke(app, ["encode", str(tiny_tokenizer_dir), str(out), str(text_slice),
                                      "--shard-tokens", "60000", "--workers", "2"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def tiny_modernbert_dir(tiny_shards, tiny_tokenizer_dir, tmp_path_factory) -> Path:
    """The default pretraining config's encoder family (ModernBERT), pretrained for a few
    steps by `spacy_wv pretrain` on shards made by `spacy_wv encode`: what users run."""
    from .pretraining.conftest import MLM_CONFIG, pretrain_cli, tiny_overrides

    out = tmp_path_factory.mktemp("modernbert") / "encoder"
    overrides = tiny_overrides(tiny_shards, tiny_tokenizer_dir, **{
        "training.max_steps": 4, "training.eval_every": 4, "training.checkpoint_every": 4, "training.log_every": 2})
    pretrain_cli(MLM_CONFIG, out, overrides)
    return out


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory):
    """One virtualenv for every packaging test, with spacy_wv installed from its wheel;
    each test installs its own pipeline wheels into it (tests/packaging.py)."""
    from .packaging import FreshVenv, build_own_wheel

    base = tmp_path_factory.mktemp("fresh_venv")
    return FreshVenv(base / "venv", build_own_wheel(base / "wheel"))


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run the CLI as a user does (`python -m spacy_wv ...` goes through `main()`), in this
    process: the exit code and what it printed."""
    from spacy_wv.cli import main

    def run(*args) -> Tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["spacy_wv", *map(str, args)])
        previous = signal.getsignal(signal.SIGTERM)
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        finally:
            signal.signal(signal.SIGTERM, previous)
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run
