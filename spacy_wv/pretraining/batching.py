"""Packed sequences: fixed-length windows cut from the token shards, no padding.

Each window is `seq_len - 1` corpus tokens behind the family's start token (CLS/BOS),
or `seq_len` tokens when there is none. Windows are cut per shard and never cross a
shard end. The tail of the corpus (`eval_tokens`) is held back for evaluation and never
trained on. Training windows are visited in a seeded permutation per epoch; the sampler
state is just (epoch, cursor), so a resumed run continues with exactly the next windows.
With DDP, every micro-batch takes a block of `world_size * batch_seqs` consecutive
permutation entries and rank r takes the r-th slice: ranks never share a window.
"""
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch

from ..corpus.shards import ShardReader
from ..errors import UserError


@dataclass
class Windows:
    shard: np.ndarray
    start: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


def cut_windows(lengths: List[int], offsets: List[int], body: int) -> Windows:
    shard, start = [], []
    for i, (offset, length) in enumerate(zip(offsets, lengths)):
        n = length // body
        shard.append(np.full(n, i, dtype=np.int32))
        start.append(offset + np.arange(n, dtype=np.int64) * body)
    return Windows(np.concatenate(shard), np.concatenate(start))


class PackedCorpus:
    def __init__(self, reader: ShardReader, seq_len: int, prefix_id: Optional[int], eval_tokens: int):
        self.arrays = reader.arrays
        self.seq_len = seq_len
        self.prefix_id = prefix_id
        self.body = seq_len - (prefix_id is not None)
        total = reader.n_tokens
        if eval_tokens < 0 or eval_tokens >= total:
            raise UserError(f"[training] eval_tokens ({eval_tokens}) must be >= 0 and below the corpus size ({total} tokens).")
        train_lengths, eval_lengths, eval_offsets = [], [], []
        remaining = eval_tokens
        for array in reversed(self.arrays):
            held = min(remaining, len(array))
            remaining -= held
            train_lengths.insert(0, len(array) - held)
            eval_lengths.insert(0, held)
            eval_offsets.insert(0, len(array) - held)
        self.train_lengths = train_lengths
        self.train = cut_windows(train_lengths, [0] * len(self.arrays), self.body)
        self.eval = cut_windows(eval_lengths, eval_offsets, self.body)
        if len(self.train) == 0:
            raise UserError(f"The corpus ({total} tokens, {eval_tokens} held back) is too small for one training sequence of {seq_len} tokens.")

    def sequences(self, windows: Windows, indices: np.ndarray) -> torch.Tensor:
        rows = np.empty((len(indices), self.seq_len), dtype=np.int64)
        body_from = self.seq_len - self.body
        if body_from:
            rows[:, 0] = self.prefix_id
        for row, i in enumerate(indices):
            start = windows.start[i]
            rows[row, body_from:] = self.arrays[windows.shard[i]][start:start + self.body]
        return torch.from_numpy(rows)

    def eval_batches(self, batch_seqs: int) -> Iterator[torch.Tensor]:
        for begin in range(0, len(self.eval), batch_seqs):
            yield self.sequences(self.eval, np.arange(begin, min(begin + batch_seqs, len(self.eval))))


class WindowSampler:
    """Seeded, resumable order over the training windows, split between DDP ranks."""

    def __init__(self, corpus: PackedCorpus, batch_seqs: int, seed: int, rank: int = 0, world_size: int = 1):
        self.corpus = corpus
        self.batch_seqs = batch_seqs
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.block = batch_seqs * world_size
        if self.block > len(corpus.train):
            raise UserError(
                f"One micro-batch over all ranks needs {self.block} sequences, but the corpus holds only "
                f"{len(corpus.train)} training sequences; lower [training] batch_tokens or add text."
            )
        self.epoch = 0
        self.cursor = 0
        self._order = None

    def _permutation(self) -> np.ndarray:
        if self._order is None or self._order[0] != self.epoch:
            rng = np.random.default_rng([self.seed, self.epoch])
            self._order = (self.epoch, rng.permutation(len(self.corpus.train)))
        return self._order[1]

    @property
    def batches_per_epoch(self) -> int:
        """Micro-batches of one pass over the training windows (the remainder of a pass
        that does not fill a micro-batch is left out of that epoch's order)."""
        return len(self.corpus.train) // self.block

    def next_batch(self) -> torch.Tensor:
        if self.cursor + self.block > len(self.corpus.train):
            self.epoch += 1
            self.cursor = 0
        begin = self.cursor + self.rank * self.batch_seqs
        indices = self._permutation()[begin:begin + self.batch_seqs]
        self.cursor += self.block
        return self.corpus.sequences(self.corpus.train, indices)

    def state_dict(self) -> Dict[str, int]:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: Dict[str, int]) -> None:
        self.epoch = int(state["epoch"])
        self.cursor = int(state["cursor"])
