"""Chinese pipelines: a tiny `spacy train` with the zh configs on real Weibo / TNEWS slices,
the trained pipeline on awkward text, and wv_vectors on Chinese docs."""
import numpy
import pytest
import spacy

from spacy_wv.corpus.tnews import convert_tnews

from ..checks import cosine
from .conftest import AWKWARD, train_pipeline


def test_zh_ner_trains_and_runs_on_awkward_text(weibo_ner_pipeline):
    nlp = spacy.load(weibo_ner_pipeline)
    assert nlp.lang == "zh" and nlp.pipe_names == ["transformer", "ner", "wv_vectors"]
    assert set(nlp.get_pipe("ner").labels) == {"PER", "ORG", "LOC", "GPE"}  # all four occur in the 24 training messages
    for doc in nlp.pipe(AWKWARD + ["", "　", "😀"]):
        assert all(len(t.text) == 1 or not any("\u4e00" <= c <= "\u9fff" for c in t.text) for t in doc)
        assert all(e.label_ in nlp.get_pipe("ner").labels for e in doc.ents)


def test_wv_vectors_on_chinese_docs(weibo_ner_pipeline):
    nlp = spacy.load(weibo_ner_pipeline)
    vectors = nlp.get_pipe("wv_vectors")
    # zh_ner.cfg's wv_vectors, centred with statistics from the 24 training messages'
    # characters (a count of space-separated words would have found too few and skipped them).
    assert vectors.anisotropy == "center" and vectors.calibration["tokens"] > 500
    doc = nlp("北京是中国的首都。上海是中国的城市。")
    assert doc[0].similarity(doc[9]) == pytest.approx(cosine(doc.tensor[0], doc.tensor[9]), abs=1e-5)
    assert doc[0].vector.shape == (64,) and numpy.isfinite(doc[0].vector).all()
    assert doc[0:2].similarity(doc[9:11]) == pytest.approx(cosine(doc.tensor[0:2].mean(0), doc.tensor[9:11].mean(0)), abs=1e-5)
    assert doc.vector.shape == (64,)


def test_zh_textcat_baseline_on_tnews(data_dir, tmp_path):
    folder = data_dir / "tnews_fewclue"
    convert_tnews(folder / "train_few_all.json", tmp_path / "train.spacy", labels_path=folder / "labels.json", max_docs=60)
    convert_tnews(folder / "dev_few_all.json", tmp_path / "dev.spacy", labels_path=folder / "labels.json", max_docs=20)
    nlp = spacy.load(train_pipeline(tmp_path / "out", "zh_textcat_baseline.cfg", tmp_path / "train.spacy", tmp_path / "dev.spacy"))
    doc = nlp(AWKWARD[0])
    assert len(doc.cats) == 15 and sum(doc.cats.values()) == pytest.approx(1.0, abs=1e-4)
