"""Pretraining objectives: how a packed batch becomes inputs + labels, and the loss.

An objective is configured in `[objective]`, then bound to the tokenizer (special ids,
word starts) with `bind()`. `wrap()` puts the HF model into a module whose forward
returns (summed loss, correct predictions, predicted positions): the loop wraps that
module in DDP / torch.compile, so all of the forward pass goes through them.
"""
from typing import Optional, Tuple

import numpy as np
import torch
from spacy.util import registry
from torch import nn
from torch.nn import functional as F

from ..errors import UserError
from .architecture import CAUSAL_FAMILIES, MASKED_FAMILIES, EncoderSpec

IGNORE_INDEX = -100


def check_family(objective: str, spec: EncoderSpec, families, kind: str) -> None:
    if spec.family not in families:
        raise UserError(f"{objective} needs a {kind} family ({', '.join(families)}), not '{spec.family}'.")


def word_start_table(tokenizer) -> np.ndarray:
    """For every vocabulary id, whether the piece starts a word: WordPiece marks
    continuations (`##`), byte-level BPE marks starts (`Ġ`), Unigram/Metaspace `▁`.
    A CJK character piece always starts one (a tokenizer trained with `--cjk` gives
    each ideograph its own piece, without a marker for bpe and unigram)."""
    from .chinese_wwm import cjk_piece_chars

    vocab = tokenizer.get_vocab()
    starts = np.zeros(len(tokenizer), dtype=bool)
    model = tokenizer.backend_tokenizer.model
    if type(model).__name__ == "WordPiece":
        prefix = model.continuing_subword_prefix
        for piece, idx in vocab.items():
            starts[idx] = not piece.startswith(prefix)
    else:
        n_g = sum(p.startswith("Ġ") for p in vocab)
        n_u = sum(p.startswith("▁") for p in vocab)
        marker = "Ġ" if n_g >= n_u else "▁"
        for piece, idx in vocab.items():
            starts[idx] = piece.startswith(marker)
    return starts | (cjk_piece_chars(tokenizer) != "")


class MaskedLMModule(nn.Module):
    """Runs the encoder trunk, then the LM head only on masked positions: the head's
    vocabulary projection is the costliest matmul, and ~85% of its rows would be
    thrown away."""

    def __init__(self, model, family: str):
        super().__init__()
        self.model = model
        self.family = family

    def head(self, hidden: torch.Tensor) -> torch.Tensor:
        if self.family == "bert":
            return self.model.cls(hidden)
        if self.family == "roberta":
            return self.model.lm_head(hidden)
        if self.family == "electra":
            return self.model.generator_lm_head(self.model.generator_predictions(hidden))
        return self.model.decoder(self.model.head(hidden))

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor):
        hidden = self.model.base_model(input_ids=input_ids).last_hidden_state
        selected = labels != IGNORE_INDEX
        targets = labels[selected]
        logits = self.head(hidden[selected]).float()
        loss_sum = F.cross_entropy(logits, targets, reduction="sum")
        n_correct = (logits.argmax(-1) == targets).sum()
        return loss_sum, n_correct, targets.numel()


class CausalLMModule(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor):
        hidden = self.model.base_model(input_ids=input_ids).last_hidden_state
        logits = self.model.lm_head(hidden[:, :-1]).float()
        targets = labels[:, 1:]
        loss_sum = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum")
        n_correct = (logits.argmax(-1) == targets).sum()
        return loss_sum, n_correct, targets.numel()


class MaskedLM:
    name = "masked-token"
    model_class = "AutoModelForMaskedLM"  # what a checkpoint is loaded as (init_from)
    reports_perplexity = True  # the loss is a cross-entropy over the vocabulary

    def __init__(self, mask_rate: float, mask_token_prob: float, random_token_prob: float, whole_word: bool, segmenter: Optional[str] = None):
        self.mask_rate = mask_rate
        self.mask_token_prob = mask_token_prob
        self.random_token_prob = random_token_prob
        self.whole_word = whole_word
        self.segmenter = segmenter

    def check_encoder(self, spec: EncoderSpec) -> None:
        check_family("spacy_wv.MaskedLM.v1", spec, MASKED_FAMILIES, "bidirectional encoder")

    def prefix_id(self, tokenizer) -> Optional[int]:
        return tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id

    def bind(self, tokenizer, doc_sep_id: int) -> None:
        if tokenizer.mask_token_id is None:
            raise UserError("The tokenizer has no mask token; masked-LM pretraining needs one (e.g. [MASK] or <mask>).")
        special = np.zeros(len(tokenizer), dtype=bool)
        special[[i for i in tokenizer.all_special_ids if i < len(special)]] = True
        special[doc_sep_id] = True
        self.mask_id = tokenizer.mask_token_id
        self.special = torch.from_numpy(special)
        self.word_start = torch.from_numpy(word_start_table(tokenizer) | special)
        self.replacement_ids = torch.from_numpy(np.flatnonzero(~special))
        self.segment_starts = None
        if self.whole_word and self.segmenter:
            from .chinese_wwm import SegmentedWordStarts

            self.segment_starts = SegmentedWordStarts(tokenizer, self.segmenter)

    def wrap(self, model, spec: EncoderSpec) -> nn.Module:
        return MaskedLMModule(model, spec.family)

    def build_model(self, hf_config):
        from transformers import AutoModelForMaskedLM

        return AutoModelForMaskedLM.from_config(hf_config)

    def make_batch(self, input_ids: torch.Tensor, generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        special = self.special[input_ids]
        draw = torch.rand(input_ids.shape, generator=generator)
        if self.whole_word:
            # A word is masked when the draw at its first piece is; every piece then
            # looks back to the start of its word (a running max over start positions).
            starts = self.word_start[input_ids].clone()
            if self.segment_starts is not None:
                starts = self.segment_starts(input_ids, starts)
            starts[:, 0] = True
            positions = torch.arange(input_ids.shape[1]).expand_as(input_ids)
            word_start_pos = torch.where(starts, positions, 0).cummax(dim=1).values
            masked = torch.gather(draw, 1, word_start_pos) < self.mask_rate
        else:
            masked = draw < self.mask_rate
        masked &= ~special
        labels = torch.where(masked, input_ids, IGNORE_INDEX)
        how = torch.rand(input_ids.shape, generator=generator)
        to_mask = masked & (how < self.mask_token_prob)
        to_random = masked & (how >= self.mask_token_prob) & (how < self.mask_token_prob + self.random_token_prob)
        random_ids = self.replacement_ids[torch.randint(len(self.replacement_ids), input_ids.shape, generator=generator)]
        inputs = torch.where(to_mask, self.mask_id, input_ids)
        inputs = torch.where(to_random, random_ids, inputs)
        return inputs, labels


class CausalLM:
    name = "next-token"
    model_class = "AutoModelForCausalLM"
    reports_perplexity = True

    def check_encoder(self, spec: EncoderSpec) -> None:
        check_family("spacy_wv.CausalLM.v1", spec, CAUSAL_FAMILIES, "causal decoder")

    def prefix_id(self, tokenizer) -> Optional[int]:
        return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.cls_token_id

    def bind(self, tokenizer, doc_sep_id: int) -> None:
        pass

    def wrap(self, model, spec: EncoderSpec) -> nn.Module:
        return CausalLMModule(model)

    def build_model(self, hf_config):
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_config(hf_config)

    def make_batch(self, input_ids: torch.Tensor, generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        return input_ids, input_ids


@registry.misc("spacy_wv.MaskedLM.v1")
def masked_lm(mask_rate: float = 0.15, mask_token_prob: float = 0.8, random_token_prob: float = 0.1, whole_word: bool = True,
              segmenter: Optional[str] = None) -> MaskedLM:
    """`segmenter` ("jieba" or "char"): with whole_word, runs of CJK characters are cut
    into words by it and a word's characters are masked together (Chinese wwm)."""
    if segmenter is not None:
        from ..corpus.segment import SEGMENTERS

        if segmenter not in SEGMENTERS:
            raise UserError(f"[objective] segmenter must be one of {', '.join(SEGMENTERS)} or null, got {segmenter!r}.")
    if not 0.0 < mask_rate < 1.0:
        raise UserError(f"[objective] mask_rate must be in (0, 1), got {mask_rate}.")
    if mask_token_prob < 0 or random_token_prob < 0 or mask_token_prob + random_token_prob > 1.0:
        raise UserError(
            f"[objective] mask_token_prob ({mask_token_prob}) and random_token_prob ({random_token_prob}) "
            "must be non-negative and sum to at most 1 (the rest keeps the original token)."
        )
    return MaskedLM(mask_rate, mask_token_prob, random_token_prob, whole_word, segmenter)


@registry.misc("spacy_wv.CausalLM.v1")
def causal_lm() -> CausalLM:
    return CausalLM()
