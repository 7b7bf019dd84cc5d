import numpy as np
import pytest

from spacy_wv.corpus.shards import ShardReader
from spacy_wv.errors import UserError
from spacy_wv.pretraining.batching import PackedCorpus, WindowSampler

CLS = 2  # [CLS] in the tiny WordPiece tokenizer


@pytest.fixture(scope="module")
def reader(tiny_shards):
    return ShardReader(tiny_shards)


def stream(reader):
    return np.concatenate([np.asarray(a) for a in reader.arrays])


def test_windows_are_full_slices_of_the_stream_behind_cls(reader):
    corpus = PackedCorpus(reader, 64, CLS, eval_tokens=0)
    assert len(reader.arrays) > 2
    rows = corpus.sequences(corpus.train, np.arange(len(corpus.train))).numpy()
    assert rows.shape == (len(corpus.train), 64)
    assert (rows[:, 0] == CLS).all()
    assert not (rows[:, 1:] == 0).any()  # no [PAD] anywhere
    # Concatenated, the bodies are the shards' tokens in order, short only by each
    # shard's remainder: nothing skipped, nothing repeated.
    expected = np.concatenate([np.asarray(a)[: len(a) // 63 * 63] for a in reader.arrays])
    assert np.array_equal(rows[:, 1:].reshape(-1), expected)


def test_windows_without_a_start_token_take_the_whole_length(reader):
    corpus = PackedCorpus(reader, 64, None, eval_tokens=0)
    rows = corpus.sequences(corpus.train, np.arange(3)).numpy()
    assert np.array_equal(rows.reshape(-1), stream(reader)[: 3 * 64])


def test_eval_tokens_are_the_corpus_tail_and_never_trained_on(reader):
    eval_tokens = 70_000  # more than one shard, so the held-back tail spans two
    corpus = PackedCorpus(reader, 64, CLS, eval_tokens=eval_tokens)
    all_tokens = stream(reader)
    tail = all_tokens[-eval_tokens:]
    eval_bodies = np.concatenate([b[:, 1:].numpy().reshape(-1) for b in corpus.eval_batches(50)])
    assert len(eval_bodies) > eval_tokens - 2 * 63
    # Every eval window is a slice of the tail; the train windows end before it.
    shard_starts = np.cumsum([0] + [len(a) for a in reader.arrays])
    train_ends = shard_starts[corpus.train.shard] + corpus.train.start + 63
    eval_starts = shard_starts[corpus.eval.shard] + corpus.eval.start
    assert train_ends.max() <= len(all_tokens) - eval_tokens
    assert eval_starts.min() >= len(all_tokens) - eval_tokens
    assert np.isin(eval_bodies[:1000], tail).all()


def test_sampler_ranks_read_disjoint_windows_and_cover_an_epoch(reader):
    corpus = PackedCorpus(reader, 64, CLS, eval_tokens=0)
    ranks = [WindowSampler(corpus, 8, seed=3, rank=r, world_size=2) for r in range(2)]
    seen = [set(), set()]
    steps = len(corpus.train) // 16
    for _ in range(steps):
        for r, sampler in enumerate(ranks):
            for row in sampler.next_batch().numpy():
                seen[r].add(row.tobytes())
    assert not seen[0] & seen[1]
    assert len(seen[0]) + len(seen[1]) >= steps * 16 - 16  # identical windows may occur in real text
    assert ranks[0].epoch == 0
    ranks[0].next_batch()
    assert ranks[0].epoch == 1 and ranks[0].cursor == 16


def test_sampler_resumes_exactly_from_its_state(reader):
    corpus = PackedCorpus(reader, 64, CLS, eval_tokens=0)
    first = WindowSampler(corpus, 4, seed=11)
    for _ in range(5):
        first.next_batch()
    state = first.state_dict()
    expected = [first.next_batch() for _ in range(3)]
    resumed = WindowSampler(corpus, 4, seed=11)
    resumed.load_state_dict(state)
    assert all(np.array_equal(a, resumed.next_batch()) for a in expected)
    other_seed = WindowSampler(corpus, 4, seed=12)
    other_seed.load_state_dict(state)
    assert not np.array_equal(expected[0], other_seed.next_batch())


def test_too_small_corpus_or_holdout_is_a_user_error(reader):
    with pytest.raises(UserError, match="eval_tokens"):
        PackedCorpus(reader, 64, CLS, eval_tokens=reader.n_tokens)
    with pytest.raises(UserError, match="too small"):
        PackedCorpus(reader, 64, CLS, eval_tokens=reader.n_tokens - 10)
    corpus = PackedCorpus(reader, 64, CLS, eval_tokens=0)
    with pytest.raises(UserError, match="batch_tokens"):
        WindowSampler(corpus, len(corpus.train), seed=0, world_size=2)
