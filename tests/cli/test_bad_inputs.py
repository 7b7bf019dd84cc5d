"""Issue 12: bad inputs a new user gives, through the CLI. Each gives one error line that
names the file, exit code 1, and writes nothing; no command destroys files it did not
make."""
import json
import shutil
from pathlib import Path

import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_wv.outputs import marker_file

from .conftest import one_error

REPO = Path(__file__).resolve().parents[2]
MLM_CONFIG = REPO / "configs" / "pretrain_mlm.cfg"


def snapshot(directory: Path) -> dict:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def listing(directory: Path) -> list:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def encoder_copy(tiny_encoder_dir, tmp_path) -> Path:
    """A Hugging Face model directory (config.json, weights, tokenizer files) to protect."""
    out = tmp_path / "encoder"
    shutil.copytree(tiny_encoder_dir, out)
    return out


@pytest.fixture
def spacy_pipeline(tmp_path) -> Path:
    import spacy

    out = tmp_path / "pipeline"
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(out)
    return out


@pytest.fixture
def raw_text(data_dir, tmp_path) -> Path:
    out = tmp_path / "raw.txt"
    out.write_text((data_dir / "reuters21578" / "reut2-002.txt").read_text(encoding="utf8")[:60_000], encoding="utf8")
    return out


# 1, 3, 4: commands never write into another command's output, --overwrite or not.

def test_tokenizer_refuses_a_model_directory_and_leaves_it_whole(run_cli, encoder_copy, raw_text):
    before = snapshot(encoder_copy)
    line = one_error(*run_cli("tokenizer", encoder_copy, raw_text, "--vocab-size", 500))
    assert str(encoder_copy) in line and "a Hugging Face model" in line and "not a tokenizer made by" in line
    assert snapshot(encoder_copy) == before


def test_tokenizer_replaces_its_own_output(run_cli, raw_text, tmp_path):
    out = tmp_path / "tok"
    assert run_cli("tokenizer", out, raw_text, "--vocab-size", 500)[0] == 0
    assert marker_file(out, "tokenizer").is_file()
    assert run_cli("tokenizer", out, raw_text, "--vocab-size", 600)[0] == 0
    assert json.loads((out / "tokenizer.json").read_text(encoding="utf8"))["model"]["vocab"].__len__() == 600
    assert listing(tmp_path) == ["raw.txt", "tok"]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_encode_never_replaces_a_spacy_pipeline(run_cli, tiny_tokenizer_dir, spacy_pipeline, raw_text, overwrite):
    before = snapshot(spacy_pipeline)
    line = one_error(*run_cli("encode", tiny_tokenizer_dir, spacy_pipeline, raw_text, *overwrite))
    assert "a spaCy pipeline" in line and "pass --overwrite" not in line
    assert snapshot(spacy_pipeline) == before


def test_encode_overwrite_replaces_only_shards(run_cli, tiny_tokenizer_dir, raw_text, tmp_path):
    out = tmp_path / "shards"
    other_tokenizer = tmp_path / "tok"
    assert run_cli("tokenizer", other_tokenizer, raw_text, "--vocab-size", 500)[0] == 0
    assert run_cli("encode", other_tokenizer, out, raw_text)[0] == 0
    line = one_error(*run_cli("encode", tiny_tokenizer_dir, out, raw_text))
    assert "holds shards of another tokenizer" in line and "--overwrite" in line
    assert run_cli("encode", tiny_tokenizer_dir, out, raw_text, "--overwrite")[0] == 0


@pytest.mark.parametrize("target", ["spacy_pipeline", "encoder_copy"])
def test_vectors_export_refuses_foreign_directories_before_loading(run_cli, tiny_encoder_dir, raw_text, target, request):
    directory = request.getfixturevalue(target)
    before = snapshot(directory)
    line = one_error(*run_cli("vectors", "export", tiny_encoder_dir, directory, raw_text))
    assert str(directory) in line and "not vectors made by" in line
    assert snapshot(directory) == before


# 2: data provenance.

def test_pretrain_refuses_shards_of_another_tokenizer_of_the_same_size(run_cli, data_dir, tmp_path):
    texts = []
    for i, name in enumerate(["reut2-003.txt", "reut2-004.txt"]):
        texts.append(tmp_path / f"text{i}.txt")
        texts[-1].write_text((data_dir / "reuters21578" / name).read_text(encoding="utf8")[:80_000], encoding="utf8")
    for i, text in enumerate(texts):
        assert run_cli("tokenizer", tmp_path / f"tok{i}", text, "--vocab-size", 700)[0] == 0
    assert run_cli("encode", tmp_path / "tok0", tmp_path / "shards", texts[0])[0] == 0
    out = tmp_path / "model"
    line = one_error(*run_cli("pretrain", MLM_CONFIG, out, "--paths.train", tmp_path / "shards",
                              "--paths.tokenizer", tmp_path / "tok1"))
    assert "encoded with another tokenizer" in line and str(tmp_path / "tok0") in line
    assert not out.exists()


def test_truncated_and_corrupt_shards_are_refused(run_cli, tiny_shards, tiny_tokenizer_dir, tmp_path):
    from spacy_wv.corpus.shards import ShardReader
    from spacy_wv.errors import UserError

    shards = tmp_path / "shards"
    shutil.copytree(tiny_shards, shards)
    first = shards / "shard_00000.bin"
    data = first.read_bytes()
    first.write_bytes(data[:-2])
    with pytest.raises(UserError, match="truncated"):
        ShardReader(shards)
    first.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    with pytest.raises(UserError, match="corrupt"):
        ShardReader(shards)
    (shards / "meta.json").write_text("{not json", encoding="utf8")
    line = one_error(*run_cli("pretrain", MLM_CONFIG, tmp_path / "model", "--paths.train", shards,
                              "--paths.tokenizer", tiny_tokenizer_dir))
    assert "meta.json is not valid shard metadata" in line
    assert not (tmp_path / "model").exists()


# 6: one line instead of a traceback.

@pytest.mark.parametrize("command,content", [
    ("conll", b"EU B-ORG\nrejects O\nGerman\xe9 B-MISC\n"),
    ("labeled", b"1 a fine film\n0 a dull caf\xe9 film\n"),
    ("spans", b'{"text": "Paris", "entities": [[0, 5, "LOC"]]}\n{"text": "caf\xe9"}\n'),
])
def test_converters_name_the_line_that_is_not_utf8(run_cli, tmp_path, command, content):
    source = tmp_path / "input.txt"
    source.write_bytes(content)
    line = one_error(*run_cli("convert", command, source, tmp_path / "out.spacy"))
    assert f"{source}:" in line and "not valid UTF-8" in line
    assert listing(tmp_path) == ["input.txt"]


@pytest.mark.parametrize("make_output,message", [
    (lambda tmp: tmp / "input.txt", "is a file"),                     # an output dir that is a file
    (lambda tmp: tmp / "input.txt" / "sub", "is a file, not a directory"),  # under a file
])
def test_output_directories_that_cannot_be_made_are_refused_first(run_cli, tiny_tokenizer_dir, raw_text, tmp_path,
                                                                  make_output, message):
    (tmp_path / "input.txt").write_text("Some text.\n", encoding="utf8")
    out = make_output(tmp_path)
    for args in (["tokenizer", out, raw_text, "--vocab-size", 500], ["encode", tiny_tokenizer_dir, out, raw_text],
                 ["report", out, "--ner", f"x,{raw_text}"]):
        line = one_error(*run_cli(*args))
        assert message in line and str(tmp_path / "input.txt") in line
    assert (tmp_path / "input.txt").read_text(encoding="utf8") == "Some text.\n"


def test_converter_output_that_is_a_directory_is_refused_before_converting(run_cli, data_dir, tmp_path):
    line = one_error(*run_cli("convert", "conll", data_dir / "conll2003" / "eng.testa", tmp_path))
    assert "is a directory" in line


def test_unigram_vocabulary_smaller_than_the_characters(run_cli, tmp_path):
    source = tmp_path / "chars.txt"
    source.write_text("abcdefghij klmnop qrstuv wxyz äöü éèê 東京 日本\n", encoding="utf8")
    line = one_error(*run_cli("tokenizer", tmp_path / "tok", source, "--kind", "unigram", "--vocab-size", 10))
    assert "not large enough to contain all chars" in line and "--vocab-size" in line
    assert listing(tmp_path) == ["chars.txt"]


@pytest.mark.parametrize("content,message", [("", "not a valid tokenizer file"), ("{}", "not a valid tokenizer file")])
def test_corrupt_tokenizer_json(run_cli, raw_text, tmp_path, content, message):
    tokenizer = tmp_path / "tok"
    tokenizer.mkdir()
    (tokenizer / "tokenizer.json").write_text(content, encoding="utf8")
    line = one_error(*run_cli("encode", tokenizer, tmp_path / "shards", raw_text))
    assert message in line and str(tokenizer / "tokenizer.json") in line
    assert not (tmp_path / "shards").exists()


def test_pretrain_with_an_empty_tokenizer_directory_says_so(run_cli, tiny_shards, tmp_path):
    (tmp_path / "tok").mkdir()
    line = one_error(*run_cli("pretrain", MLM_CONFIG, tmp_path / "model", "--paths.train", tiny_shards,
                              "--paths.tokenizer", tmp_path / "tok"))
    assert "No tokenizer at" in line and "protobuf" not in line.lower()


def test_vectors_export_with_a_corrupt_config_json(run_cli, encoder_copy, raw_text, tmp_path):
    (encoder_copy / "config.json").write_text('{"model_type": "bert",', encoding="utf8")
    line = one_error(*run_cli("vectors", "export", encoder_copy, tmp_path / "vectors", raw_text))
    assert str(encoder_copy) in line
    assert not (tmp_path / "vectors").exists()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"ents_f": 0.5}', "{}"])
def test_report_with_malformed_json(run_cli, tmp_path, content):
    source = tmp_path / "eval.json"
    source.write_text(content, encoding="utf8")
    line = one_error(*run_cli("report", tmp_path / "metrics", "--ner", f"ours,{source}"))
    assert str(source) in line
    assert not (tmp_path / "metrics").exists()


def test_latin1_input_is_not_called_an_empty_corpus(run_cli, tmp_path):
    source = tmp_path / "latin1.txt"
    source.write_bytes("Le café était fermé.\n\nNaïve façade.\n".encode("latin-1"))
    line = one_error(*run_cli("tokenizer", tmp_path / "tok", source))
    assert "not valid UTF-8" in line and "empty corpus" not in line


# 7, 11: settings checked before anything is written.

@pytest.mark.parametrize("override,message", [
    (["--training.seed", "-1"], "seed must be an integer from 0"),
    (["--paths.trian", "x"], "did you mean --paths.train?"),
    (["--encoder.widht", "64"], "did you mean --encoder.width?"),
])
def test_pretrain_settings_are_checked_before_writing(run_cli, tiny_shards, tiny_tokenizer_dir, tmp_path, override, message):
    out = tmp_path / "model"
    line = one_error(*run_cli("pretrain", MLM_CONFIG, out, "--paths.train", tiny_shards,
                              "--paths.tokenizer", tiny_tokenizer_dir, *override))
    assert message in line
    assert not out.exists()


# 9, 10, 11: converters count what they skip; nothing vanishes silently.

def test_unlabelled_line_is_an_error_even_with_a_label_map(run_cli, data_dir, tmp_path):
    source = tmp_path / "sst2.txt"
    lines = (data_dir / "sst2" / "dev.txt").read_text(encoding="utf8").splitlines()[:40]
    source.write_text("\n".join(lines[:20] + ["a line someone forgot to label"] + lines[20:]) + "\n", encoding="utf8")
    out = tmp_path / "out.spacy"
    line = one_error(*run_cli("convert", "labeled", source, out, "--label-map", "0=negative,1=positive"))
    assert f"{source}:21" in line and "unlabelled" in line and "--skip-unlabelled" in line
    assert not out.exists()
    code, output = run_cli("convert", "labeled", source, out, "--label-map", "0=negative,1=positive", "--skip-unlabelled")
    assert code == 0 and f"Skipped 1 unlabelled line(s) of {source} (line 21)" in " ".join(output.split())
    docs = list(DocBin().from_disk(out).get_docs(Vocab()))
    assert len(docs) == 40 and set(docs[0].cats) == {"negative", "positive"}


@pytest.mark.parametrize("bad_line", ["rejects B-", "rejects", "rejects X-ORG"])
def test_conll_malformed_tag_stops_or_drops_the_whole_sentence(run_cli, tmp_path, bad_line):
    source = tmp_path / "bad.conll"
    source.write_text(f"EU B-ORG\n{bad_line}\nGerman B-MISC\ncall O\n\nPeter B-PER\nBlackburn I-PER\n", encoding="utf8")
    out = tmp_path / "out.spacy"
    line = one_error(*run_cli("convert", "conll", source, out))
    assert f"{source}:2" in line and "--skip-malformed" in line
    assert not out.exists()
    code, output = run_cli("convert", "conll", source, out, "--skip-malformed")
    assert code == 0
    assert f"Skipped 1 malformed line(s) of {source} (line 2); dropped 1 sentence(s) (4 tokens)" in " ".join(output.split())
    docs = list(DocBin().from_disk(out).get_docs(Vocab()))
    assert [t.text for doc in docs for t in doc] == ["Peter", "Blackburn"]


def test_convert_spans_counts_empty_labels_and_bad_lines(run_cli, tmp_path):
    source = tmp_path / "spans.jsonl"
    source.write_text("\n".join([
        json.dumps({"text": "Angela Merkel visited Paris .", "entities": [[0, 13, "PER"], [22, 27, ""]]}),
        json.dumps({"text": 5, "entities": []}),
        json.dumps({"text": "Berlin is big .", "entities": [[0, 6, "LOC"]]}),
    ]) + "\n", encoding="utf8")
    out = tmp_path / "out.spacy"
    code, output = run_cli("convert", "spans", source, out)
    output = " ".join(output.split())
    assert code == 0, output
    assert "1 span(s) with an empty label" in output and f"Skipped 1 unreadable line(s) of {source} (line 2)" in output
    docs = list(DocBin().from_disk(out).get_docs(Vocab()))
    saved = sum(len(doc.ents) for doc in docs)
    assert saved == 2 and "2 docs, 2 entities" in output


def test_vectors_evaluate_refuses_a_foreign_output_dir_before_loading(run_cli, spacy_pipeline, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("cat\tdog\t7\n", encoding="utf8")
    before = snapshot(spacy_pipeline)
    line = one_error(*run_cli("vectors", "evaluate", pairs, "--similarity", pairs, "--output-dir", spacy_pipeline))
    assert "a spaCy pipeline" in line and "not results made by" in line
    assert snapshot(spacy_pipeline) == before


def test_train_tokenizer_takes_one_str_path_as_one_input(raw_text, tmp_path):
    from spacy_wv.corpus.text import ReadStats
    from spacy_wv.corpus.tokenizer_training import train_tokenizer

    stats = ReadStats()
    train_tokenizer(str(raw_text), tmp_path / "tok", vocab_size=400, stats=stats)
    assert stats.files_read == 1 and stats.bytes_read == raw_text.stat().st_size


def test_an_unwritable_output_location_is_refused_first(run_cli, monkeypatch, raw_text, tmp_path):
    """Tests run as root, for whom every directory is writable: os.access stands in."""
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr("spacy_wv.outputs.os.access",
                        lambda path, mode: False if Path(path) == locked else real_access(path, mode))
    for args in (["tokenizer", locked / "tok", raw_text], ["convert", "conll", raw_text, locked / "out.spacy"]):
        line = one_error(*run_cli(*args))
        assert f"Cannot write to {locked} (permission denied)" in line
    assert list(locked.iterdir()) == []
