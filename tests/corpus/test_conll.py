from collections import Counter
from itertools import islice

import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_wv.corpus.conll import ConversionStats, conll_to_docs, convert_conll, iob1_to_iob2
from spacy_wv.errors import UserError


def test_iob1_to_iob2_starts_every_entity_and_keeps_iob2():
    tags, rewritten = iob1_to_iob2(["I-ORG", "O", "I-PER", "I-PER", "B-PER", "I-LOC"])
    assert tags == ["B-ORG", "O", "B-PER", "I-PER", "B-PER", "B-LOC"]
    assert rewritten == 3
    assert iob1_to_iob2(tags) == (tags, 0)


def test_conll2003_iob1_first_doc(data_dir):
    stats = ConversionStats()
    first = next(conll_to_docs(data_dir / "conll2003" / "eng.train", n_sents=0, stats=stats))
    # Document 1 of eng.train: "EU rejects German call to boycott British lamb ."
    assert [t.text for t in first[:9]] == "EU rejects German call to boycott British lamb .".split()
    assert [(e.text, e.label_) for e in first.ents[:3]] == [("EU", "ORG"), ("German", "MISC"), ("British", "MISC")]
    assert "-DOCSTART-" not in first.text
    assert len(list(first.sents)) == stats.sentences


def test_conll2003_dev_counts_match_the_data_readme(data_dir):
    stats = ConversionStats()
    docs = list(conll_to_docs(data_dir / "conll2003" / "eng.testa", n_sents=0, vocab=Vocab(), stats=stats))
    assert (stats.docs, stats.sentences, stats.tokens) == (216, 3250, 51362)
    labels = Counter(e.label_ for doc in docs for e in doc.ents)
    assert labels == {"LOC": 1837, "MISC": 922, "ORG": 1341, "PER": 1842}


def test_iob1_and_iob2_files_give_identical_entities(data_dir):
    iob1 = islice(conll_to_docs(data_dir / "conll2003" / "eng.train", n_sents=0), 30)
    iob2 = islice(conll_to_docs(data_dir / "conll2003" / "train.iob2.txt", n_sents=0), 30)
    for a, b in zip(iob1, iob2):
        assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]


def test_n_sents_groups_sentences_but_docstart_still_splits(data_dir):
    docs = list(conll_to_docs(data_dir / "conll2003" / "eng.testa", n_sents=4, max_docs=40))
    assert len(docs) == 40
    assert all(1 <= len(list(doc.sents)) <= 4 for doc in docs)
    assert any(len(list(doc.sents)) < 4 for doc in docs)


def test_wnut17_tab_separated_with_emoji(data_dir):
    stats = ConversionStats()
    docs = list(conll_to_docs(data_dir / "wnut17" / "dev.conll", n_sents=1, stats=stats))
    assert stats.sentences == 1009 and stats.tokens == 15733
    labels = {e.label_ for doc in docs for e in doc.ents}
    assert labels == {"person", "location", "corporation", "product", "creative-work", "group"}


def test_wikiann_strips_the_language_prefix(data_dir):
    docs = list(conll_to_docs(data_dir / "wikiann_en" / "train.txt", n_sents=1, token_prefix="en:", max_docs=50))
    assert docs[0][0].text == "R.H." and docs[0].ents[0].text.startswith("R.H. Saunders")
    assert not any(t.text.startswith("en:") for doc in docs for t in doc)
    assert {e.label_ for doc in docs for e in doc.ents} == {"PER", "LOC", "ORG"}


def test_convert_writes_docbin_and_rejects_empty_input(data_dir, tmp_path):
    out = tmp_path / "dev.spacy"
    stats = convert_conll(data_dir / "conll2003" / "eng.testa", out, max_docs=5)
    docs = list(DocBin().from_disk(out).get_docs(Vocab()))
    assert len(docs) == stats.docs == 5
    assert sum(len(d.ents) for d in docs) == stats.entities > 0
    empty = tmp_path / "empty.conll"
    empty.write_text("\n\n")
    with pytest.raises(UserError, match="No sentences"):
        convert_conll(empty, tmp_path / "never.spacy")
    assert not (tmp_path / "never.spacy").exists()
    with pytest.raises(UserError, match="not found"):
        convert_conll(tmp_path / "missing.conll", tmp_path / "never.spacy")
