from collections import Counter

import numpy
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from spacy_wv.corpus.word_lines import iter_word_lines, make_segmenter
from spacy_wv.errors import UserError
from spacy_wv.vectors.export import ExportSettings, export_vectors


def test_exports_the_most_frequent_words_with_finite_vectors(encoder, small_corpus):
    result = export_vectors(*encoder, [small_corpus], ExportSettings(n_words=150, contexts=3))
    counts = Counter(word for words in iter_word_lines([small_corpus], make_segmenter()) for word in words)
    assert result.words == [word for word, _ in counts.most_common(150)]
    assert result.table.shape == (150, 64) and numpy.isfinite(result.table).all()
    assert result.stats["mean_contexts_per_word"] == pytest.approx(numpy.mean([min(c, 3) for _, c in counts.most_common(150)]))


def test_a_word_seen_once_gets_exactly_its_contextual_vector(encoder, tiny_encoder_dir, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("The zebroid grazed near the river bank.\n\nPrices rose.\n", encoding="utf8")
    for pooling in ("mean", "first"):
        result = export_vectors(*encoder, [corpus], ExportSettings(n_words=100, contexts=5, pooling=pooling, layers=[1, 2], window=10, precision="fp32"))
        tokenizer, model = AutoTokenizer.from_pretrained(tiny_encoder_dir), AutoModel.from_pretrained(tiny_encoder_dir)
        words = ["The", "zebroid", "grazed", "near", "the", "river", "bank", "."]
        encoding = tokenizer(words, is_split_into_words=True, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**encoding, output_hidden_states=True).hidden_states
        mixed = ((hidden[1] + hidden[2]) / 2)[0].numpy()
        pieces = [i for i, w in enumerate(encoding.word_ids()) if w == 1]
        assert len(pieces) > 1, "the test needs a word split into several pieces"
        expected = mixed[pieces].mean(axis=0) if pooling == "mean" else mixed[pieces[0]]
        assert numpy.allclose(result.table[result.words.index("zebroid")], expected, atol=1e-4)


def test_frequent_words_in_very_long_lines_are_not_dropped(encoder, tmp_path):
    """Issue 12, item 5: contexts that ran past the encoder's length limit silently
    dropped "the", "and" and "." Windows are short, so a long line cannot do that."""
    corpus = tmp_path / "long.txt"
    sentence = "the cat and the dog sat on the mat . "
    corpus.write_text((sentence * 400).strip() + "\n\n" + "rare words here\n", encoding="utf8")  # one 4,000-word line
    result = export_vectors(*encoder, [corpus], ExportSettings(n_words=50, contexts=5, batch_size=8))
    for word in ("the", "and", ".", "cat", "rare"):
        assert word in result.words
        assert result.pooled[result.words.index(word)], word
    assert result.stats["composed_words"] == 0
    assert result.stats["mean_contexts_per_word"] == pytest.approx((8 * 5 + 3 * 1) / 11)  # 8 words seen 400+ times, 3 once)


@pytest.mark.parametrize("content", ["", "   \n\n\t\n"])
def test_empty_corpus_is_a_user_error(encoder, tmp_path, content):
    corpus = tmp_path / "empty.txt"
    corpus.write_text(content, encoding="utf8")
    with pytest.raises(UserError, match="empty corpus"):
        export_vectors(*encoder, [corpus], ExportSettings(n_words=10))


def test_bad_settings_are_user_errors(encoder, small_corpus):
    with pytest.raises(UserError, match="Layer 9 does not exist"):
        export_vectors(*encoder, [small_corpus], ExportSettings(layers=[9]))
    with pytest.raises(UserError, match="Unknown pooling"):
        export_vectors(*encoder, [small_corpus], ExportSettings(pooling="sum"))
