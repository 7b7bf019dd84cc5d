"""Trained pipelines (transformer + our listener) on texts that break naive code."""
import pytest
import spacy

from tests.project.tiny_pipelines import tiny_ner_pipeline, tiny_textcat_pipeline

HARD_TEXTS = [
    "",
    "   \n\t  ",
    "Loved it 😍😍🔥 #best @user https://t.co/x1",
    "東京都は日本の首都である。",
    "Angela Merkel traf 習近平 in Москва, then flew to São Paulo 🇧🇷.",
    "\u200b\u200bzero-width\u00a0space",
]
LONG_TOKENS = 20_000


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory, data_dir, tiny_encoder_dir):
    import torch

    torch.set_num_threads(1)
    return [spacy.load(tiny_ner_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir)),
            spacy.load(tiny_textcat_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir))]


def _check(nlp, doc, text):
    assert doc.text == text
    if "ner" in nlp.pipe_names:
        assert all(0 <= e.start < e.end <= len(doc) for e in doc.ents)
    else:
        assert set(doc.cats) == {"negative", "positive"}
        if len(doc):
            assert all(0.0 <= score <= 1.0 for score in doc.cats.values())  # NaN fails too


def test_hard_texts_in_one_batch_and_alone(pipelines):
    for nlp in pipelines:
        for doc, text in zip(nlp.pipe(HARD_TEXTS, batch_size=len(HARD_TEXTS)), HARD_TEXTS):
            _check(nlp, doc, text)
        for text in HARD_TEXTS:
            _check(nlp, nlp(text), text)


def test_twenty_thousand_token_document(pipelines, data_dir):
    words = (data_dir / "wikipedia_en" / "wiki_en_000.txt").read_text(encoding="utf8").split()[:LONG_TOKENS]
    text = " ".join(words)
    for nlp in pipelines:
        doc = nlp(text)
        _check(nlp, doc, text)
        assert len(doc) >= LONG_TOKENS
        # Strided windows cover the whole doc: every token is aligned to some wordpiece.
        assert (doc._.trf_data.align.lengths > 0).mean() > 0.99
