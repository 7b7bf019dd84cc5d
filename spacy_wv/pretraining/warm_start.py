"""Warm start: the encoder's input (and tied output) embeddings from same-corpus static vectors.

A Transformer step costs about a thousand times more per token than a static-vector
update, so in a CPU budget the co-occurrence statistics of the whole corpus are cheaper
to learn with gensim first. Raw static vectors do worse than a random start (Kim et al.
2024, arXiv 2407.12514): they are centred and rescaled to the encoder's initialiser
range before they are loaded.

Two ways to get a vector per tokenizer piece (`method`):
- "pieces": gensim Word2Vec over the token shards themselves (each piece id a word), so
  every piece that occurs `min_count` times gets a vector learnt from its own contexts;
- "words": gensim FastText over the words of the decoded shards; a piece's vector is
  the FastText vector of its text (subword n-grams give one for any string).
- "none": no warm start (`--warm_start.method none`).
The seconds it takes are charged to the pretraining budget (`max_minutes`).
"""
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import numpy as np
import torch
from spacy.util import registry
from wasabi import msg

from ..corpus.word_lines import write_word_lines
from ..errors import UserError
from .batching import PackedCorpus

METHODS = ("pieces", "words", "none")
CONTINUATION_MARKERS = ("##", "Ġ", "▁")
LINE_TOKENS = 1000  # gensim reads at most 10,000 tokens of a line
DECODE_BATCH = 256  # token lines decoded at a time


@dataclass(frozen=True)
class StaticWarmStart:
    method: str
    epochs: int
    window: int
    min_count: int
    skipgram: bool
    max_tokens: Optional[int]
    workers: int

    @property
    def enabled(self) -> bool:
        return self.method != "none"

    def apply(self, model, tokenizer, corpus: PackedCorpus, doc_sep_id: int, seed: int) -> float:
        """Train the vectors, load them into `model`'s input embeddings; returns the seconds taken."""
        started = time.perf_counter()
        embeddings = model.get_input_embeddings().weight
        vectors, found, n_tokens = self.piece_vectors(tokenizer, corpus, doc_sep_id, embeddings.shape[1], seed)
        load_piece_vectors(model, vectors, found)
        seconds = time.perf_counter() - started
        msg.info(f"Warm start ({self.method}): static vectors for {int(found.sum())} of {len(found)} pieces "
                 f"from {n_tokens} tokens in {seconds:.0f} s (counted in the time budget)")
        return seconds

    def piece_vectors(self, tokenizer, corpus: PackedCorpus, doc_sep_id: int, width: int,
                      seed: int) -> Tuple[np.ndarray, np.ndarray, int]:
        """(vocabulary x width vectors, which rows have one, tokens trained on)."""
        with tempfile.TemporaryDirectory() as tmp:
            lines = Path(tmp) / "corpus.txt"
            if self.method == "pieces":
                n_tokens = write_piece_lines(corpus, doc_sep_id, lines, self.max_tokens)
                vectors, found = self.train_piece_vectors(lines, width, len(tokenizer), seed)
            else:
                n_tokens = write_decoded_lines(corpus, doc_sep_id, tokenizer, lines, self.max_tokens)
                vectors, found = self.train_word_vectors(lines, width, tokenizer, seed)
        if not found.any():
            raise UserError(f"[warm_start] no piece occurs {self.min_count} times in the corpus; lower min_count or add text.")
        return vectors, found, n_tokens

    def train_gensim(self, model_class, lines: Path, width: int, seed: int):
        try:
            return model_class(corpus_file=str(lines), vector_size=width, window=self.window, min_count=self.min_count,
                               epochs=self.epochs, sg=int(self.skipgram), negative=5, seed=seed,
                               workers=self.workers or os.cpu_count() or 1)
        except RuntimeError:  # gensim: "you must first build vocabulary"
            raise UserError(f"[warm_start] no {'piece' if self.method == 'pieces' else 'word'} occurs {self.min_count} "
                            "times in the corpus; lower min_count or add text.") from None

    def train_piece_vectors(self, lines: Path, width: int, vocab_size: int, seed: int) -> Tuple[np.ndarray, np.ndarray]:
        from gensim.models import Word2Vec

        model = self.train_gensim(Word2Vec, lines, width, seed)
        vectors = np.zeros((vocab_size, width), dtype=np.float32)
        found = np.zeros(vocab_size, dtype=bool)
        for key, index in model.wv.key_to_index.items():
            piece_id = int(key)
            if piece_id < vocab_size:
                vectors[piece_id] = model.wv.vectors[index]
                found[piece_id] = True
        return vectors, found

    def train_word_vectors(self, lines: Path, width: int, tokenizer, seed: int) -> Tuple[np.ndarray, np.ndarray]:
        from gensim.models import FastText

        model = self.train_gensim(FastText, lines, width, seed)
        special = set(tokenizer.all_special_ids)
        vectors = np.zeros((len(tokenizer), width), dtype=np.float32)
        found = np.zeros(len(tokenizer), dtype=bool)
        for piece, piece_id in tokenizer.get_vocab().items():
            text = piece_text(piece)
            if piece_id in special or piece_id >= len(found) or not text:
                continue
            vectors[piece_id] = model.wv[text]
            found[piece_id] = bool(np.any(vectors[piece_id]))  # a string with no known n-gram gets zeros
        return vectors, found


def load_piece_vectors(model, vectors: np.ndarray, found: np.ndarray) -> None:
    """Rows with a vector replace the random ones, rescaled to the initialiser's range;
    the output embeddings are tied to these in every masked family, so they follow."""
    embeddings = model.get_input_embeddings().weight
    init_std = float(getattr(model.config, "initializer_range", 0.02))
    with torch.no_grad():
        rows = torch.from_numpy(np.flatnonzero(found))
        embeddings[rows] = torch.from_numpy(rescale(vectors[found], init_std)).to(embeddings.dtype)


def piece_text(piece: str) -> str:
    for marker in CONTINUATION_MARKERS:
        if piece.startswith(marker):
            return piece[len(marker):]
    return piece


def rescale(vectors: np.ndarray, init_std: float) -> np.ndarray:
    """Centred (the shared frequency direction removed), then scaled so that the entries
    have the initialiser's standard deviation, as the random rows around them do."""
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    std = float(centred.std())
    return (centred * (init_std / std if std > 0 else 0.0)).astype(np.float32)


def training_documents(corpus: PackedCorpus, doc_sep_id: int, max_tokens: Optional[int]) -> Iterator[np.ndarray]:
    """The training part of the shards (never the held-back eval tail), one document at a time."""
    remaining = max_tokens if max_tokens is not None else float("inf")
    for array, length in zip(corpus.arrays, corpus.train_lengths):
        tokens = np.asarray(array[:min(length, remaining)])
        remaining -= len(tokens)
        ends = np.flatnonzero(tokens == doc_sep_id)
        start = 0
        for end in list(ends) + [len(tokens)]:
            if end > start:
                yield tokens[start:end]
            start = end + 1
        if remaining <= 0:
            return


def write_piece_lines(corpus: PackedCorpus, doc_sep_id: int, out: Path, max_tokens: Optional[int]) -> int:
    """The piece ids of each training document as words, in lines of at most LINE_TOKENS."""
    documents = (list(map(str, doc.tolist())) for doc in training_documents(corpus, doc_sep_id, max_tokens))
    return write_word_lines(documents, out, LINE_TOKENS)


def write_decoded_lines(corpus: PackedCorpus, doc_sep_id: int, tokenizer, out: Path, max_tokens: Optional[int]) -> int:
    """The training documents decoded back to text, split at whitespace, in lines of at
    most LINE_TOKENS words; returns the number of tokens (pieces) decoded."""
    n_tokens = 0

    def decode(batch: List[List[int]]) -> Iterator[List[str]]:
        for text in tokenizer.batch_decode(batch, skip_special_tokens=True, clean_up_tokenization_spaces=False):
            yield text.split()

    def decoded() -> Iterator[List[str]]:
        nonlocal n_tokens
        batch: List[List[int]] = []
        for doc in training_documents(corpus, doc_sep_id, max_tokens):
            batch.extend(doc[begin:begin + LINE_TOKENS].tolist() for begin in range(0, len(doc), LINE_TOKENS))
            n_tokens += len(doc)
            if len(batch) >= DECODE_BATCH:
                yield from decode(batch)
                batch = []
        yield from decode(batch)

    write_word_lines(decoded(), out, LINE_TOKENS)
    return n_tokens


@registry.misc("spacy_wv.StaticWarmStart.v1")
def static_warm_start(method: str = "pieces", epochs: int = 1, window: int = 5, min_count: int = 2,
                      skipgram: bool = True, max_tokens: Optional[int] = None, workers: int = 0) -> StaticWarmStart:
    if method not in METHODS:
        raise UserError(f"[warm_start] method must be one of {', '.join(METHODS)}, got {method!r}.")
    for name, value in (("epochs", epochs), ("window", window), ("min_count", min_count)):
        if not isinstance(value, int) or value < 1:
            raise UserError(f"[warm_start] {name} must be a positive integer, got {value}.")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise UserError(f"[warm_start] max_tokens must be a positive integer or null, got {max_tokens}.")
    if not isinstance(workers, int) or workers < 0:
        raise UserError(f"[warm_start] workers must be >= 0 (0: all cores), got {workers}.")
    return StaticWarmStart(method, epochs, window, min_count, skipgram, max_tokens, workers)
