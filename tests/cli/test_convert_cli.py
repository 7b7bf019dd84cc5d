from spacy.tokens import DocBin
from spacy.vocab import Vocab

from .conftest import one_error


def test_convert_conll_and_labeled_cli(run_cli, data_dir, tmp_path):
    out = tmp_path / "wikiann.spacy"
    code, output = run_cli("convert", "conll", data_dir / "wikiann_en" / "dev.txt", out, "--n-sents", 5, "--token-prefix", "en:", "--max-docs", 10)
    assert code == 0, output
    docs = list(DocBin().from_disk(out).get_docs(Vocab()))
    assert len(docs) == 10 and not docs[0][0].text.startswith("en:")
    out = tmp_path / "sst2.spacy"
    code, output = run_cli("convert", "labeled", data_dir / "sst2" / "dev.txt", out, "--label-map", "0=negative,1=positive")
    assert code == 0, output
    assert "negative 428" in output


def test_bad_input_is_one_line_without_traceback(run_cli, tmp_path):
    assert "not found" in one_error(*run_cli("convert", "conll", tmp_path / "missing.conll", tmp_path / "out.spacy"))
