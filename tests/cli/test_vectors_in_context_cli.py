import json

import numpy
import pytest
import spacy

from spacy_wv.vectors.wordvectors import WordVectors


@pytest.fixture(scope="module")
def corpus(text_slice, tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    path.write_text(text_slice.read_text(encoding="utf8")[:30_000], encoding="utf8")
    return path


@pytest.fixture(scope="module")
def wic_slice(data_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("slice") / "wic"
    folder.mkdir()
    for split, n in (("train", 40), ("dev", 20)):
        lines = (data_dir / "wic" / f"{split}.jsonl").read_text(encoding="utf8").splitlines()[:n]
        (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf8")
    return folder


@pytest.fixture(scope="module")
def pipeline(tiny_encoder_dir, tmp_path_factory):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(tiny_encoder_dir),
                                                  "tokenizer_config": {"use_fast": True}, "transformer_config": {"output_hidden_states": True}}})
    nlp.add_pipe("wv_vectors", config={"layers": [0, 1, 2]})
    nlp.initialize()
    path = tmp_path_factory.mktemp("pipeline") / "nlp"
    nlp.to_disk(path)
    return path


def test_export_records_pooled_words_and_every_word_gets_a_vector(run_cli, tiny_encoder_dir, corpus, tmp_path):
    code, out = run_cli("vectors", "export", tiny_encoder_dir, tmp_path / "vectors", corpus, "--n-words", 200, "--contexts", 3)
    assert code == 0, out
    assert "pooled from contexts" in out
    report = json.loads((tmp_path / "vectors" / "export.json").read_text())
    assert report["pooled_words"] == 200 and report["composed_words"] == [] and report["settings"]["layers"] == [0, 1, 2]
    vectors = WordVectors.load(tmp_path / "vectors")
    word = vectors.table.words[0]
    assert vectors.origin(word) == "pooled" and vectors.origin("Zebroidification") == "oov"
    assert "Zebroidification" in vectors and "misspeled" in vectors
    assert numpy.isfinite(vectors["Zebroidification"]).all() and numpy.linalg.norm(vectors["misspeled"]) > 0
    assert numpy.allclose(vectors[word], vectors.table.table[0])


def test_evaluate_in_context_and_contextual_analogy_apart(run_cli, tiny_encoder_dir, corpus, pipeline, wic_slice, data_dir, tmp_path):
    code, out = run_cli("vectors", "export", tiny_encoder_dir, tmp_path / "vectors", corpus, "--n-words", 300, "--contexts", 2)
    assert code == 0, out
    questions = tmp_path / "questions.txt"
    questions.write_text(": capital-common-countries\nthe of and in\nthe of in and\n: gram1\nand or the in\n", encoding="utf8")
    code, out = run_cli("vectors", "evaluate", tmp_path / "vectors", pipeline, "--names", "static,contextual",
                        "--similarity", data_dir / "wordsim" / "ws353_all.tsv", "--analogy", questions,
                        "--in-context", wic_slice / "dev.jsonl", "--in-context-train", wic_slice / "train.jsonl", "--output-dir", tmp_path / "eval")
    assert code == 0, out
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    static, contextual = results["vectors"]["static"], results["vectors"]["contextual"]
    assert contextual["in_context"]["wic_dev"]["coverage"] == 1.0 and 0 <= contextual["in_context"]["wic_dev"]["accuracy"] <= 1
    assert contextual["in_context"]["wic_dev"]["threshold_fitted_on"] == "wic_train"
    # Words outside the exported table are composed: every WS353 pair is covered.
    assert static["similarity"]["ws353_all"]["coverage"] == 1.0
    # Issue 12, item 8: contextual analogy ranks only the question words; it is printed
    # in its own table, and the static table shows n/a for the contextual column.
    assert "wic_dev acc (in context)" in out and "not comparable" in out
    main_table = out[: out.index("Contextual analogy")]
    overall = next(line for line in main_table.splitlines() if line.startswith("analogy 3CosAdd overall"))
    assert overall.split()[-1] == "n/a" and overall.split()[-2] != "n/a"
    assert "(contextual: question-file words only)" in out[out.index("Contextual analogy"):]
    assert (tmp_path / "eval" / "results.png").read_bytes().startswith(b"\x89PNG")


def test_nan_vectors_are_an_error_not_zero_coverage(run_cli, tmp_path):
    (tmp_path / "nan.txt").write_text("2 2\nthe 1 2\nof nan 3\n", encoding="utf8")
    (tmp_path / "pairs.tsv").write_text("the\tof\t3\n", encoding="utf8")
    code, out = run_cli("vectors", "evaluate", tmp_path / "nan.txt", "--similarity", tmp_path / "pairs.tsv")
    assert code == 1 and "NaN or infinite" in out and "'of'" in out and "Traceback" not in out


def test_bad_in_context_file_is_one_line(run_cli, tmp_path, pipeline):
    (tmp_path / "pairs.jsonl").write_text('{"context1": "a b", "context2": "c d", "start1": 0, "end1": 1, "start2": 0, "label": 1}\n', encoding="utf8")
    (tmp_path / "good.txt").write_text("2 2\na 1 2\nb 1 3\n", encoding="utf8")
    code, out = run_cli("vectors", "evaluate", tmp_path / "good.txt", "--in-context", tmp_path / "pairs.jsonl")
    assert code == 1 and "pairs.jsonl:1: missing end2" in " ".join(out.split())
