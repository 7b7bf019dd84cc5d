from collections import Counter

import numpy
import pytest
import spacy
import torch
from transformers import AutoModel, AutoTokenizer

from spacy_wv.errors import UserError
from spacy_wv.hf_dirs import load_encoder
from spacy_wv.vectors.export import Corpus, ExportSettings, build_vocabulary, export_vectors, iter_contexts, plan_windows, postprocess_apply, postprocess_fit, sample_occurrences


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return load_encoder(tiny_encoder_dir)


@pytest.fixture(scope="module")
def small_corpus(text_slice, tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    path.write_text(text_slice.read_text(encoding="utf8")[:40_000], encoding="utf8")
    return path


def test_exports_the_most_frequent_words_with_finite_vectors(encoder, small_corpus):
    result = export_vectors(*encoder, [small_corpus], ExportSettings(n_words=150, contexts=3))
    counts = Counter(word for words in iter_contexts([small_corpus], False, 128) for word in words)
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


def _corpus(lines, tmp_path):
    return Corpus.build(iter(lines), tmp_path)


def test_contexts_are_sampled_across_the_whole_corpus(tmp_path):
    lines = [[f"filler{i}", "apple", "pie"] for i in range(2000)]
    corpus = _corpus(lines, tmp_path)
    words, counts, vocab_of_surface = build_vocabulary(corpus, 10, lowercase=False)
    samples = sample_occurrences(corpus, vocab_of_surface, counts, 20, seed=0)
    apple = samples[words.index("apple")]
    assert len(apple) == 20 and len(set(apple.tolist())) == 20
    assert all(corpus.surfaces[corpus.ids[p]] == "apple" for p in apple)
    # Not the first 20 occurrences: spread over the corpus (2000 lines of 3 words).
    assert apple.max() > 3000 and apple.min() < 3000
    other_seed = sample_occurrences(corpus, vocab_of_surface, counts, 20, seed=1)[words.index("apple")]
    assert set(other_seed.tolist()) != set(apple.tolist())
    # A word seen fewer times than asked keeps all its occurrences.
    assert len(samples[words.index("filler7")]) == 1


def test_windows_give_every_word_min_of_count_and_k_contexts(tmp_path):
    lines = [["a", "b", "a"], ["a", "c"], ["b", "a", "a", "a"]]
    corpus = _corpus(lines, tmp_path)
    words, counts, vocab_of_surface = build_vocabulary(corpus, 10, lowercase=False)
    samples = sample_occurrences(corpus, vocab_of_surface, counts, 4, seed=3)
    windows = plan_windows(corpus, vocab_of_surface, samples, 4, window=1)
    per_word = Counter(words[word] for _, _, targets in windows for _, word in targets)
    assert per_word == {"a": 4, "b": 2, "c": 1}
    positions = [position for _, _, targets in windows for position, _ in targets]
    assert len(positions) == len(set(positions))
    for start, end, targets in windows:
        assert all(start <= position < end and corpus.surfaces[corpus.ids[position]] == words[word] for position, word in targets)
        # A window never crosses a line.
        line = numpy.searchsorted(corpus.line_starts, start, side="right") - 1
        assert end <= corpus.line_ends[line]


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


def test_unseen_words_are_composed_from_their_pieces(encoder, small_corpus):
    result = export_vectors(*encoder, [small_corpus], ExportSettings(n_words=200, contexts=2))
    assert result.pooled.all()
    composed = result.composer.compose(["zebroidification", "misspeled", result.words[0]])
    assert composed.shape == (3, 64) and numpy.isfinite(composed).all()
    assert (numpy.linalg.norm(composed, axis=1) > 0).all()
    assert not numpy.allclose(composed[0], composed[1])
    assert result.stats["composition_heldout_cosine"] == pytest.approx(heldout_cosine_by_hand(result), abs=1e-3)


def heldout_cosine_by_hand(result) -> float:
    """The composition's held-out score recomputed: a tenth of the pooled words (in the
    export's seeded order) held out, a ridge map from their vectors encoded alone to their
    pooled vectors fitted on the rest (as an augmented least-squares problem), and the mean
    cosine of its predictions for the held-out words."""
    width = result.table.shape[1]
    rows = numpy.random.default_rng(0).permutation(numpy.flatnonzero(result.pooled))[:10_000]
    alone = type(result.composer)(result.composer.encoder, numpy.eye(width, dtype="float32"), numpy.zeros(width, dtype="float32"))
    isolated = alone.compose([result.words[i] for i in rows]).astype("float64")
    targets = result.table[rows].astype("float64")
    held = max(1, rows.size // 10)
    x, y = isolated[held:], targets[held:]
    x_mean, y_mean = x.mean(0), y.mean(0)
    penalty = numpy.sqrt(ExportSettings().compose_ridge * len(x)) * numpy.eye(width)
    weights = numpy.linalg.lstsq(numpy.vstack([x - x_mean, penalty]), numpy.vstack([y - y_mean, numpy.zeros((width, width))]), rcond=None)[0]
    predicted = (isolated[:held] - x_mean) @ weights + y_mean
    cosines = (predicted * targets[:held]).sum(1) / numpy.linalg.norm(predicted, axis=1) / numpy.linalg.norm(targets[:held], axis=1)
    return float(cosines.mean())


def test_postprocess_centers_and_removes_top_components():
    rng = numpy.random.default_rng(0)
    table = rng.normal(size=(200, 8)).astype("float32") + rng.normal(size=(1, 8)).astype("float32") * 5
    table[:, 0] *= 20  # a dominant direction
    cleaned = postprocess_apply(table, *postprocess_fit(table, center=False, remove_pcs=1))
    assert numpy.allclose(cleaned.mean(axis=0), 0, atol=1e-4)
    top = numpy.linalg.svd(table - table.mean(axis=0), full_matrices=False)[2][0]
    assert numpy.abs(cleaned @ top).max() < 1e-3
    with pytest.raises(UserError, match="--remove-pcs"):
        postprocess_fit(table, center=True, remove_pcs=8)


def test_whitespace_tokenisation_for_pretokenised_text(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("do n't stop , please\n", encoding="utf8")
    assert list(iter_contexts([corpus], True, 3)) == [["do", "n't", "stop"], [",", "please"]]
    from spacy_wv.vectors.export import iter_lines

    assert list(iter_lines([corpus], lambda text: text.upper().split(","))) == [["DO N'T STOP ", " PLEASE"]]
    assert list(iter_contexts([corpus], False, 10)) == [["do", "n't", "stop", ",", "please"]]


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


def test_encoder_from_a_spacy_pipeline_is_the_same_model(encoder, tiny_encoder_dir, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(tiny_encoder_dir), "tokenizer_config": {"use_fast": True}}})
    nlp.initialize()
    nlp.to_disk(tmp_path / "pipeline")
    model, tokenizer = load_encoder(tmp_path / "pipeline")
    ids = tokenizer(["Oil prices rose ."], return_tensors="pt")
    with torch.inference_mode():
        assert torch.allclose(model(**ids).last_hidden_state, encoder[0](**ids).last_hidden_state, atol=1e-5)
    with pytest.raises(UserError, match="Not an encoder dir"):
        load_encoder(tmp_path)


def byte_level_tokenizer(text_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["<s>", "</s>", "<pad>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train([str(text_path)], trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", cls_token="<s>", sep_token="</s>")


@pytest.mark.parametrize("kind", ["wordpiece", "byte_level_bpe"])
def test_pieces_map_back_to_their_words(kind, encoder, small_corpus):
    from spacy_wv.vectors.export import _word_ids

    tokenizer = encoder[1] if kind == "wordpiece" else byte_level_tokenizer(small_corpus)
    batch = [["Hello", "world", ",", "naïve", "東京", "😀", "anarchism"], ["Short", "."]]
    encoding = tokenizer([" ".join(words) for words in batch], padding=True, return_offsets_mapping=True, return_special_tokens_mask=True)
    word_ids = _word_ids(batch, numpy.array(encoding["offset_mapping"]), numpy.array(encoding["special_tokens_mask"]))
    for i, words in enumerate(batch):
        text = " ".join(words)
        assert sorted(set(word_ids[i][word_ids[i] >= 0])) == list(range(len(words)))
        for j, word in enumerate(words):
            spans = [encoding["offset_mapping"][i][p] for p in numpy.flatnonzero(word_ids[i] == j)]
            assert text[min(s for s, _ in spans):max(e for _, e in spans)].strip() == word


def test_only_the_layers_needed_are_run_and_give_the_same_states(encoder):
    import torch

    from spacy_wv.vectors.export import WindowEncoder

    model, tokenizer = encoder
    ids = tokenizer(["Oil prices rose sharply ."], return_tensors="pt")
    with torch.inference_mode():
        full = model(**ids, output_hidden_states=True).hidden_states
    for top in (0, 1):
        window_encoder = WindowEncoder(model, tokenizer, [top], "mean", precision="fp32")
        assert len(window_encoder.model.encoder.layer) == top and len(model.encoder.layer) == 2
        with torch.inference_mode():
            states = window_encoder.model(**ids, output_hidden_states=True).hidden_states
        assert len(states) == top + 1 and torch.allclose(states[top], full[top], atol=1e-5)
