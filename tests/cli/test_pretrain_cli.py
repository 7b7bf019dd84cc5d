from pathlib import Path

from typer.testing import CliRunner

from spacy_wv.cli import app

from .conftest import one_error

REPO = Path(__file__).resolve().parents[2]
MLM_CONFIG = REPO / "configs" / "pretrain_mlm.cfg"


def test_help_shows_the_command_form():
    result = CliRunner().invoke(app, ["pretrain", "--help"])
    assert result.exit_code == 0
    text = result.output.lower()
    assert "config_path" in text and "output_dir" in text and "--allow-config-change" in text


def test_bad_config_value_is_one_line_without_traceback_and_writes_nothing(run_cli, tmp_path, tiny_tokenizer_dir):
    out = tmp_path / "encoder"
    line = one_error(*run_cli("pretrain", MLM_CONFIG, out, "--paths.tokenizer", tiny_tokenizer_dir, "--optimizer.lr", "-0.1"))
    assert "lr must be positive" in line
    assert not out.exists()


def test_missing_shards_are_reported_before_anything_is_written(tmp_path, tiny_tokenizer_dir):
    out = tmp_path / "encoder"
    result = CliRunner().invoke(app, ["pretrain", str(MLM_CONFIG), str(out), "--paths.train", str(tmp_path / "no_shards"),
                                      "--paths.tokenizer", str(tiny_tokenizer_dir)])
    assert result.exit_code != 0
    assert "No token shards" in str(result.exception)
    assert not out.exists()
