"""Issue 12: bad inputs a new user gives, through the CLI. Each gives one error line that
names the file, exit code 1, and writes nothing; no command destroys files it did not
make."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_wv.outputs import marker_file

from ..pretraining.conftest import as_cli_args, tiny_overrides
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


# Issue 22: the output rules of `spacy_wv.outputs`, command by command.

WEIBO_LINES = "科0\tB-ORG.NAM\n技1\tI-ORG.NAM\n好0\tO\n\n北0\tB-GPE.NAM\n京1\tI-GPE.NAM\n\n"
TNEWS_LINES = "\n".join(json.dumps({"label_desc": label, "sentence": text}, ensure_ascii=False) for label, text in
                        [("news_story", "孩子跟谁睡"), ("news_culture", "文化新闻"), ("news_story", "一个故事")]) + "\n"
CONVERTER_INPUTS = {
    "conll": "EU B-ORG\nrejects O\nGerman B-MISC\n\nPeter B-PER\n",
    "labeled": "1 a fine film\n0 a dull film\n",
    "spans": json.dumps({"text": "Paris is big", "entities": [[0, 5, "LOC"]]}) + "\n",
    "weibo": WEIBO_LINES,
    "tnews": TNEWS_LINES,
}


@pytest.mark.parametrize("command", list(CONVERTER_INPUTS))
def test_converters_refuse_to_write_over_their_input(run_cli, tmp_path, command):
    dataset = tmp_path / "data.txt"
    dataset.write_text(CONVERTER_INPUTS[command], encoding="utf8")
    line = one_error(*run_cli("convert", command, dataset, dataset))
    assert f"The output {dataset} is the input {dataset}" in line
    assert dataset.read_text(encoding="utf8") == CONVERTER_INPUTS[command]
    assert listing(tmp_path) == ["data.txt"]


@pytest.mark.parametrize("command", list(CONVERTER_INPUTS))
def test_converters_replace_a_doc_bin_but_no_other_file(run_cli, tmp_path, command):
    dataset = tmp_path / "data.txt"
    dataset.write_text(CONVERTER_INPUTS[command], encoding="utf8")
    notes = tmp_path / "notes.spacy"
    notes.write_text("My notes\nline 2\n", encoding="utf8")
    line = one_error(*run_cli("convert", command, dataset, notes))
    assert f"{notes} exists and is not a spaCy DocBin (.spacy) file" in line
    assert notes.read_text(encoding="utf8") == "My notes\nline 2\n"
    out = tmp_path / "out.spacy"
    assert run_cli("convert", command, dataset, out)[0] == 0
    assert run_cli("convert", command, dataset, out)[0] == 0  # its own earlier output
    assert listing(tmp_path) == ["data.txt", "notes.spacy", "out.spacy"]


def test_fasttext_keeps_a_notes_file_and_its_input(run_cli, raw_text, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("My notes\nline 2\n", encoding="utf8")  # a first line with one space, like a header
    line = one_error(*run_cli("vectors", "fasttext", notes, raw_text, "--dim", 8, "--epochs", 1, "--workers", 1))
    assert f"{notes} exists and is not a word2vec text table" in line
    assert notes.read_text(encoding="utf8") == "My notes\nline 2\n"
    line = one_error(*run_cli("vectors", "fasttext", raw_text, raw_text, "--dim", 8))
    assert "is the input" in line


def test_fasttext_min_count_above_every_word_is_our_message(run_cli, raw_text, tmp_path):
    line = one_error(*run_cli("vectors", "fasttext", tmp_path / "ft.txt", raw_text, "--dim", 8, "--epochs", 1,
                              "--min-count", 100000, "--workers", 1))
    assert "No word occurs --min-count 100000 times" in line
    assert listing(tmp_path) == ["raw.txt"]


def test_tokenizer_keeps_a_downloaded_tokenizer_folder(run_cli, tiny_tokenizer_dir, raw_text, tmp_path):
    downloaded = tmp_path / "bert-base-cased"
    downloaded.mkdir()
    shutil.copy(tiny_tokenizer_dir / "tokenizer.json", downloaded)
    shutil.copy(tiny_tokenizer_dir / "special_tokens_map.json", downloaded)
    (downloaded / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer"}), encoding="utf8")
    (downloaded / "vocab.txt").write_text("[PAD]\n[UNK]\nthe\n", encoding="utf8")
    before = snapshot(downloaded)
    line = one_error(*run_cli("tokenizer", downloaded, raw_text, "--vocab-size", 500))
    assert "a tokenizer not made by `spacy_wv tokenizer`" in line
    assert snapshot(downloaded) == before


def test_pretrain_keeps_a_folder_with_an_edited_config_and_notes(run_cli, tiny_shards, tiny_tokenizer_dir, tmp_path):
    folder = tmp_path / "experiment"
    folder.mkdir()
    (folder / "pretrain.cfg").write_text(MLM_CONFIG.read_text(encoding="utf8") + "\n# my edit\n", encoding="utf8")
    (folder / "notes.md").write_text("# what I tried\n", encoding="utf8")
    before = snapshot(folder)
    line = one_error(*run_cli("pretrain", MLM_CONFIG, folder, *as_cli_args(tiny_overrides(
        tiny_shards, tiny_tokenizer_dir, **{"training.max_steps": 1}))))
    assert "not a pretraining run made by" in line
    assert snapshot(folder) == before


@pytest.mark.parametrize("command,user_file", [
    (lambda out, evaluation, pairs: ["report", out, "--ner", f"ours,{evaluation}"], "metrics.json"),
    (lambda out, evaluation, pairs: ["vectors", "evaluate", pairs, "--similarity", pairs, "--output-dir", out], "results.json"),
    (lambda out, evaluation, pairs: ["vectors", "export", "encoder", out, pairs], "export.json"),
])
def test_one_familiar_file_name_does_not_make_a_folder_ours(run_cli, tmp_path, command, user_file):
    evaluation, pairs = tmp_path / "eval.json", tmp_path / "pairs.txt"
    evaluation.write_text(json.dumps({"ents_p": 0.5, "ents_r": 0.5, "ents_f": 0.5, "ents_per_type": {}}), encoding="utf8")
    pairs.write_text("cat\tdog\t7\n", encoding="utf8")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / user_file).write_text('{"my": "numbers"}', encoding="utf8")
    line = one_error(*run_cli(*command(folder, evaluation, pairs)))
    assert user_file in line and "nothing was written" in line
    assert listing(folder) == [user_file]


def test_an_output_that_contains_an_input_is_refused(run_cli, tmp_path):
    """Our own earlier output, into which the user put the input of the next run."""
    evaluation = tmp_path / "eval.json"
    evaluation.write_text(json.dumps({"ents_p": 0.5, "ents_r": 0.5, "ents_f": 0.5, "ents_per_type": {}}), encoding="utf8")
    out = tmp_path / "metrics"
    assert run_cli("report", out, "--ner", f"ours,{evaluation}")[0] == 0
    moved = out / "eval.json"
    shutil.move(evaluation, moved)
    line = one_error(*run_cli("report", out, "--ner", f"ours,{moved}"))
    assert f"The output {out} contains the input {moved}" in line
    assert moved.is_file()


def test_an_output_inside_an_input_folder_is_refused(run_cli, tiny_tokenizer_dir, raw_text, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(raw_text, corpus)
    line = one_error(*run_cli("encode", tiny_tokenizer_dir, corpus / "shards", corpus))
    assert f"The output {corpus / 'shards'} lies inside the input {corpus}" in line
    assert listing(corpus) == ["raw.txt"]


def test_a_run_in_progress_locks_its_output(run_cli, raw_text, tmp_path):
    from spacy_wv.outputs import lock_file, output_lock

    out = tmp_path / "tok"
    with output_lock(out):
        line = one_error(*run_cli("tokenizer", out, raw_text, "--vocab-size", 500))
        assert f"Another run (PID {os.getpid()}) is writing {out}" in line
    assert run_cli("tokenizer", out, raw_text, "--vocab-size", 500)[0] == 0
    assert not lock_file(out).exists()


def test_a_killed_runs_lock_and_temporary_files_are_cleaned_up_by_the_next_run(run_cli, tiny_tokenizer_dir, raw_text, tmp_path):
    from spacy_wv.outputs import lock_file

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "shards"
    lock_file(out).write_text(f"{dead.pid}\n", encoding="utf8")
    leftover = tmp_path / ".shards.tmp-0123abcd"
    leftover.mkdir()
    (leftover / "shard_00000.bin").write_bytes(b"\0" * 1000)
    code, output = run_cli("encode", tiny_tokenizer_dir, out, raw_text, "--workers", 1)
    assert code == 0, output
    assert f"A run (PID {dead.pid}) ended without releasing" in " ".join(output.split())
    assert listing(tmp_path) == ["raw.txt", "shards"]


@pytest.mark.parametrize("command", ["fasttext", "export"])
def test_scratch_files_of_a_killed_run_lie_beside_the_output_and_go_with_the_next_run(
        tiny_encoder_dir, text_slice, tmp_path, command):
    """kill -9 runs no cleanup code: the scratch files must not be in /tmp, where no run
    would ever find them."""
    temp_root = tmp_path / "tmpdir"
    temp_root.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    if command == "fasttext":
        out = work / "ft.txt"
        args = ["vectors", "fasttext", out, text_slice, "--dim", 8, "--epochs", 1, "--workers", 1]
    else:
        out = work / "vectors"
        args = ["vectors", "export", tiny_encoder_dir, out, text_slice, "--n-words", 200, "--contexts", 2]
    env = {**os.environ, "TMPDIR": str(temp_root)}
    proc = subprocess.Popen([sys.executable, "-m", "spacy_wv", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not any(".tmp-" in p.name for p in work.iterdir()):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert list(temp_root.iterdir()) == []
    assert any(".tmp-" in name for name in listing(work))
    done = subprocess.run([sys.executable, "-m", "spacy_wv", *map(str, args)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert listing(work) == [out.name]


# Issue 22: silently wrong results.

@pytest.fixture
def gzipped_corpus(tmp_path):
    """3,200 short documents, gzipped, and a copy cut off two thirds of the way in."""
    import gzip
    import random

    rng = random.Random(0)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
    docs = [" ".join(rng.choice(words) + str(rng.randint(0, 999)) for _ in range(30)) for _ in range(3200)]
    packed = gzip.compress(("\n\n".join(docs) + "\n").encode("utf8"))
    whole, cut = tmp_path / "big.txt.gz", tmp_path / "cut.txt.gz"
    whole.write_bytes(packed)
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    return whole, cut


def test_tokenizer_reads_compressed_inputs_in_full(run_cli, gzipped_corpus, tmp_path):
    from spacy_wv.corpus.text import iter_documents

    for source in gzipped_corpus:
        encoded = sum(1 for _ in iter_documents([source]))  # what `encode` reads
        code, output = run_cli("tokenizer", tmp_path / "tok", source, "--vocab-size", 300)
        assert code == 0, output
        assert f"on {encoded} documents" in output
    assert encoded > 2000  # the cut copy: every document up to the last readable one


def test_tnews_empty_label_is_a_malformed_line(run_cli, tmp_path):
    source = tmp_path / "tnews.json"
    source.write_text(TNEWS_LINES + json.dumps({"label_desc": "", "sentence": "没有标签"}, ensure_ascii=False) + "\n", encoding="utf8")
    line = one_error(*run_cli("convert", "tnews", source, tmp_path / "out.spacy", "--strict"))
    assert f"{source}:4" in line and "empty 'label_desc'" in line
    code, output = run_cli("convert", "tnews", source, tmp_path / "out.spacy")
    assert code == 0 and "3 docs in 2 categories" in output
    docs = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(Vocab()))
    assert all("" not in doc.cats for doc in docs)


def test_vectors_export_refuses_a_segmenter_with_whitespace(run_cli, tiny_encoder_dir, raw_text, tmp_path):
    line = one_error(*run_cli("vectors", "export", tiny_encoder_dir, tmp_path / "vectors", raw_text,
                              "--segmenter", "jieba", "--whitespace"))
    assert "Give --whitespace or --segmenter, not both" in line
    assert listing(tmp_path) == ["raw.txt"]


@pytest.mark.parametrize("segmentation", [[], ["--whitespace"]])
def test_vectors_export_flags_chinese_text_cut_as_english(run_cli, tiny_encoder_dir, data_dir, tmp_path, segmentation):
    source = tmp_path / "zh.txt"
    source.write_text((data_dir / "zh_text" / "xwlb_09.txt").read_text(encoding="utf8")[:20_000], encoding="utf8")
    line = one_error(*run_cli("vectors", "export", tiny_encoder_dir, tmp_path / "vectors", source, *segmentation))
    assert "of the words uncut" in line and "--segmenter jieba" in line
    assert listing(tmp_path) == ["zh.txt"]


def test_in_context_threshold_needs_both_labels(run_cli, data_dir, tmp_path):
    records = [json.loads(line) for line in (data_dir / "wic" / "train.jsonl").read_text(encoding="utf8").splitlines()[:40]]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in records if r["label"] == 1), encoding="utf8")
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf8")
    words = sorted({r[key] for r in records for key in ("target1", "target2")})
    vectors = tmp_path / "vectors.txt"
    vectors.write_text(f"{len(words)} 2\n" + "".join(f"{w} {i % 3} 1\n" for i, w in enumerate(words)), encoding="utf8")
    line = one_error(*run_cli("vectors", "evaluate", vectors, "--in-context", dev, "--in-context-train", train))
    assert "all have label 1: a cosine threshold needs pairs of both labels" in line


@pytest.mark.parametrize("command", [["convert", "weibo"], ["tokenizer"]])
def test_gbk_input_gets_the_gbk_hint(run_cli, tmp_path, command):
    source = tmp_path / "gbk.txt"
    source.write_bytes(WEIBO_LINES.encode("gbk"))
    args = [*command, source, tmp_path / "out.spacy"] if command[0] == "convert" else [*command, tmp_path / "tok", source]
    line = one_error(*run_cli(*args))
    assert "iconv -f gbk -t utf8" in line and "latin1" not in line


# Issue 22: our errors inside `spacy train` read as one line, as in our CLI.

@pytest.fixture(scope="module")
def ner_docs(data_dir, tmp_path_factory) -> Path:
    from spacy_wv.corpus.conll import convert_conll

    out = tmp_path_factory.mktemp("ner") / "ner.spacy"
    convert_conll(data_dir / "conll2003" / "eng.testa", out, max_docs=2)
    return out


@pytest.fixture(scope="module")
def short_encoder(tiny_tokenizer_dir, tmp_path_factory) -> Path:
    """A BERT of 64 positions, as `pretrain --encoder.max_length 64` makes."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    out = tmp_path_factory.mktemp("short") / "encoder"
    BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


STACKED_NER = REPO / "configs" / "ner_stacked.cfg"


@pytest.mark.parametrize("encoder,overrides,message", [
    ("", {}, "EncoderFeatures has no encoder directory: set its 'name' (e.g. --paths.encoder DIR)"),
    ("missing", {}, "Encoder directory not found"),
    ("notes", {}, "holds 1 other file(s) (notes.txt)"),
    ("no_weights", {}, "has no weights (model.safetensors)"),
    ("spacy_pipeline", {}, "holds a spaCy pipeline (config.cfg, meta.json)"),
    ("tiny_encoder_dir", {"components.tok2vec.model.features.layers": [9]}, "Encoder layers [9] out of range"),
    ("tiny_encoder_dir", {"components.tok2vec.model.features.combine": "bogus"}, "combine must be one of"),
    # One layer: the config's default layers [0,1,2] would be refused first.
    ("short_encoder", {"components.tok2vec.model.features.layers": [0, 1]},
     "max_pieces (128) is more than the 64 positions of the encoder"),
])
def test_spacy_train_raises_our_errors_unwrapped(ner_docs, tmp_path, request, encoder, overrides, message):
    """What `spacy train` meets, in this process: a UserError, which the excepthook prints as one line."""
    from spacy.cli.train import train

    from spacy_wv.errors import UserError

    if encoder in ("tiny_encoder_dir", "short_encoder", "spacy_pipeline"):
        encoder = str(request.getfixturevalue(encoder))
    elif encoder:
        encoder = str(tmp_path / encoder)
        if encoder.endswith("notes"):
            (tmp_path / "notes").mkdir()
            (tmp_path / "notes" / "notes.txt").write_text("mine", encoding="utf8")
        elif encoder.endswith("no_weights"):
            (tmp_path / "no_weights").mkdir()
            (tmp_path / "no_weights" / "config.json").write_text('{"model_type": "bert"}', encoding="utf8")
    with pytest.raises(UserError) as raised:
        train(STACKED_NER, overrides={"paths.train": str(ner_docs), "paths.dev": str(ner_docs), "paths.encoder": encoder,
                                      "training.max_steps": 1, **overrides})
    assert message in str(raised.value)


def test_spacy_train_prints_our_error_as_one_line(ner_docs, spacy_pipeline):
    done = subprocess.run([sys.executable, "-m", "spacy", "train", str(STACKED_NER), "--paths.train", str(ner_docs),
                           "--paths.dev", str(ner_docs), "--paths.encoder", str(spacy_pipeline)],
                          capture_output=True, text=True, cwd=REPO)
    line = one_error(done.returncode, done.stdout + done.stderr)
    assert f"{spacy_pipeline} is not a Hugging Face model directory (no config.json): it holds a spaCy pipeline (config.cfg, meta.json)" in line


@pytest.mark.parametrize("command", ["weibo", "tnews"])
def test_weibo_and_tnews_write_whole_or_not_at_all(run_cli, tmp_path, monkeypatch, command):
    """A write that fails half-way (a full disk) leaves the earlier output as it was."""
    dataset = tmp_path / "data.txt"
    dataset.write_text(CONVERTER_INPUTS[command], encoding="utf8")
    out = tmp_path / "out.spacy"
    assert run_cli("convert", command, dataset, out)[0] == 0
    before = out.read_bytes()

    def half_written(self, path):
        Path(path).write_bytes(b"\x78\x9c")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(DocBin, "to_disk", half_written)
    code, output = run_cli("convert", command, dataset, out)
    assert code == 1 and "No space left on device" in output
    assert out.read_bytes() == before and listing(tmp_path) == ["data.txt", "out.spacy"]


# Issue 26, item 4: a bad input leaves no file, half-made or whole, and an earlier output as it was.
BAD_INPUTS = {
    "weibo": ["科\tB-ORG.NAM\n北京\tO\n\n", ["--strict"], WEIBO_LINES + "好0 O\n\n", "data.txt:8:"],
    "tnews": ['{"label_desc": "news_story"}\n', ["--strict"], TNEWS_LINES + "{not json\n", "data.txt:4:"],
}


@pytest.mark.parametrize("command", ["weibo", "tnews"])
@pytest.mark.parametrize("earlier_output", [False, True])
def test_weibo_and_tnews_write_nothing_from_a_bad_input(run_cli, tmp_path, command, earlier_output):
    unreadable, strict, bad_at_the_end, where = BAD_INPUTS[command]
    dataset = tmp_path / "data.txt"
    out = tmp_path / "out.spacy"
    if earlier_output:
        dataset.write_text(CONVERTER_INPUTS[command], encoding="utf8")
        assert run_cli("convert", command, dataset, out)[0] == 0
    before = snapshot(tmp_path)
    # Nothing readable at all.
    dataset.write_text(unreadable, encoding="utf8")
    line = one_error(*run_cli("convert", command, dataset, out))
    assert str(dataset) in line
    # Good messages, then a malformed line under --strict: the error names it, after the
    # good ones were converted in memory.
    dataset.write_text(bad_at_the_end, encoding="utf8")
    line = one_error(*run_cli("convert", command, dataset, out, *strict))
    assert where in line
    assert {name: data for name, data in snapshot(tmp_path).items() if name != "data.txt"} == \
        {name: data for name, data in before.items() if name != "data.txt"}
    assert listing(tmp_path) == (["data.txt", "out.spacy"] if earlier_output else ["data.txt"])
