"""Token shards: the binary format that corpus encoding writes and pretraining memory-maps.

A shard directory holds `meta.json` and files `shard_00000.bin`, ... Each `.bin` is a flat
little-endian array of token ids (uint16 when the vocabulary fits, else uint32); the
meta records each shard's token count and CRC-32, so that a truncated or corrupt shard
is refused when it is read. Documents
are concatenated, each followed by the `doc_sep_id` token, so packing sequences across
document boundaries needs no extra index, and a boundary is visible to the model.
"""
import hashlib
import json
import os
import zlib
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import numpy as np

from ..errors import UserError

META_FILE = "meta.json"
SHARD_PREFIX = "shard_"
FORMAT_VERSION = 1
CHECK_BYTES = 1 << 24


def dtype_for_vocab(vocab_size: int) -> np.dtype:
    return np.dtype("<u2") if vocab_size <= 2**16 else np.dtype("<u4")


class ShardWriter:
    """Appends documents (lists of token ids) to fixed-size shards; call `close()` to
    write `meta.json`. Files are written under temporary names and renamed when
    complete, so an interrupted encode never leaves a shard that looks finished."""

    def __init__(self, output_dir: Path, vocab_size: int, doc_sep_id: int,
                 shard_tokens: int = 50_000_000, extra_meta: Optional[Dict] = None):
        self.output_dir = Path(output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.dtype = dtype_for_vocab(vocab_size)
        self.vocab_size = vocab_size
        self.doc_sep_id = doc_sep_id
        self.shard_tokens = shard_tokens
        self.extra_meta = dict(extra_meta or {})
        self.shards: List[Dict] = []
        self.n_docs = 0
        self._file = None
        self._current_tokens = 0

    def _open_next(self) -> None:
        name = f"{SHARD_PREFIX}{len(self.shards):05d}.bin"
        self._name = name
        self._file = open(self.output_dir / (name + ".tmp"), "wb")
        self._current_tokens = 0
        self._crc = 0

    def _finish_current(self) -> None:
        if self._file is None:
            return
        self._file.close()
        os.replace(self.output_dir / (self._name + ".tmp"), self.output_dir / self._name)
        self.shards.append({"file": self._name, "n_tokens": self._current_tokens, "crc32": self._crc})
        self._file = None

    def _write(self, arr: np.ndarray) -> None:
        if self._file is None:
            self._open_next()
        data = arr.tobytes()
        self._file.write(data)
        self._crc = zlib.crc32(data, self._crc)
        self._current_tokens += len(arr)

    def add(self, ids: Iterable[int]) -> None:
        arr = np.asarray(list(ids) + [self.doc_sep_id], dtype=self.dtype)
        self.add_batch(arr, np.array([len(arr)]))

    def add_batch(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        """Documents given as one array (each followed by `doc_sep_id`) and their lengths.
        A shard ends after the document that brings it to `shard_tokens`, as if the
        documents were added one by one."""
        ids = np.asarray(ids, dtype=self.dtype)
        ends = np.cumsum(lengths)
        start, first_doc = 0, 0
        while first_doc < len(ends):
            room = self.shard_tokens - (self._current_tokens if self._file is not None else 0)
            # The first document whose end fills the current shard.
            last_doc = int(np.searchsorted(ends, start + room, side="left"))
            if last_doc >= len(ends):
                self._write(ids[start:])
                self.n_docs += len(ends) - first_doc
                return
            end = int(ends[last_doc])
            self._write(ids[start:end])
            self.n_docs += last_doc + 1 - first_doc
            self._finish_current()
            start, first_doc = end, last_doc + 1

    @property
    def n_tokens(self) -> int:
        return sum(s["n_tokens"] for s in self.shards) + (self._current_tokens if self._file else 0)

    def close(self) -> Dict:
        self._finish_current()
        meta = {
            "format_version": FORMAT_VERSION,
            "dtype": self.dtype.str,
            "vocab_size": self.vocab_size,
            "doc_sep_id": self.doc_sep_id,
            "n_docs": self.n_docs,
            "n_tokens": sum(s["n_tokens"] for s in self.shards),
            "shards": self.shards,
            **self.extra_meta,
        }
        tmp = self.output_dir / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf8")
        os.replace(tmp, self.output_dir / META_FILE)
        return meta


class ShardReader:
    """Memory-maps every shard of a directory; memory use does not grow with corpus size."""

    def __init__(self, shard_dir: Path, verify: bool = True):
        self.shard_dir = Path(shard_dir)
        meta_path = self.shard_dir / META_FILE
        if not meta_path.exists():
            raise UserError(f"No token shards at {self.shard_dir} (missing {META_FILE}); run `python -m spacy_wv encode` first.")
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf8"))
            self.dtype = np.dtype(self.meta["dtype"])
            self.doc_sep_id = int(self.meta["doc_sep_id"])
            self.vocab_size = int(self.meta["vocab_size"])
            shards = [(str(s["file"]), int(s["n_tokens"]), s.get("crc32")) for s in self.meta["shards"]]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise UserError(f"{meta_path} is not valid shard metadata ({type(err).__name__}: {err}); "
                            f"encode the corpus again with `python -m spacy_wv encode`") from None
        self.arrays = []
        for name, n_tokens, crc in shards:
            if n_tokens > 0:
                path = self.shard_dir / name
                self._check_shard(path, n_tokens, crc if verify else None)
                self.arrays.append(np.memmap(path, dtype=self.dtype, mode="r"))
        if not self.arrays:
            raise UserError(f"The token shards at {self.shard_dir} hold no tokens: the corpus was empty.")

    def _check_shard(self, path: Path, n_tokens: int, crc: Optional[int]) -> None:
        again = "encode the corpus again with `python -m spacy_wv encode`"
        if not path.is_file():
            raise UserError(f"The shard {path} listed in {self.shard_dir / META_FILE} is missing: {again}")
        size, expected = path.stat().st_size, n_tokens * self.dtype.itemsize
        if size != expected:
            raise UserError(f"The shard {path} is truncated or damaged: {size} bytes, its metadata says "
                            f"{expected} ({n_tokens} tokens): {again}")
        if crc is not None:
            found = 0
            with path.open("rb") as f:
                for block in iter(lambda: f.read(CHECK_BYTES), b""):
                    found = zlib.crc32(block, found)
            if found != crc:
                raise UserError(f"The shard {path} is corrupt (its CRC-32 does not match its metadata): {again}")

    @property
    def data_fingerprint(self) -> str:
        """Identifies the encoded data (tokenizer, every shard's size and checksum), so
        that a resumed run can tell that its shards were changed."""
        keys = ("dtype", "vocab_size", "doc_sep_id", "n_docs", "n_tokens", "shards", "tokenizer_fingerprint", "tokenizer_sha256")
        return hashlib.sha256(json.dumps({k: self.meta.get(k) for k in keys}, sort_keys=True).encode("utf8")).hexdigest()[:16]

    @property
    def n_tokens(self) -> int:
        return sum(len(a) for a in self.arrays)
