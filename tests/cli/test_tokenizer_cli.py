from transformers import AutoTokenizer
from typer.testing import CliRunner

from spacy_wv.cli import app

from .conftest import one_error


def test_tokenizer_command_trains_and_saves(data_dir, tmp_path):
    out = tmp_path / "tok"
    result = CliRunner().invoke(app, [
        "tokenizer", str(out), str(data_dir / "brown" / "brown_cr.txt"), str(data_dir / "us_speeches" / "inaugural"),
        "--kind", "bpe", "--vocab-size", "700", "--cased", "--min-frequency", "3", "--max-mb", "0.3",
    ])
    assert result.exit_code == 0, result.output
    assert "Trained a bpe tokenizer of 700 tokens" in " ".join(result.output.split())
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.is_fast and len(tok) == 700
    assert tok.tokenize("The") != tok.tokenize("the")  # --cased


def test_bad_input_prints_one_message_and_exits_1(run_cli, data_dir, tmp_path):
    for args, message in [
        ((tmp_path / "tok", tmp_path / "missing.txt"), "Input not found"),
        ((tmp_path / "tok", data_dir / "brown" / "brown_cr.txt", "--kind", "sentencepiece"), "Unknown tokenizer kind"),
    ]:
        assert message in one_error(*run_cli("tokenizer", *args))
    assert list(tmp_path.iterdir()) == []
