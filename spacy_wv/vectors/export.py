"""Static word vectors from a contextual encoder, streamed over a raw-text corpus.

Three streaming passes over the same contexts (a context is a line of a document, cut
into pieces of at most `max_words` words), so memory holds only counts and samples:

1. count word types; keep the `n_words` most frequent;
2. reservoir-sample up to `contexts` occurrences of each kept word, stored as
   (context number, word position): a few integers per sample;
3. encode the contexts holding samples, in length-sorted batches, straight through the
   Hugging Face model; pool each sampled word's pieces (found through the fast
   tokenizer's character offsets) and average them per word type.
"""
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy
from tqdm import tqdm
from wasabi import msg

from ..corpus.text import iter_documents
from ..errors import UserError
from ..pipeline.pooling import check_pooling, pool_wordpieces

LAST_LAYER = -1
MAX_POSITIONS = 512


@dataclass
class ExportSettings:
    n_words: int = 30_000
    contexts: int = 10
    layers: List[int] = field(default_factory=lambda: [LAST_LAYER])
    pooling: str = "mean"
    lowercase: bool = False
    whitespace: bool = False
    segmenter: Optional[str] = None  # "jieba" or "char": Chinese words (corpus/segment.py)
    max_words: int = 128
    batch_size: int = 64
    seed: int = 0

    def check(self) -> "ExportSettings":
        if self.n_words < 1 or self.contexts < 1 or self.max_words < 1 or self.batch_size < 1:
            raise UserError("--n-words, --contexts, --max-words and --batch-size must be positive")
        if not self.layers:
            raise UserError("--layers is empty; give at least one layer index, e.g. -1")
        check_pooling(self.pooling)
        return self


@dataclass
class ExportResult:
    words: List[str]
    table: numpy.ndarray
    stats: Dict[str, float]


def iter_contexts(paths: Sequence[Path], whitespace: bool, max_words: int, segmenter: Optional[str] = None) -> Iterator[List[str]]:
    """The corpus as lists of words: each non-blank line of each document, tokenised by
    a blank English spaCy tokenizer (or split at whitespace for pre-tokenised text, or
    cut by a Chinese word segmenter), cut into pieces of at most `max_words` words."""
    tokenizer = segment = None
    if segmenter:
        from ..corpus.segment import get_segmenter

        segment = get_segmenter(segmenter)
    elif not whitespace:
        import spacy

        tokenizer = spacy.blank("en").tokenizer
    for document in iter_documents(paths):
        lines = [line for line in document.split("\n") if line.strip()]
        if segment is not None:
            tokenised = (segment(line) for line in lines)
        elif whitespace:
            tokenised = (line.split() for line in lines)
        else:
            tokenised = ([token.text for token in doc if not token.is_space] for doc in tokenizer.pipe(lines))
        for words in tokenised:
            for start in range(0, len(words), max_words):
                yield words[start : start + max_words]


def export_vectors(model, tokenizer, paths: Sequence[Path], settings: ExportSettings) -> ExportResult:
    settings.check()
    n_layers = model.config.num_hidden_layers + 1
    for layer in settings.layers:
        if not -n_layers <= layer < n_layers:
            raise UserError(f"Layer {layer} does not exist: the encoder has layers 0..{n_layers - 1} (0 = embeddings)")
    stats: Dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="spacy_wv_export_") as tmp:
        # Tokenise once: the later passes read this copy, one context per line.
        tokenised = Path(tmp) / "contexts.txt"
        start = time.perf_counter()
        counts, n_contexts, n_tokens = _count_and_copy(iter_contexts(paths, settings.whitespace, settings.max_words, settings.segmenter), settings.lowercase, tokenised)
        # A word with whitespace inside (rare; e.g. a no-break space) cannot be a word2vec key.
        vocabulary = [word for word, _ in counts.most_common() if word and not any(c.isspace() for c in word)][: settings.n_words]
        stats.update(corpus_words=n_tokens, word_types=len(counts), count_seconds=time.perf_counter() - start)
        msg.info(f"Counted {n_tokens:,} words, {len(counts):,} types in {stats['count_seconds']:.1f}s ({n_tokens / stats['count_seconds']:,.0f} words/s)")
        start = time.perf_counter()
        samples = _sample(_read_contexts(tokenised), vocabulary, settings, n_contexts)
        stats["sample_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        sums, seen, encoded_words = _encode(model, tokenizer, _read_contexts(tokenised), samples, len(vocabulary), settings)
    stats.update(encode_seconds=time.perf_counter() - start, encoded_words=encoded_words)
    msg.info(f"Encoded {encoded_words:,} words of context in {stats['encode_seconds']:.1f}s ({encoded_words / max(stats['encode_seconds'], 1e-9):,.0f} words/s)")
    kept = numpy.flatnonzero(seen > 0)
    if kept.size == 0:
        raise UserError("No word got a vector: the corpus is too small or every context was truncated")
    table = (sums[kept] / seen[kept, None]).astype("float32")
    stats.update(words=int(kept.size), mean_contexts_per_word=float(seen[kept].mean()))
    return ExportResult([vocabulary[i] for i in kept], table, stats)


def _count_and_copy(contexts: Iterable[List[str]], lowercase: bool, copy_path: Path) -> Tuple[Counter, int, int]:
    counts: Counter = Counter()
    n_contexts = n_tokens = 0
    with copy_path.open("w", encoding="utf8", newline="\n") as copy, tqdm(desc="Counting words", unit=" words", unit_scale=True, leave=False) as bar:
        for words in contexts:
            counts.update(word.lower() for word in words) if lowercase else counts.update(words)
            copy.write(" ".join(words) + "\n")
            n_contexts += 1
            n_tokens += len(words)
            bar.update(len(words))
    return counts, n_contexts, n_tokens


def _read_contexts(path: Path) -> Iterator[List[str]]:
    with path.open("r", encoding="utf8", newline="\n") as file:
        for line in file:
            yield line.rstrip("\n").split(" ")


def _sample(contexts: Iterable[List[str]], vocabulary: List[str], settings: ExportSettings, n_contexts: int) -> Dict[int, List[Tuple[int, int]]]:
    """Reservoir sampling (algorithm R) of occurrences per word type; returns the samples
    grouped by context: {context number: [(word position, word type), ...]}."""
    type_of = {word: i for i, word in enumerate(vocabulary)}
    k = settings.contexts
    reservoir = numpy.full((len(vocabulary), k, 2), -1, dtype="int64")
    seen = [0] * len(vocabulary)
    rng = random.Random(settings.seed)
    for context_number, words in enumerate(tqdm(contexts, desc="Sampling contexts", total=n_contexts, leave=False)):
        for position, word in enumerate(words):
            word_type = type_of.get(word.lower() if settings.lowercase else word)
            if word_type is None:
                continue
            seen[word_type] += 1
            slot = seen[word_type] - 1 if seen[word_type] <= k else rng.randrange(seen[word_type])
            if slot < k:
                reservoir[word_type, slot] = (context_number, position)
    by_context: Dict[int, List[Tuple[int, int]]] = {}
    for word_type, slot in zip(*numpy.nonzero(reservoir[:, :, 0] >= 0)):
        context_number, position = reservoir[word_type, slot]
        by_context.setdefault(int(context_number), []).append((int(position), int(word_type)))
    return by_context


def _encode(model, tokenizer, contexts, samples, n_types: int, settings: ExportSettings):
    import torch

    width = model.config.hidden_size
    sums = numpy.zeros((n_types, width), dtype="float64")
    seen = numpy.zeros(n_types, dtype="int64")
    max_length = min(MAX_POSITIONS, tokenizer.model_max_length, model.config.max_position_embeddings)
    buffer: List[Tuple[List[str], List[Tuple[int, int]]]] = []
    encoded_words = 0

    def flush():
        buffer.sort(key=lambda item: len(item[0]))
        for start in range(0, len(buffer), settings.batch_size):
            batch = buffer[start : start + settings.batch_size]
            texts = [" ".join(words) for words, _ in batch]
            encoding = tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt",
                                 return_offsets_mapping=True, return_special_tokens_mask=True)
            word_ids = _word_ids([words for words, _ in batch], encoding.pop("offset_mapping").numpy(), encoding.pop("special_tokens_mask").numpy())
            with torch.inference_mode():
                output = model(**encoding, output_hidden_states=True)
            hidden = torch.stack([output.hidden_states[layer] for layer in settings.layers]).mean(0)
            _accumulate(hidden.float().numpy(), word_ids, [wanted for _, wanted in batch], settings.pooling, sums, seen)
        buffer.clear()

    with tqdm(total=len(samples), desc="Encoding contexts", leave=False) as bar:
        for context_number, words in enumerate(contexts):
            wanted = samples.get(context_number)
            if wanted is None:
                continue
            buffer.append((words, wanted))
            encoded_words += len(words)
            if len(buffer) >= settings.batch_size * 16:
                bar.update(len(buffer))
                flush()
        bar.update(len(buffer))
        flush()
    return sums, seen, encoded_words


def _word_ids(batch_words: List[List[str]], offsets: numpy.ndarray, special: numpy.ndarray) -> numpy.ndarray:
    """(batch, pieces): the word each piece belongs to, -1 for special tokens, padding
    and pieces of whitespace only.

    The words are joined with single spaces and mapped back through character offsets
    rather than passed pre-split (`is_split_into_words`), which byte-level BPE tokenizers
    (RoBERTa, GPT-2) accept only when built with `add_prefix_space=True`. A piece's last
    character decides its word, so a leading space inside a piece does not matter.
    """
    word_ids = numpy.full(offsets.shape[:2], -1, dtype="int64")
    for i, words in enumerate(batch_words):
        lengths = numpy.fromiter((len(word) for word in words), dtype="int64", count=len(words))
        starts = numpy.concatenate([[0], numpy.cumsum(lengths + 1)[:-1]])
        last_char = offsets[i, :, 1] - 1
        word = numpy.searchsorted(starts, last_char, side="right") - 1
        inside = (word >= 0) & (last_char < starts[word.clip(0)] + lengths[word.clip(0)])
        valid = (special[i] == 0) & (offsets[i, :, 1] > offsets[i, :, 0]) & inside
        word_ids[i, valid] = word[valid]
    return word_ids


def _accumulate(hidden: numpy.ndarray, word_ids: numpy.ndarray, wanted: List[List[Tuple[int, int]]], pooling: str, sums: numpy.ndarray, seen: numpy.ndarray) -> None:
    """Pool the pieces of each wanted (position, type) of each context in the batch and
    add them to the per-type sums. Words cut off by truncation have no piece and are skipped."""
    batch_size, length, width = hidden.shape
    stride = 1 + max(int(word_ids.max()), max(position for items in wanted for position, _ in items))
    piece_keys = (numpy.arange(batch_size)[:, None] * stride + word_ids).ravel()
    piece_keys[word_ids.ravel() < 0] = -1
    target_keys = numpy.array([i * stride + position for i, items in enumerate(wanted) for position, _ in items], dtype="int64")
    target_types = numpy.array([word_type for items in wanted for _, word_type in items], dtype="int64")
    selected = numpy.flatnonzero(numpy.isin(piece_keys, target_keys))
    if selected.size == 0:
        return
    keys, lengths = numpy.unique(piece_keys[selected], return_counts=True)
    pooled = pool_wordpieces(hidden.reshape(-1, width)[selected], lengths, pooling)
    order = numpy.argsort(target_keys)
    types = target_types[order][numpy.searchsorted(target_keys[order], keys)]
    numpy.add.at(sums, types, pooled)
    numpy.add.at(seen, types, 1)


def postprocess(table: numpy.ndarray, center: bool, remove_pcs: int) -> numpy.ndarray:
    """Mean-centering, then removing the projections on the top `remove_pcs` principal
    components ("all-but-the-top", Mu & Viswanath 2018; it implies centering)."""
    if remove_pcs < 0 or remove_pcs >= min(table.shape):
        raise UserError(f"--remove-pcs must be between 0 and {min(table.shape) - 1}, got {remove_pcs}")
    table = table.astype("float32", copy=True)
    if center or remove_pcs:
        table -= table.mean(axis=0)
    if remove_pcs:
        _, _, components = numpy.linalg.svd(table, full_matrices=False)
        top = components[:remove_pcs]
        table -= (table @ top.T) @ top
    return table
