"""Weibo NER and TNEWS converters on the real files and on broken copies of them."""
import json

import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_wv.corpus.tnews import convert_tnews, read_label_names
from spacy_wv.corpus.weibo import convert_weibo
from spacy_wv.errors import UserError


def _docs(path):
    return list(DocBin().from_disk(path).get_docs(Vocab()))


@pytest.fixture(scope="module")
def weibo_head(data_dir, tmp_path_factory):
    """The first 20 messages of the real Weibo train file."""
    text = (data_dir / "weibo_ner" / "train.conll").read_text(encoding="utf8")
    out = tmp_path_factory.mktemp("weibo") / "head.conll"
    out.write_text("\n\n".join(text.split("\n\n")[:20]) + "\n", encoding="utf8")
    return out


def test_weibo_named_and_all_labels_on_the_real_dev_file(data_dir, tmp_path):
    dev = data_dir / "weibo_ner" / "dev.conll"
    named = convert_weibo(dev, tmp_path / "named.spacy", labels="named")
    both = convert_weibo(dev, tmp_path / "all.spacy", labels="all")
    assert named.docs == both.docs == 270
    assert named.chars == both.chars == 14509
    assert set(named.label_counts) == {"PER", "ORG", "LOC", "GPE"}
    assert {label.split(".")[1] for label in both.label_counts} == {"NAM", "NOM"}
    # Named-only keeps exactly the .NAM mentions.
    assert sum(named.label_counts.values()) == sum(n for label, n in both.label_counts.items() if label.endswith(".NAM"))
    docs = _docs(tmp_path / "named.spacy")
    assert all(not any(t.whitespace_ for t in doc) for doc in docs)
    # The position number is gone: one character per token (or a broken emoji's two U+FFFD).
    assert all(len(t.text) == 1 or t.text == "\ufffd\ufffd" for doc in docs for t in doc)
    assert "3" in [t.text for doc in docs for t in doc]  # line 5828 is `310`: character 3, position 10
    first = dev.read_text(encoding="utf8").split("\n\n")[0].splitlines()
    assert docs[0].text == "".join(line.split("\t")[0][:-1] for line in first)


def test_weibo_malformed_line_skips_its_message_and_names_the_line(weibo_head, tmp_path):
    lines = weibo_head.read_text(encoding="utf8").split("\n")
    lines[4] = lines[4].replace("\t", " ")  # line 5: no tab
    bad = tmp_path / "bad.conll"
    bad.write_text("\n".join(lines), encoding="utf8")
    stats = convert_weibo(bad, tmp_path / "out.spacy")
    assert stats.bad_lines.lines == [5]
    assert stats.skipped_messages == 1
    assert stats.docs == 19
    assert "line 5" in stats.bad_lines.summary()
    with pytest.raises(UserError, match=r"bad\.conll:5:"):
        convert_weibo(bad, tmp_path / "out2.spacy", strict=True)
    assert not (tmp_path / "out2.spacy").exists()


@pytest.mark.parametrize("broken", ["科\tO", "科0\tB-PERSON", "科0\t", "科0\tB-PER.NAM\textra"])
def test_weibo_each_kind_of_broken_line_is_reported(tmp_path, broken):
    path = tmp_path / "x.conll"
    path.write_text(f"你0\tO\n好1\tO\n\n{broken}\n\n中0\tB-GPE.NAM\n国1\tI-GPE.NAM\n", encoding="utf8")
    stats = convert_weibo(path, tmp_path / "x.spacy")
    assert stats.bad_lines.lines == [4]
    assert stats.docs == 2 and stats.entities == 1


def test_weibo_i_tag_without_b_starts_an_entity(tmp_path):
    path = tmp_path / "x.conll"
    path.write_text("在0\tO\n北0\tI-GPE.NAM\n京1\tI-GPE.NAM\n", encoding="utf8")
    convert_weibo(path, tmp_path / "x.spacy")
    (doc,) = _docs(tmp_path / "x.spacy")
    assert [(e.text, e.label_) for e in doc.ents] == [("北京", "GPE")]


def test_weibo_bad_arguments(data_dir, tmp_path):
    with pytest.raises(UserError, match="labels"):
        convert_weibo(data_dir / "weibo_ner" / "dev.conll", tmp_path / "x.spacy", labels="nominal")
    with pytest.raises(UserError, match="not found"):
        convert_weibo(tmp_path / "missing.conll", tmp_path / "x.spacy")


def test_tnews_real_train_file(data_dir, tmp_path):
    folder = data_dir / "tnews_fewclue"
    names = read_label_names(folder / "labels.json")
    assert len(names) == 15
    stats = convert_tnews(folder / "train_few_all.json", tmp_path / "t.spacy", labels_path=folder / "labels.json")
    assert stats.docs == 1185 and not stats.bad_lines.lines
    docs = _docs(tmp_path / "t.spacy")
    assert all(sorted(doc.cats) == sorted(names) and sum(doc.cats.values()) == 1.0 for doc in docs)
    first = json.loads((folder / "train_few_all.json").read_text(encoding="utf8").splitlines()[0])
    assert docs[0].text == first["sentence"] and docs[0].cats[first["label_desc"]] == 1.0
    assert len(docs[0]) == len(first["sentence"])  # char segmenter: one token per character


def test_tnews_jieba_segmenter_makes_words(data_dir, tmp_path):
    folder = data_dir / "tnews_fewclue"
    convert_tnews(folder / "dev_few_all.json", tmp_path / "t.spacy", segmenter="jieba", max_docs=20)
    docs = _docs(tmp_path / "t.spacy")
    assert len(docs) == 20
    assert any(len(token.text) > 1 for doc in docs for token in doc)


def test_tnews_bad_lines_are_counted_with_line_numbers(data_dir, tmp_path):
    folder = data_dir / "tnews_fewclue"
    lines = (folder / "train_few_all.json").read_text(encoding="utf8").splitlines()[:10]
    lines[2] = lines[2][:-5]  # truncated JSON
    lines[6] = json.dumps({"label": 999, "label_desc": "news_unknown", "sentence": "标题"}, ensure_ascii=False)
    lines[8] = json.dumps({"label_desc": "news_story"})
    bad = tmp_path / "bad.json"
    bad.write_text("\n".join(lines) + "\n", encoding="utf8")
    stats = convert_tnews(bad, tmp_path / "t.spacy", labels_path=folder / "labels.json")
    assert stats.bad_lines.lines == [3, 7, 9]
    assert stats.docs == 7
    with pytest.raises(UserError, match=r"bad\.json:3:"):
        convert_tnews(bad, tmp_path / "t2.spacy", labels_path=folder / "labels.json", strict=True)


def test_tnews_unlabelled_titles_are_not_training_data(data_dir, tmp_path):
    head = tmp_path / "unlabeled.json"
    head.write_text("\n".join((data_dir / "tnews_fewclue" / "unlabeled.json").read_text(encoding="utf8").splitlines()[:5]) + "\n", encoding="utf8")
    with pytest.raises(UserError, match="no labelled title"):
        convert_tnews(head, tmp_path / "t.spacy")


def test_cli_weibo_and_tnews(run_cli, data_dir, weibo_head, tmp_path):
    code, output = run_cli("convert", "weibo", weibo_head, tmp_path / "w.spacy", "--labels", "all")
    assert code == 0, output
    assert "20 docs" in output
    bad = tmp_path / "bad.conll"
    bad.write_text(weibo_head.read_text(encoding="utf8").replace("\t", " ", 1), encoding="utf8")
    code, output = run_cli("convert", "weibo", bad, tmp_path / "b.spacy")
    assert code == 0 and "Skipped 1 malformed line(s)" in output and "(line 1)" in output
    code, output = run_cli("convert", "weibo", bad, tmp_path / "b2.spacy", "--strict")
    assert code == 1 and "bad.conll:1:" in output
    assert "Traceback" not in output
    folder = data_dir / "tnews_fewclue"
    code, output = run_cli("convert", "tnews", folder / "dev_few_all.json", tmp_path / "t.spacy", "--labels-file", folder / "labels.json")
    assert code == 0 and "1098 docs in 15 categories" in output.replace("\n", " ")


def test_weibo_and_tnews_files_that_are_not_utf8_name_the_line(data_dir, weibo_head, tmp_path):
    """GBK is the usual other encoding of Chinese text: an error naming file and line, no output."""
    weibo = weibo_head.read_bytes().split(b"\n")
    weibo[6] = "科0\tB-ORG.NAM".encode("gbk")
    bad_weibo = tmp_path / "gbk.conll"
    bad_weibo.write_bytes(b"\n".join(weibo))
    with pytest.raises(UserError, match=r"gbk\.conll:7 is not valid UTF-8"):
        convert_weibo(bad_weibo, tmp_path / "w.spacy")
    assert not (tmp_path / "w.spacy").exists()
    folder = data_dir / "tnews_fewclue"
    titles = (folder / "train_few_all.json").read_bytes().split(b"\n")[:5]
    titles[3] = titles[3].decode("utf8").encode("gbk")
    bad_tnews = tmp_path / "gbk.json"
    bad_tnews.write_bytes(b"\n".join(titles) + b"\n")
    with pytest.raises(UserError, match=r"gbk\.json:4 is not valid UTF-8"):
        convert_tnews(bad_tnews, tmp_path / "t.spacy", labels_path=folder / "labels.json")
    assert not (tmp_path / "t.spacy").exists()
