"""Whole-word masking for Chinese (as in Chinese BERT-wwm, Cui et al. 2019).

A Chinese tokenizer makes every CJK character its own piece (`--cjk`), so the pieces
say nothing about words: a character-level masked LM can guess one character of 北京
from the other. With a segmenter, each run of CJK-character pieces in a batch is
decoded back to its characters and cut into words, and only a word's first character
starts a word; `MaskedLM.make_batch` then masks all characters of a word together.
Pieces that are not single CJK characters (Latin, digits, punctuation, specials) keep
their tokenizer's word starts.
"""
from typing import Callable, List

import numpy as np
import torch

from ..corpus.segment import get_segmenter, is_cjk


def cjk_piece_chars(tokenizer) -> np.ndarray:
    """For every vocabulary id, the CJK character the piece stands for, else ""."""
    chars = np.full(len(tokenizer), "", dtype=object)
    for piece, idx in tokenizer.get_vocab().items():
        if idx >= len(chars) or piece in tokenizer.all_special_tokens:
            continue
        text = tokenizer.convert_tokens_to_string([piece]).strip().removeprefix("##").strip("▁ ")
        if is_cjk(text):
            chars[idx] = text
    return chars


def segment_starts(chars: List[str], segment: Callable[[str], List[str]]) -> np.ndarray:
    """Word starts (bool per character) of a run of CJK characters."""
    starts = np.zeros(len(chars), dtype=bool)
    position = 0
    for word in segment("".join(chars)):
        starts[position] = True
        position += len(word)
    return starts


class SegmentedWordStarts:
    """`(input_ids, starts) -> starts` with CJK runs re-marked by a word segmenter."""

    def __init__(self, tokenizer, segmenter: str = "jieba"):
        self.segment = get_segmenter(segmenter)
        self.chars = cjk_piece_chars(tokenizer)
        self.is_cjk = torch.from_numpy(self.chars != "")

    def __call__(self, input_ids: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        starts = starts.clone()
        cjk = self.is_cjk[input_ids].numpy()
        ids = input_ids.numpy()
        for row in range(ids.shape[0]):
            # Runs of consecutive CJK pieces: [begin, end) from the edges of the mask.
            edges = np.diff(np.concatenate([[0], cjk[row].astype(np.int8), [0]]))
            for begin, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
                run = segment_starts(list(self.chars[ids[row, begin:end]]), self.segment)
                starts[row, begin:end] = torch.from_numpy(run)
        return starts
