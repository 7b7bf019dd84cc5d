"""Encode raw text into token shards with a trained fast tokenizer.

Documents are tokenized in batches (the tokenizer's `encode_batch`) without special
tokens; the shard format puts the tokenizer's sep/eos id after each document, so
pretraining sees document boundaries. With more than one worker, batches are encoded
in worker processes while this process reads the text and writes the shards, in
order, so the shards are the same for any number of workers. At most two batches per
worker are in flight, so memory does not grow with the corpus.
"""
import itertools
import json
import multiprocessing
import os
import signal
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from tokenizers import Tokenizer
from tqdm import tqdm
from wasabi import msg

from ..errors import UserError
from ..hf_dirs import TOKENIZER_FILE, load_backend_tokenizer, tokenizer_fingerprint
from ..outputs import LegacyFiles, as_path_list, atomic_output_dir, claim_output_dir
from .shards import META_FILE, ShardWriter, dtype_for_vocab
from .text import PathLike, ReadStats, corpus_bytes, find_text_files, iter_documents
from .tokenizer_training import tokenizer_kind

MAX_BATCH_CHARS = 2_000_000
MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """One worker per core this process may use (at most MAX_DEFAULT_WORKERS)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def encode_corpus(
    tokenizer_dir: PathLike,
    inputs: Sequence[PathLike],
    output_dir: PathLike,
    batch_size: int = 1000,
    shard_tokens: int = 50_000_000,
    overwrite: bool = False,
    stats: Optional[ReadStats] = None,
    workers: Optional[int] = None,
) -> Dict:
    """Write the documents of `inputs` as token shards to `output_dir` and return the
    shard meta. `output_dir` must be new, empty or hold token shards: shards of the same
    tokenizer are replaced, shards of another tokenizer only with `overwrite`, anything
    else never. Nothing is written when the inputs are missing or hold no text.
    `workers` processes encode in parallel (default: one per core)."""
    if batch_size < 1 or shard_tokens < 1:
        raise UserError(f"batch_size and shard_tokens must be positive, got {batch_size} and {shard_tokens}")
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise UserError(f"workers must be at least 1, got {workers}")
    inputs = as_path_list(inputs)
    tokenizer_dir = Path(tokenizer_dir)
    tokenizer, special_ids = load_backend_tokenizer(tokenizer_dir)
    doc_sep_id = special_ids["sep"] if special_ids["sep"] is not None else special_ids["eos"]
    if doc_sep_id is None:
        raise UserError(f"The tokenizer at {tokenizer_dir} has neither a sep nor an eos token to separate documents")
    fingerprint = tokenizer_fingerprint(tokenizer_dir / TOKENIZER_FILE)
    output_dir = Path(output_dir)
    with claim_output_dir(output_dir, "shards", [*inputs, tokenizer_dir], legacy=is_legacy_shard_dir) as holds_shards:
        if holds_shards:
            _check_same_tokenizer(output_dir, fingerprint, overwrite)
        stats = stats if stats is not None else ReadStats()
        docs = iter_documents(inputs, stats)
        first = next(docs)  # raises UserError for missing inputs or an empty corpus
        vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
        extra_meta = {
            "tokenizer_dir": str(tokenizer_dir.resolve()),
            "tokenizer_kind": tokenizer_kind(tokenizer),
            "tokenizer_fingerprint": fingerprint,
            "special_token_ids": special_ids,
            "inputs": [str(Path(p).resolve()) for p in inputs],
        }
        start = time.perf_counter()
        with atomic_output_dir(output_dir, kind="shards") as tmp_dir:
            writer = ShardWriter(tmp_dir, vocab_size=vocab_size, doc_sep_id=doc_sep_id,
                                 shard_tokens=shard_tokens, extra_meta=extra_meta)
            batches = _batches(itertools.chain([first], docs), batch_size)
            encoder = BatchEncoder(tokenizer_dir / TOKENIZER_FILE, doc_sep_id, dtype_for_vocab(vocab_size))
            with tqdm(total=corpus_bytes(find_text_files(inputs)), unit="B", unit_scale=True, desc="Encoding") as bar:
                for ids, lengths in encoder.map(batches, workers, tokenizer):
                    writer.add_batch(ids, lengths)
                    bar.update(stats.bytes_read - bar.n)
                    bar.set_postfix(tokens=writer.n_tokens, refresh=False)
            meta = writer.close()
    seconds = max(time.perf_counter() - start, 1e-9)
    stats.warn_skipped()
    msg.good(f"Encoded {stats.bytes_read / 1e6:.1f} MB in {seconds:.1f} s with {workers} worker(s): "
             f"{stats.bytes_read / 1e6 / seconds:.2f} MB/s, {meta['n_tokens'] / seconds:,.0f} tokens/s")
    return meta


class BatchEncoder:
    """Turns batches of documents into (flat ids with a separator after each document,
    document lengths), in this process or in worker processes, always in input order."""

    def __init__(self, tokenizer_file: Path, doc_sep_id: int, dtype: np.dtype):
        self.tokenizer_file = str(tokenizer_file)
        self.doc_sep_id = doc_sep_id
        self.dtype = dtype

    def map(self, batches: Iterable[List[str]], workers: int, tokenizer: Tokenizer) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        if workers == 1:
            _prepare(tokenizer)
            for batch in batches:
                yield encode_docs(tokenizer, batch, self.doc_sep_id, self.dtype)
            return
        # spawn, not fork: the parent may run threads (tqdm's monitor, torch's pools in a
        # test process) that a fork would copy mid-lock; a worker starts in ~0.5 s.
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self.tokenizer_file,))
        pending: deque = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(_encode_in_worker, batch, self.doc_sep_id, self.dtype))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            raise UserError("An encode worker process died (out of memory, or killed): nothing was written; "
                            "try a smaller --batch-size or fewer --workers") from None
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()


def encode_docs(tokenizer: Tokenizer, docs: List[str], doc_sep_id: int, dtype: np.dtype) -> Tuple[np.ndarray, np.ndarray]:
    """The ids of every non-empty document followed by `doc_sep_id`, as one array, and
    each document's length (separator included)."""
    ids = [encoding.ids for encoding in tokenizer.encode_batch(docs, add_special_tokens=False)]
    ids = [doc_ids for doc_ids in ids if doc_ids]
    lengths = np.fromiter((len(doc_ids) + 1 for doc_ids in ids), dtype=np.int64, count=len(ids))
    sep = [doc_sep_id]
    flat = np.fromiter(itertools.chain.from_iterable(itertools.chain(doc_ids, sep) for doc_ids in ids),
                       dtype=dtype, count=int(lengths.sum()))
    return flat, lengths


_WORKER_TOKENIZER: Optional[Tokenizer] = None


def _prepare(tokenizer: Tokenizer) -> None:
    tokenizer.no_truncation()
    tokenizer.no_padding()


def _init_worker(tokenizer_file: str) -> None:
    global _WORKER_TOKENIZER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one thread per worker process
    _WORKER_TOKENIZER = Tokenizer.from_file(tokenizer_file)
    _prepare(_WORKER_TOKENIZER)


def _encode_in_worker(docs: List[str], doc_sep_id: int, dtype: np.dtype) -> Tuple[np.ndarray, np.ndarray]:
    return encode_docs(_WORKER_TOKENIZER, docs, doc_sep_id, dtype)


def _batches(docs: Iterable[str], batch_size: int) -> Iterator[List[str]]:
    """Lists of at most `batch_size` documents and about MAX_BATCH_CHARS characters: a
    batch's encodings (pieces, offsets) take ~100 bytes a token while they live."""
    batch: List[str] = []
    chars = 0
    for doc in docs:
        batch.append(doc)
        chars += len(doc)
        if len(batch) >= batch_size or chars >= MAX_BATCH_CHARS:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def _check_same_tokenizer(output_dir: Path, fingerprint: str, overwrite: bool) -> None:
    try:
        old = json.loads((output_dir / META_FILE).read_text(encoding="utf8"))
    except (OSError, ValueError):
        old = {}
    if old.get("tokenizer_fingerprint") != fingerprint and not overwrite:
        raise UserError(f"{output_dir} holds shards of another tokenizer ({old.get('tokenizer_dir', 'unknown')}); "
                        f"pass --overwrite to replace them")


def is_legacy_shard_dir(path: Path) -> bool:
    """Shards written before output markers: meta.json of our format and exactly the
    shard files it lists."""
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf8"))
        listed = {str(shard["file"]) for shard in meta["shards"]} if "format_version" in meta else None
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return listed is not None and LegacyFiles({META_FILE, *listed})(path)
