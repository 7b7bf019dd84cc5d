from collections import Counter

import numpy

from spacy_wv.vectors.contexts import Corpus, build_vocabulary, plan_windows, sample_occurrences


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
