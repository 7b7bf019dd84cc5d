import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_wv.corpus.labeled_text import (
    LabeledTextStats, convert_labeled_text, labeled_text_to_docs, parse_label_map,
)
from spacy_wv.errors import UserError


def test_sst2_dev_counts_and_label_names(data_dir):
    stats = LabeledTextStats()
    docs = labeled_text_to_docs(data_dir / "sst2" / "dev.txt", label_map=parse_label_map("0=negative,1=positive"),
                                stats=stats)
    assert stats.label_counts == {"negative": 428, "positive": 444}
    assert all(sorted(d.cats) == ["negative", "positive"] and sum(d.cats.values()) == 1.0 for d in docs)
    assert not any(t.text in ("0", "1") for t in docs[0][:1])


def test_trec_coarse_and_fine_labels(data_dir):
    path = data_dir / "trec" / "train.txt"
    coarse = labeled_text_to_docs(path, label_level="coarse")
    assert len(coarse) == 5452
    assert set(coarse[0].cats) == {"ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"}
    assert coarse[0].cats["DESC"] == 1.0 and coarse[0].text.startswith("How did serfdom")
    fine = labeled_text_to_docs(path, max_docs=200)
    assert "DESC:manner" in fine[0].cats and len(fine[0].cats) > 6


def test_extra_labels_appear_in_every_doc(data_dir):
    docs = labeled_text_to_docs(data_dir / "sst2" / "dev.txt", labels=["neutral"], max_docs=3)
    assert all(d.cats["neutral"] == 0.0 for d in docs)


def test_tab_separated_sms(data_dir):
    docs = labeled_text_to_docs(data_dir / "sms_spam" / "SMSSpamCollection.tsv", separator="tab", max_docs=100)
    assert set(docs[0].cats) == {"ham", "spam"} and len(docs) == 100


def test_convert_writes_docbin_and_rejects_bad_input(data_dir, tmp_path):
    out = tmp_path / "sst2.spacy"
    convert_labeled_text(data_dir / "sst2" / "train.txt", out, max_docs=20)
    docs = list(DocBin().from_disk(out).get_docs(Vocab()))
    assert len(docs) == 20 and set(docs[0].cats) == {"0", "1"}
    one_label = tmp_path / "one.txt"
    one_label.write_text("1 good\n1 great\n")
    with pytest.raises(UserError, match="Only one label"):
        convert_labeled_text(one_label, tmp_path / "never.spacy")
    with pytest.raises(UserError, match="RAW=NAME"):
        parse_label_map("0:negative")
    assert not (tmp_path / "never.spacy").exists()
