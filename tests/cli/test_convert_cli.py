import subprocess
import sys

from spacy.tokens import DocBin
from spacy.vocab import Vocab


def _run(*args):
    return subprocess.run([sys.executable, "-m", "spacy_wv", "convert", *map(str, args)], capture_output=True, text=True)


def test_convert_conll_and_labeled_cli(data_dir, tmp_path):
    out = tmp_path / "wikiann.spacy"
    result = _run("conll", data_dir / "wikiann_en" / "dev.txt", out, "--n-sents", 5, "--token-prefix", "en:", "--max-docs", 10)
    assert result.returncode == 0, result.stderr
    docs = list(DocBin().from_disk(out).get_docs(Vocab()))
    assert len(docs) == 10 and not docs[0][0].text.startswith("en:")
    out = tmp_path / "sst2.spacy"
    result = _run("labeled", data_dir / "sst2" / "dev.txt", out, "--label-map", "0=negative,1=positive")
    assert result.returncode == 0, result.stderr
    assert "negative 428" in result.stdout


def test_bad_input_is_one_line_without_traceback(tmp_path):
    result = _run("conll", tmp_path / "missing.conll", tmp_path / "out.spacy")
    assert result.returncode == 1
    assert "not found" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
