"""Token shards: the binary format that corpus encoding writes and pretraining memory-maps.

A shard directory holds `meta.json` and files `shard_00000.bin`, ... Each `.bin` is a flat
little-endian array of token ids (uint16 when the vocabulary fits, else uint32). Documents
are concatenated, each followed by the `doc_sep_id` token, so packing sequences across
document boundaries needs no extra index, and a boundary is visible to the model.
"""
import json
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import numpy as np

from ..errors import UserError

META_FILE = "meta.json"
FORMAT_VERSION = 1


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
        name = f"shard_{len(self.shards):05d}.bin"
        self._name = name
        self._file = open(self.output_dir / (name + ".tmp"), "wb")
        self._current_tokens = 0

    def _finish_current(self) -> None:
        if self._file is None:
            return
        self._file.close()
        os.replace(self.output_dir / (self._name + ".tmp"), self.output_dir / self._name)
        self.shards.append({"file": self._name, "n_tokens": self._current_tokens})
        self._file = None

    def add(self, ids: Iterable[int]) -> None:
        arr = np.asarray(list(ids) + [self.doc_sep_id], dtype=self.dtype)
        if self._file is None:
            self._open_next()
        self._file.write(arr.tobytes())
        self._current_tokens += len(arr)
        self.n_docs += 1
        if self._current_tokens >= self.shard_tokens:
            self._finish_current()

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

    def __init__(self, shard_dir: Path):
        self.shard_dir = Path(shard_dir)
        meta_path = self.shard_dir / META_FILE
        if not meta_path.exists():
            raise UserError(f"No token shards at {self.shard_dir} (missing {META_FILE}); run `python -m spacy_wv encode` first.")
        self.meta = json.loads(meta_path.read_text(encoding="utf8"))
        self.dtype = np.dtype(self.meta["dtype"])
        self.doc_sep_id = int(self.meta["doc_sep_id"])
        self.vocab_size = int(self.meta["vocab_size"])
        self.arrays = [
            np.memmap(self.shard_dir / s["file"], dtype=self.dtype, mode="r")
            for s in self.meta["shards"] if s["n_tokens"] > 0
        ]
        if not self.arrays:
            raise UserError(f"The token shards at {self.shard_dir} hold no tokens: the corpus was empty.")

    @property
    def n_tokens(self) -> int:
        return sum(len(a) for a in self.arrays)
