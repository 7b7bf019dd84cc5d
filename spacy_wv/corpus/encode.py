"""Encode raw text into token shards with a trained fast tokenizer.

Documents are tokenized in batches without special tokens; the shard format puts the
tokenizer's sep/eos id after each document, so pretraining sees document boundaries.
"""
import hashlib
import itertools
import json
import time
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from tokenizers import Tokenizer
from tqdm import tqdm
from wasabi import msg

from ..errors import UserError
from .atomic_dir import atomic_output_dir
from .shards import META_FILE, ShardWriter
from .text import PathLike, ReadStats, corpus_bytes, find_text_files, iter_documents
from .tokenizer_training import TOKENIZER_FILE, tokenizer_kind

TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
SPECIAL_ROLES = ("pad", "unk", "cls", "sep", "mask", "bos", "eos")
MAX_BATCH_CHARS = 2_000_000


def encode_corpus(
    tokenizer_dir: PathLike,
    inputs: Sequence[PathLike],
    output_dir: PathLike,
    batch_size: int = 1000,
    shard_tokens: int = 50_000_000,
    overwrite: bool = False,
    stats: Optional[ReadStats] = None,
) -> Dict:
    """Write the documents of `inputs` as token shards to `output_dir` and return the
    shard meta. An `output_dir` holding shards of another tokenizer is replaced only
    with `overwrite`; shards of the same tokenizer are replaced. Nothing is written when
    the inputs are missing or hold no text."""
    if batch_size < 1 or shard_tokens < 1:
        raise UserError(f"batch_size and shard_tokens must be positive, got {batch_size} and {shard_tokens}")
    tokenizer_dir = Path(tokenizer_dir)
    tokenizer, special_ids = load_tokenizer(tokenizer_dir)
    doc_sep_id = special_ids["sep"] if special_ids["sep"] is not None else special_ids["eos"]
    if doc_sep_id is None:
        raise UserError(f"The tokenizer at {tokenizer_dir} has neither a sep nor an eos token to separate documents")
    fingerprint = hashlib.sha256((tokenizer_dir / TOKENIZER_FILE).read_bytes()).hexdigest()
    output_dir = Path(output_dir)
    _check_output_dir(output_dir, fingerprint, overwrite)

    stats = stats if stats is not None else ReadStats()
    docs = iter_documents(inputs, stats)
    first = next(docs)  # raises UserError for missing inputs or an empty corpus
    tokenizer.no_truncation()
    tokenizer.no_padding()
    extra_meta = {
        "tokenizer_dir": str(tokenizer_dir.resolve()),
        "tokenizer_kind": tokenizer_kind(tokenizer),
        "tokenizer_sha256": fingerprint,
        "special_token_ids": special_ids,
        "inputs": [str(Path(p).resolve()) for p in inputs],
    }
    start = time.perf_counter()
    with atomic_output_dir(output_dir) as tmp_dir:
        writer = ShardWriter(tmp_dir, vocab_size=tokenizer.get_vocab_size(with_added_tokens=True), doc_sep_id=doc_sep_id,
                             shard_tokens=shard_tokens, extra_meta=extra_meta)
        all_docs = itertools.chain([first], docs)
        with tqdm(total=corpus_bytes(find_text_files(inputs)), unit="B", unit_scale=True, desc="Encoding") as bar:
            for batch in _batches(all_docs, batch_size):
                for encoding in tokenizer.encode_batch(batch, add_special_tokens=False):
                    if encoding.ids:
                        writer.add(encoding.ids)
                bar.update(stats.bytes_read - bar.n)
                bar.set_postfix(tokens=writer.n_tokens, refresh=False)
        meta = writer.close()
    seconds = max(time.perf_counter() - start, 1e-9)
    stats.warn_skipped()
    msg.good(f"Encoded {stats.bytes_read / 1e6:.1f} MB in {seconds:.1f} s: "
             f"{stats.bytes_read / 1e6 / seconds:.2f} MB/s, {meta['n_tokens'] / seconds:,.0f} tokens/s")
    return meta


def load_tokenizer(tokenizer_dir: Path) -> Tuple[Tokenizer, Dict[str, Optional[int]]]:
    """The `tokenizers.Tokenizer` of a Hugging Face tokenizer (or model) directory and the
    ids of its special tokens by role. Reads the files directly: importing transformers
    would take longer than encoding a small corpus."""
    tokenizer_file = Path(tokenizer_dir) / TOKENIZER_FILE
    if not tokenizer_file.exists():
        raise UserError(f"No tokenizer at {tokenizer_dir} (missing {TOKENIZER_FILE}); run `python -m spacy_wv tokenizer` first")
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    roles: Dict = {}
    for name in (TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE):
        path = Path(tokenizer_dir) / name
        if path.exists():
            roles.update(json.loads(path.read_text(encoding="utf8")))
    special_ids: Dict[str, Optional[int]] = {}
    for role in SPECIAL_ROLES:
        token = roles.get(f"{role}_token")
        token = token.get("content") if isinstance(token, dict) else token
        special_ids[role] = tokenizer.token_to_id(token) if isinstance(token, str) else None
    return tokenizer, special_ids


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


def _check_output_dir(output_dir: Path, fingerprint: str, overwrite: bool) -> None:
    if not output_dir.exists() or not any(output_dir.iterdir()):
        return
    meta_path = output_dir / META_FILE
    if not meta_path.exists():
        raise UserError(f"{output_dir} exists and does not hold token shards; choose an empty or new directory")
    old = json.loads(meta_path.read_text(encoding="utf8"))
    if old.get("tokenizer_sha256") != fingerprint and not overwrite:
        raise UserError(f"{output_dir} holds shards of another tokenizer ({old.get('tokenizer_dir', 'unknown')}); "
                        f"pass --overwrite to replace them")
