"""Same-corpus fastText vectors (gensim), keyed by spaCy's token texts, so a pipeline's
static-vectors features (`include_static_vectors`, keyed by ORTH) find them."""
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Optional

from tqdm import tqdm

from ..corpus.text import ReadStats, corpus_bytes, find_text_files
from ..corpus.word_lines import iter_word_lines, make_segmenter, write_word_lines
from ..errors import UserError
from ..outputs import atomic_output_file, claim_output_file, scratch_dir
from .subwords import SubwordVectors, is_subword_file
from .tables import is_word2vec_text, write_word2vec


@dataclass(frozen=True)
class FastTextSettings:
    dim: int = 100
    epochs: int = 5
    min_count: int = 3
    window: int = 5
    max_words: Optional[int] = None
    # Hash buckets of the character n-grams. fastText's 2M make a 400 MB subword table at
    # float16; 200k keeps it at 40 MB for `--subwords`, with the same scores on the `all`
    # corpus, in-vocabulary and from n-grams alone (benchmarks/RESULTS.md, "n-gram buckets").
    bucket: int = 200_000
    lang: str = "en"
    workers: int = 0  # 0: all cores
    seed: int = 0

    def check(self) -> "FastTextSettings":
        for name in ("dim", "epochs", "min_count", "window", "bucket"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.max_words is not None and self.max_words < 1:
            raise UserError(f"--max-words must be at least 1, got {self.max_words}")
        if self.workers < 0:
            raise UserError(f"--workers must be >= 0, got {self.workers}")
        return self


def tokenize_corpus(inputs: Iterable[Path], out_file: Path, lang: str) -> int:
    """One document per line, spaCy's tokens separated by single spaces; returns the token count."""
    segment = make_segmenter(lang=lang)
    files = find_text_files(inputs)
    stats = ReadStats()
    with tqdm(total=corpus_bytes(files), unit="B", unit_scale=True, desc="Tokenizing") as progress:
        def documents() -> Iterator[List[str]]:
            for words in iter_word_lines(files, segment, by_document=True, stats=stats):
                progress.update(stats.bytes_read - progress.n)
                yield words

        n_tokens = write_word_lines(documents(), out_file)
    stats.warn_skipped()
    return n_tokens


def train_fasttext(inputs: Iterable[Path], out_file: Path, settings: FastTextSettings, subwords_file: Optional[Path] = None) -> dict:
    """Train gensim FastText on the tokenized corpus and write the most frequent words'
    vectors in word2vec text format (what `spacy init vectors` reads), and with
    `subwords_file` the n-gram buckets (`SubwordVectors`). An existing output is replaced
    only if it holds the same kind of table; the tokenized corpus is a scratch file beside it."""
    from gensim.models import FastText

    inputs = list(inputs)
    if subwords_file is not None and os.path.realpath(subwords_file) == os.path.realpath(out_file):
        raise UserError(f"--subwords {subwords_file} is the output table itself: give the n-gram buckets a file of their own (.npz)")
    claim_subwords = (claim_output_file(subwords_file, ".npz", [*inputs, out_file], is_subword_file, "a subword table")
                      if subwords_file is not None else nullcontext())
    with claim_output_file(out_file, ".txt", inputs, is_word2vec_text, "a word2vec text table"), claim_subwords, \
            scratch_dir(out_file) as tmp:
        started = time.perf_counter()
        corpus = str(tmp / "tokens.txt")
        n_tokens = tokenize_corpus(inputs, Path(corpus), settings.lang)
        if n_tokens == 0:
            raise UserError("empty corpus: no tokens to train vectors on")
        tokenized_s = time.perf_counter() - started
        model = FastText(vector_size=settings.dim, window=settings.window, min_count=settings.min_count,
                         epochs=settings.epochs, bucket=settings.bucket, seed=settings.seed, workers=settings.workers or os.cpu_count() or 1)
        model.build_vocab(corpus_file=corpus)
        if len(model.wv) == 0:
            raise UserError(f"No word occurs --min-count {settings.min_count} times; lower it or give more text")
        model.train(corpus_file=corpus, total_words=model.corpus_total_words, total_examples=model.corpus_count,
                    epochs=model.epochs)
        words = model.wv.index_to_key[:settings.max_words]  # most frequent first
        write_word2vec(out_file, words, model.wv[words])
        if subwords_file is not None:
            with atomic_output_file(subwords_file) as tmp_out:
                SubwordVectors.from_gensim(model).save(tmp_out)
    return {"tokens": n_tokens, "words": len(words),
            "dim": settings.dim, "tokenize_s": round(tokenized_s, 1),
            "seconds": round(time.perf_counter() - started, 1)}
