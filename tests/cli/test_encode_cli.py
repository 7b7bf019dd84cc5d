import subprocess
import sys

from typer.testing import CliRunner

from spacy_wv.cli import app
from spacy_wv.corpus.shards import ShardReader


def test_encode_command_writes_shards(tiny_tokenizer_dir, data_dir, tmp_path):
    out = tmp_path / "shards"
    result = CliRunner().invoke(app, [
        "encode", str(tiny_tokenizer_dir), str(out), str(data_dir / "us_speeches" / "inaugural"),
        "--shard-tokens", "50000", "--batch-size", "16",
    ])
    assert result.exit_code == 0, result.output
    reader = ShardReader(out)
    assert len(reader.arrays) > 1
    assert reader.meta["n_docs"] == sum(int((a == reader.doc_sep_id).sum()) for a in reader.arrays)
    output = " ".join(result.output.split())
    assert f"Wrote {reader.n_tokens:,} tokens" in output and "MB/s" in output and "tokens/s" in output


def test_encode_errors_print_one_message_and_exit_1(tiny_tokenizer_dir, tmp_path):
    (tmp_path / "empty.txt").write_text("\n", encoding="utf8")
    for args, message in [
        ((tmp_path / "no_tokenizer", tmp_path / "shards", tmp_path / "empty.txt"), "No tokenizer"),
        ((tiny_tokenizer_dir, tmp_path / "shards", tmp_path / "empty.txt"), "empty corpus"),
    ]:
        result = subprocess.run([sys.executable, "-m", "spacy_wv", "encode", *map(str, args)], capture_output=True, text=True)
        assert result.returncode == 1
        assert "Traceback" not in result.stdout + result.stderr
        assert message in " ".join(result.stdout.split())
    assert not (tmp_path / "shards").exists()


def test_task_text_errors_are_one_line(run_cli, tiny_tokenizer_dir, data_dir, tmp_path):
    """The inputs of task-adaptive pretraining: a missing .spacy file, one that is no
    DocBin, and one without docs each stop `encode` with one line, nothing written."""
    from spacy.tokens import DocBin

    from .conftest import one_error

    not_docbin = tmp_path / "train.spacy"
    not_docbin.write_bytes((data_dir / "conll2003" / "eng.train").read_bytes()[:2000])
    empty = tmp_path / "empty.spacy"
    DocBin().to_disk(empty)
    for source, message in [(tmp_path / "missing.spacy", "Input not found: "), (not_docbin, "is not a spaCy DocBin"),
                            (empty, "empty corpus: no readable text in ")]:
        line = one_error(*run_cli("encode", tiny_tokenizer_dir, tmp_path / "shards", source))
        assert message in line and source.name in line
    assert not (tmp_path / "shards").exists()
