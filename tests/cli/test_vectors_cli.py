import json

import pytest
import spacy
from gensim.models import KeyedVectors


@pytest.fixture(scope="module")
def corpus(text_slice, tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    path.write_text(text_slice.read_text(encoding="utf8")[:30_000], encoding="utf8")
    return path


def test_export_then_evaluate(run_cli, tiny_encoder_dir, corpus, data_dir, tmp_path):
    code, out = run_cli("vectors", "export", tiny_encoder_dir, tmp_path / "vectors", corpus,
                        "--n-words", 300, "--contexts", 2, "--layers", "1,2", "--lowercase", "--remove-pcs", 1)
    assert code == 0, out
    assert "words/s" in out
    assert spacy.load(tmp_path / "vectors").vocab.vectors.shape == (300, 64)
    keyed = KeyedVectors.load_word2vec_format(str(tmp_path / "vectors" / "vectors.w2v.txt"))
    assert len(keyed.index_to_key) == 300 and all(word == word.lower() for word in keyed.index_to_key)
    assert json.loads((tmp_path / "vectors" / "export.json").read_text())["settings"]["layers"] == [1, 2]

    frequent = tmp_path / "frequent.tsv"
    frequent.write_text("the\tof\t5\nthe\ta\t7\nand\tor\t8\nof\tin\t4\nno-such-word\tthe\t1\n", encoding="utf8")
    code, out = run_cli("vectors", "evaluate", tmp_path / "vectors", tmp_path / "vectors" / "vectors.w2v.txt",
                        "--similarity", data_dir / "wordsim" / "ws353_all.tsv", "--similarity", frequent, "--analogy", data_dir / "analogy" / "questions-words.txt",
                        "--names", "ours-spacy,ours-w2v", "--output-dir", tmp_path / "eval")
    assert code == 0, out
    assert "ws353_all rho" in out and "skipped" in out
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    spacy_scores, w2v_scores = (results["vectors"][name] for name in ("ours-spacy", "ours-w2v"))
    # The export dir composes words outside its table (no-such-word); the bare word2vec file cannot.
    assert spacy_scores["similarity"]["frequent"]["covered"] == 5 and w2v_scores["similarity"]["frequent"]["covered"] == 4
    assert spacy_scores["similarity"]["ws353_all"]["pairs"] == 353
    assert (tmp_path / "eval" / "results.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("args, message", [
    (["vectors", "export", "{missing}", "{out}", "{corpus}"], "Not an encoder dir"),
    (["vectors", "export", "{encoder}", "{out}", "{missing}"], "Input not found"),
    (["vectors", "export", "{encoder}", "{out}", "{corpus}", "--layer", "1", "--layers", "1,2"], "not both"),
    (["vectors", "export", "{encoder}", "{out}", "{corpus}", "--pooling", "median"], "Unknown pooling"),
    (["vectors", "evaluate", "{bad_vectors}", "--similarity", "{pairs}"], "bad.txt:3: expected a word and 2 values, found 1"),
    (["vectors", "evaluate", "{bad_vectors}"], "Nothing to evaluate"),
    (["vectors", "evaluate", "{bad_vectors}", "--similarity", "{pairs}", "--names", "a,b"], "--names has 2 names for 1"),
    (["vectors", "evaluate", "{good_vectors}", "--similarity", "{bad_pairs}"], "no valid"),
])
def test_errors_are_one_line_and_exit_1(run_cli, tmp_path, tiny_encoder_dir, corpus, args, message):
    (tmp_path / "bad.txt").write_text("2 2\na 1 2\nb 1\n", encoding="utf8")
    (tmp_path / "good.txt").write_text("2 2\na 1 2\nb 1 3\n", encoding="utf8")
    (tmp_path / "pairs.tsv").write_text("a\tb\t3\n", encoding="utf8")
    (tmp_path / "bad_pairs.tsv").write_text("a b 3\n", encoding="utf8")
    paths = {"missing": tmp_path / "nope", "out": tmp_path / "out", "corpus": corpus, "encoder": tiny_encoder_dir,
             "bad_vectors": tmp_path / "bad.txt", "good_vectors": tmp_path / "good.txt", "pairs": tmp_path / "pairs.tsv", "bad_pairs": tmp_path / "bad_pairs.tsv"}
    code, out = run_cli(*(arg.format(**paths) for arg in args))
    assert code == 1
    # One message (wasabi may wrap it at the terminal width), printed last.
    assert out.count("✘") == 1 and message in " ".join(out[out.index("✘"):].split())
    assert "Traceback" not in out
    assert not (tmp_path / "out").exists()
