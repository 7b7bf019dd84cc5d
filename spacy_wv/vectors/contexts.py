"""The contexts a static vector is pooled over, sampled across the whole corpus.

Memory holds counts and samples only; the corpus itself lives on disk as an array of
word ids (memory-mapped), so memory does not grow with the corpus.

1. **count** (`Corpus.build`, `build_vocabulary`): the word ids of every line go to a
   memory-mapped file and word types are counted; the `n_words` most frequent are kept;
2. **sample** (`sample_occurrences`): for each kept word, up to `contexts` occurrences
   drawn uniformly at random from all its occurrences in the corpus (not the first ones);
3. **windows** (`plan_windows`): each sampled occurrence becomes a window of `window`
   words either side (within its line). Rare words are placed first; an occurrence of a
   more frequent word near the centre of a window already chosen counts towards that
   word's contexts, so the frequent words mostly need no windows of their own.
"""
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import numpy
from tqdm import tqdm

from ..errors import UserError

CHUNK = 1 << 20  # words per numpy chunk when scanning the id file
Window = Tuple[int, int, List[Tuple[int, int]]]  # start, end, [(position, word), ...]


class Corpus:
    """Word ids of the whole corpus in a memory-mapped file, line starts, and the surface forms."""

    def __init__(self, ids: numpy.ndarray, line_starts: numpy.ndarray, surfaces: List[str], surface_counts: numpy.ndarray):
        self.ids, self.line_starts, self.surfaces, self.surface_counts = ids, line_starts, surfaces, surface_counts
        self.line_ends = numpy.append(line_starts[1:], ids.shape[0])

    @classmethod
    def build(cls, lines: Iterable[List[str]], directory: Path) -> "Corpus":
        surface_id: Dict[str, int] = {}
        counts: List[int] = []
        line_starts: List[int] = []
        n_words = 0
        ids_path, starts_path = directory / "ids.int32", directory / "lines.int64"
        with ids_path.open("wb") as ids_file, starts_path.open("wb") as starts_file, tqdm(desc="Counting words", unit=" words", unit_scale=True, leave=False) as bar:
            buffer: List[int] = []
            for words in lines:
                line_starts.append(n_words)
                for word in words:
                    index = surface_id.get(word)
                    if index is None:
                        index = surface_id[word] = len(counts)
                        counts.append(0)
                    counts[index] += 1
                    buffer.append(index)
                n_words += len(words)
                if len(buffer) >= CHUNK:
                    numpy.asarray(buffer, dtype="int32").tofile(ids_file)
                    numpy.asarray(line_starts, dtype="int64").tofile(starts_file)
                    bar.update(len(buffer))
                    buffer, line_starts = [], []
            numpy.asarray(buffer, dtype="int32").tofile(ids_file)
            numpy.asarray(line_starts, dtype="int64").tofile(starts_file)
            bar.update(len(buffer))
        if n_words == 0:
            raise UserError("Nothing to export: empty corpus (no words in the input files)")
        ids = numpy.memmap(ids_path, dtype="int32", mode="r")
        starts = numpy.fromfile(starts_path, dtype="int64")  # 8 bytes a line
        return cls(ids, starts, list(surface_id), numpy.asarray(counts, dtype="int64"))

    def line_bounds(self, positions: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray]:
        line = numpy.searchsorted(self.line_starts, positions, side="right") - 1
        ends = self.line_ends
        return self.line_starts[line], ends[line]


def build_vocabulary(corpus: Corpus, n_words: int, lowercase: bool) -> Tuple[List[str], numpy.ndarray, numpy.ndarray]:
    """(words most frequent first, their counts, the vocabulary index of each surface id or -1)."""
    keys = [surface.lower() for surface in corpus.surfaces] if lowercase else corpus.surfaces
    counts: Counter = Counter()
    for key, count in zip(keys, corpus.surface_counts.tolist()):
        counts[key] += count
    # A word with whitespace inside (rare; e.g. a no-break space) cannot be a word2vec key.
    words = [word for word, _ in counts.most_common() if word and not any(c.isspace() for c in word)][:n_words]
    index = {word: i for i, word in enumerate(words)}
    vocab_of_surface = numpy.asarray([index.get(key, -1) for key in keys], dtype="int64")
    return words, numpy.asarray([counts[word] for word in words], dtype="int64"), vocab_of_surface


def sample_occurrences(corpus: Corpus, vocab_of_surface: numpy.ndarray, counts: numpy.ndarray, k: int, seed: int) -> List[numpy.ndarray]:
    """For each vocabulary word, the corpus positions of up to `k` of its occurrences,
    drawn uniformly without replacement from all of them (in random order)."""
    rng = numpy.random.default_rng(seed)
    n_types = counts.shape[0]
    # Which occurrence numbers (0..count-1) of each word are wanted, as sorted codes word * big + rank.
    big = int(counts.max()) + 1
    chosen = []
    for word, count in enumerate(counts.tolist()):
        ranks = numpy.arange(count) if count <= k else rng.choice(count, size=k, replace=False)
        chosen.append(word * big + numpy.sort(ranks))
    wanted = numpy.concatenate(chosen)
    running = numpy.zeros(n_types, dtype="int64")
    found_words, found_positions = [], []
    for start in tqdm(range(0, corpus.ids.shape[0], CHUNK), desc="Sampling contexts", leave=False):
        vocab = vocab_of_surface[numpy.asarray(corpus.ids[start : start + CHUNK])]
        positions = numpy.flatnonzero(vocab >= 0)
        vocab = vocab[positions]
        order = numpy.argsort(vocab, kind="stable")
        sorted_vocab = vocab[order]
        group_start = numpy.searchsorted(sorted_vocab, sorted_vocab, side="left")
        ranks = running[sorted_vocab] + numpy.arange(sorted_vocab.shape[0]) - group_start
        codes = sorted_vocab * big + ranks
        hit = numpy.isin(codes, wanted, assume_unique=False)
        found_words.append(sorted_vocab[hit])
        found_positions.append(start + positions[order][hit])
        running += numpy.bincount(vocab, minlength=n_types)
    words, positions = numpy.concatenate(found_words), numpy.concatenate(found_positions)
    shuffle = rng.permutation(words.shape[0])
    words, positions = words[shuffle], positions[shuffle]
    order = numpy.argsort(words, kind="stable")
    return numpy.split(positions[order], numpy.cumsum(numpy.bincount(words, minlength=n_types))[:-1])


def plan_windows(corpus: Corpus, vocab_of_surface: numpy.ndarray, samples: List[numpy.ndarray], k: int, window: int, central: Optional[int] = None) -> List[Window]:
    """Windows (start, end, [(position, word), ...]) covering up to `k` sampled contexts per
    word, rarest words first; occurrences of other words in the central half of a chosen
    window count for those words too (each occurrence once)."""
    n_types = len(samples)
    needed = numpy.asarray([len(s) for s in samples], dtype="int64")
    covered = numpy.zeros(n_types, dtype="int64")
    used = set()
    windows = []
    central = max(1, window // 2) if central is None else central
    for word in tqdm(numpy.argsort(needed, kind="stable"), desc="Planning windows", leave=False):  # rarest first
        line_starts, line_ends = corpus.line_bounds(samples[word])
        for position, line_start, line_end in zip(samples[word].tolist(), line_starts.tolist(), line_ends.tolist()):
            if covered[word] >= needed[word]:
                break
            if position in used:
                continue
            start, end = max(line_start, position - window), min(line_end, position + window + 1)
            targets = [(position, int(word))]
            used.add(position)
            covered[word] += 1
            lo, hi = max(start, position - central), min(end, position + central + 1)
            nearby = vocab_of_surface[numpy.asarray(corpus.ids[lo:hi])]
            for offset in numpy.flatnonzero(nearby >= 0).tolist():
                other, other_position = int(nearby[offset]), lo + offset
                if covered[other] < needed[other] and other_position not in used:
                    used.add(other_position)
                    covered[other] += 1
                    targets.append((other_position, other))
            windows.append((start, end, targets))
    return windows
