"""Static word vectors from a contextual encoder, pooled over contexts sampled across the corpus.

`export_vectors` runs the steps, each in a module of its own:

1. **segment** (`corpus/word_lines.py`): every non-blank line into words (spaCy's blank
   English tokenizer, whitespace, or any `segment(text) -> words` function, e.g. a
   Chinese word segmenter); a segmentation that leaves the words uncut is refused;
2. **count, sample, plan windows** (`contexts.py`): the word ids go to a memory-mapped
   file, so memory does not grow with the corpus; up to `contexts` occurrences of each
   of the `n_words` most frequent words are drawn from all of them, and each becomes a
   window of `window` words either side (within its line);
3. **encode** (`window_encoder.py`): the windows, sorted by length, go through the
   Hugging Face model in large batches; each target occurrence's pieces are pooled
   (`spacy_wv.pooling`) from the chosen layers and averaged per word;
4. **compose** (`composer.py`): a word that still got no context (its window overflowed
   the encoder's length limit, e.g. a line of very long tokens) is encoded alone and
   mapped into the pooled space by a linear map fitted on the pooled words (the same map
   serves words outside the table, see `wordvectors.py`).

The result records which words were pooled and which composed; `wordvectors.py` writes
it (after the post-processing of `postprocess.py`) and reads it back.
"""
import itertools
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy
from tqdm import tqdm
from wasabi import msg

from ..corpus.word_lines import (SEGMENTATION_SAMPLE_LINES, Segmenter, check_segmentation, describe_segmentation,
                                 iter_word_lines, make_segmenter)
from ..errors import UserError
from ..memory import TRIM_EVERY, release_free_memory
from ..pooling import check_pooling
from .composer import Composer
from .contexts import Corpus, Window, build_vocabulary, plan_windows, sample_occurrences
from .window_encoder import WindowEncoder

# Measured on WS353/SimLex-999/WiC with the 30-minute ModernBERT encoder
# (benchmarks/RESULTS.md, "Word vectors"): the embeddings and lower layers beat the top one.
DEFAULT_LAYERS = [0, 1, 2]


@dataclass
class ExportSettings:
    n_words: int = 30_000
    contexts: int = 20
    layers: List[int] = field(default_factory=lambda: list(DEFAULT_LAYERS))
    pooling: str = "mean"
    lowercase: bool = False
    whitespace: bool = False
    segmenter: Optional[str] = None  # "jieba" or "char": Chinese words (corpus/segment.py)
    window: int = 5  # words either side of a sampled occurrence
    precision: str = "bf16"
    batch_size: int = 256  # windows per encoder batch
    seed: int = 0
    compose_ridge: float = 1.0
    distill: bool = False
    distill_epochs: int = 5
    per_layer: bool = False  # keep one table per layer (benchmarks: every layer mix from one pass)

    def check(self) -> "ExportSettings":
        if min(self.n_words, self.contexts, self.window, self.batch_size) < 1:
            raise UserError("--n-words, --contexts, --window and --batch-size must be positive")
        if self.whitespace and self.segmenter:
            raise UserError(f"Give --whitespace or --segmenter, not both: --segmenter {self.segmenter} cuts the words itself")
        if not self.layers:
            raise UserError("--layers is empty; give at least one layer index, e.g. -1")
        check_pooling(self.pooling)
        return self


@dataclass
class ExportResult:
    words: List[str]
    table: numpy.ndarray
    stats: Dict[str, float]
    pooled: numpy.ndarray  # bool per word: True = pooled from contexts, False = composed
    composer: Optional[Composer] = None
    per_layer: Optional[numpy.ndarray] = None  # (words, layers, width) with `per_layer`


def check_corpus_segmentation(paths: Sequence[Path], settings: ExportSettings) -> None:
    """`check_segmentation` on the first lines of the corpus, before an encoder is loaded."""
    lines = iter_word_lines(paths, make_segmenter(settings.whitespace, settings.segmenter))
    check_segmentation(list(itertools.islice(lines, SEGMENTATION_SAMPLE_LINES)),
                       describe_segmentation(settings.whitespace, settings.segmenter))


def export_vectors(model, tokenizer, paths: Sequence[Path], settings: ExportSettings, segment: Optional[Segmenter] = None,
                   workdir: Optional[Path] = None) -> ExportResult:
    """Pool each of the `n_words` most frequent words over up to `contexts` sampled contexts.
    `segment(text) -> words` splits a line into words (default: `make_segmenter`).
    `workdir` holds the memory-mapped word ids while it runs (default: a temporary
    directory; `vectors export` gives a scratch directory beside its output)."""
    settings.check()
    n_layers = model.config.num_hidden_layers + 1
    for layer in settings.layers:
        if not -n_layers <= layer < n_layers:
            raise UserError(f"Layer {layer} does not exist: the encoder has layers 0..{n_layers - 1} (0 = embeddings)")
    segmentation = "the given segmenter" if segment else describe_segmentation(settings.whitespace, settings.segmenter)
    segment = segment or make_segmenter(settings.whitespace, settings.segmenter)
    stats: Dict[str, float] = {}
    with (nullcontext(workdir) if workdir is not None else tempfile.TemporaryDirectory(prefix="spacy_wv_export_")) as tmp:
        start = time.perf_counter()
        lines = iter_word_lines(paths, segment)
        first_lines = list(itertools.islice(lines, SEGMENTATION_SAMPLE_LINES))
        check_segmentation(first_lines, segmentation)
        corpus = Corpus.build(itertools.chain(first_lines, lines), Path(tmp))
        words, counts, vocab_of_surface = build_vocabulary(corpus, settings.n_words, settings.lowercase)
        if not words:
            raise UserError("Nothing to export: empty corpus (no word without whitespace inside)")
        stats.update(corpus_words=int(corpus.ids.shape[0]), word_types=len(corpus.surfaces), count_seconds=time.perf_counter() - start)
        msg.info(f"Counted {stats['corpus_words']:,} words, {len(corpus.surfaces):,} types in {stats['count_seconds']:.1f}s")
        start = time.perf_counter()
        samples = sample_occurrences(corpus, vocab_of_surface, counts, settings.contexts, settings.seed)
        windows = plan_windows(corpus, vocab_of_surface, samples, settings.contexts, settings.window)
        stats.update(sample_seconds=time.perf_counter() - start, windows=len(windows))
        start = time.perf_counter()
        encoder = WindowEncoder(model, tokenizer, settings.layers, settings.pooling, settings.precision, concatenate=settings.per_layer)
        distiller = None
        if settings.distill:
            from .distill import Distiller

            distiller = Distiller(len(words), model.config.hidden_size, settings.seed)
        sums, seen, encoded_words = encode_windows(encoder, corpus, windows, vocab_of_surface, len(words), settings.batch_size, distiller)
        del corpus
    stats.update(encode_seconds=time.perf_counter() - start, encoded_words=encoded_words)
    msg.info(f"Encoded {len(windows):,} windows ({encoded_words:,} words) in {stats['encode_seconds']:.1f}s ({encoded_words / max(stats['encode_seconds'], 1e-9):,.0f} words/s)")
    pooled_mask = seen > 0
    table = numpy.zeros_like(sums, dtype="float32")
    table[pooled_mask] = sums[pooled_mask] / seen[pooled_mask, None]
    stats.update(words=len(words), pooled_words=int(pooled_mask.sum()), composed_words=0,
                 mean_contexts_per_word=float(seen[pooled_mask].mean()) if pooled_mask.any() else 0.0)
    if settings.per_layer:
        per_layer = table.reshape(len(words), len(settings.layers), model.config.hidden_size)
        return ExportResult(words, per_layer.mean(1), stats, pooled_mask, None, per_layer)
    if distiller is not None:
        start = time.perf_counter()
        table = distiller.train(table, pooled_mask, settings.distill_epochs)
        stats["distill_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    composer = Composer.fit(encoder, words, table, pooled_mask, settings.compose_ridge)
    if not pooled_mask.all():
        missing = numpy.flatnonzero(~pooled_mask)
        table[missing] = composer.compose([words[i] for i in missing])
    stats.update(compose_seconds=time.perf_counter() - start, composed_words=int((~pooled_mask).sum()),
                 composition_heldout_cosine=composer.heldout_cosine)
    return ExportResult(words, table, stats, pooled_mask, composer)


def encode_windows(encoder: WindowEncoder, corpus: Corpus, windows: List[Window], vocab_of_surface: numpy.ndarray, n_words: int,
                   batch_size: int, distiller=None) -> Tuple[numpy.ndarray, numpy.ndarray, int]:
    """(sum of the pooled vectors of each word's targets, how many were pooled, words
    encoded). The windows go shortest first (in characters, a proxy for pieces), so that
    batches hold little padding; `distiller` observes every word of every window."""
    width = encoder.width
    sums = numpy.zeros((n_words, width), dtype="float64")
    seen = numpy.zeros(n_words, dtype="int64")
    encoded_words = 0
    windows.sort(key=lambda item: sum(len(corpus.surfaces[i]) + 1 for i in corpus.ids[item[0]:item[1]].tolist()))
    with tqdm(total=len(windows), desc="Encoding contexts", unit=" windows", leave=False) as bar:
        for batch_number, batch_start in enumerate(range(0, len(windows), batch_size), start=1):
            if batch_number % TRIM_EVERY == 0:
                release_free_memory()  # longer windows each batch: the freed shorter ones stayed resident
            batch = windows[batch_start : batch_start + batch_size]
            texts = [[corpus.surfaces[i] for i in corpus.ids[s:e].tolist()] for s, e, _ in batch]
            targets = [[(position - s, word) for position, word in items] for s, _, items in batch]
            pooled, types, hidden_words = encoder.encode(texts, targets, with_all_words=distiller is not None)
            numpy.add.at(sums, types, pooled)
            numpy.add.at(seen, types, 1)
            if distiller is not None:
                distiller.observe(hidden_words, [[vocab_of_surface[i] for i in corpus.ids[s:e].tolist()] for s, e, _ in batch])
            encoded_words += sum(len(t) for t in texts)
            bar.update(len(batch))
    return sums, seen, encoded_words
