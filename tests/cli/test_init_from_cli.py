"""`pretrain --paths.init_from`: each bad checkpoint gives one error line, exit code 1,
and nothing written; `encode` takes a checkpoint dir as its tokenizer."""
import json
import shutil
from pathlib import Path

import pytest

from .conftest import one_error

REPO = Path(__file__).resolve().parents[2]
MLM_CONFIG = REPO / "configs" / "pretrain_mlm.cfg"
TINY_RUN = ["--training.seq_len", "64", "--training.batch_tokens", "1024", "--training.max_steps", "1",
            "--training.max_minutes", "null", "--training.eval_tokens", "1024"]


@pytest.fixture
def raw_text(data_dir, tmp_path) -> Path:
    out = tmp_path / "raw.txt"
    out.write_text((data_dir / "reuters21578" / "reut2-002.txt").read_text(encoding="utf8")[:60_000], encoding="utf8")
    return out


@pytest.fixture
def checkpoint(tiny_encoder_dir, tmp_path) -> Path:
    """A BertForMaskedLM saved by transformers with its (fast) tokenizer, to spoil."""
    out = tmp_path / "checkpoint"
    shutil.copytree(tiny_encoder_dir, out)
    return out


def pretrain_from(run_cli, checkpoint, shards, output_dir, *extra):
    return run_cli("pretrain", MLM_CONFIG, output_dir, "--paths.train", shards, "--paths.init_from", checkpoint,
                   "--paths.tokenizer", "null", *TINY_RUN, *extra)


def edit_config(checkpoint: Path, **changes) -> None:
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf8"))
    config.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del config[key]
    (checkpoint / "config.json").write_text(json.dumps(config), encoding="utf8")


def test_encode_takes_a_checkpoint_dir_and_pretrain_continues_from_it(run_cli, checkpoint, raw_text, tmp_path):
    assert run_cli("encode", checkpoint, tmp_path / "shards", raw_text, "--workers", "1")[0] == 0
    code, output = pretrain_from(run_cli, checkpoint, tmp_path / "shards", tmp_path / "model")
    assert code == 0, output
    assert json.loads((tmp_path / "model" / "config.json").read_text(encoding="utf8"))["hidden_size"] == 64


@pytest.mark.parametrize("spoil,message", [
    (lambda ckpt: shutil.rmtree(ckpt), "Checkpoint directory not found"),
    (lambda ckpt: (ckpt / "config.json").unlink(), "is not a Hugging Face model directory (no config.json)"),
    (lambda ckpt: edit_config(ckpt, model_type=None), "has no model_type"),
    (lambda ckpt: edit_config(ckpt, model_type="t5"), "has model_type 't5'"),
    (lambda ckpt: (ckpt / "model.safetensors").unlink(), "has no weights (model.safetensors)"),
    (lambda ckpt: (ckpt / "model.safetensors").rename(ckpt / "pytorch_model.bin"),
     "has its weights only as pytorch_model.bin, which is not read (unpickling can run code): convert it to model.safetensors"),
])
def test_a_directory_that_is_not_a_usable_model(run_cli, checkpoint, tiny_shards, tmp_path, spoil, message):
    spoil(checkpoint)
    line = one_error(*pretrain_from(run_cli, checkpoint, tiny_shards, tmp_path / "model"))
    assert message in line and str(checkpoint) in line
    assert not (tmp_path / "model").exists()


def test_a_gpt2_checkpoint_for_the_masked_objective(run_cli, tiny_tokenizer_dir, tiny_shards, tmp_path):
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    checkpoint = tmp_path / "gpt2"
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2, n_positions=128)).save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)
    line = one_error(*pretrain_from(run_cli, checkpoint, tiny_shards, tmp_path / "model"))
    assert "is a 'gpt2' model" in line and "spacy_wv.MaskedLM.v1 needs a bidirectional encoder" in line
    assert not (tmp_path / "model").exists()


@pytest.fixture
def other_checkpoint(raw_text, tmp_path) -> Path:
    """A BertModel whose tokenizer has another vocabulary than the tiny tokenizer's."""
    from transformers import BertConfig, BertModel

    from spacy_wv.corpus.tokenizer_training import train_tokenizer

    out = tmp_path / "other"
    tokenizer = train_tokenizer([raw_text], tmp_path / "other_tokenizer", vocab_size=700)
    BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=128)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_shards_of_another_tokenizer(run_cli, other_checkpoint, tiny_shards, tmp_path):
    line = one_error(*pretrain_from(run_cli, other_checkpoint, tiny_shards, tmp_path / "model"))
    assert "were encoded with a vocabulary of 2000" in line and f"spacy_wv encode {other_checkpoint}" in line


def test_a_configured_tokenizer_that_is_not_the_checkpoints(run_cli, other_checkpoint, tiny_shards, tiny_tokenizer_dir, tmp_path):
    line = one_error(*pretrain_from(run_cli, other_checkpoint, tiny_shards, tmp_path / "model",
                                    "--paths.tokenizer", tiny_tokenizer_dir))
    assert f"[paths] tokenizer ({tiny_tokenizer_dir}) is not the tokenizer of the checkpoint at {other_checkpoint}" in line


def test_fewer_embedding_rows_than_tokens(run_cli, checkpoint, tiny_shards, tmp_path):
    edit_config(checkpoint, vocab_size=1000)
    line = one_error(*pretrain_from(run_cli, checkpoint, tiny_shards, tmp_path / "model"))
    assert "has 1000 embedding rows, but its tokenizer has 2000 tokens" in line


def test_a_slow_tokenizer_only_says_how_to_save_a_fast_one(run_cli, checkpoint, tiny_shards, raw_text, tmp_path):
    from transformers import BertTokenizer

    # The checkpoint's tokenizer saved as BERT's slow files (vocab.txt) only.
    vocab = json.loads((checkpoint / "tokenizer.json").read_text(encoding="utf8"))["model"]["vocab"]
    (tmp_path / "vocab.txt").write_text("".join(piece + "\n" for piece in sorted(vocab, key=vocab.get)), encoding="utf8")
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (checkpoint / name).unlink()
    BertTokenizer(str(tmp_path / "vocab.txt")).save_pretrained(checkpoint)
    assert not (checkpoint / "tokenizer.json").exists()
    for args in (["encode", checkpoint, tmp_path / "shards", raw_text],
                 ["pretrain", MLM_CONFIG, tmp_path / "model", "--paths.train", tiny_shards, "--paths.init_from", checkpoint]):
        line = one_error(*run_cli(*args))
        assert f"The tokenizer at {checkpoint} is a slow tokenizer (vocab.txt) without a tokenizer.json" in line
        assert ".save_pretrained(" in line
    assert not (tmp_path / "shards").exists() and not (tmp_path / "model").exists()


def test_a_checkpoint_saved_without_a_tokenizer_takes_the_configured_one(run_cli, tiny_encoder_dir, tiny_tokenizer_dir,
                                                                        tiny_shards, tmp_path):
    checkpoint = tmp_path / "weights_only"
    checkpoint.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_encoder_dir / name, checkpoint / name)
    line = one_error(*pretrain_from(run_cli, checkpoint, tiny_shards, tmp_path / "model"))
    assert "has no tokenizer: set [paths] tokenizer to the one it was trained with" in line
    code, output = pretrain_from(run_cli, checkpoint, tiny_shards, tmp_path / "model", "--paths.tokenizer", tiny_tokenizer_dir)
    assert code == 0, output
    assert (tmp_path / "model" / "tokenizer.json").is_file()
