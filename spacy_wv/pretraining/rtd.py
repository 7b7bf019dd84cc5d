"""Replaced-token detection (ELECTRA, Clark et al. 2020, arXiv 2003.10555).

A small masked-LM *generator* fills the masked positions with tokens sampled from its
softmax; the *discriminator* (the encoder we keep) reads the corrupted sequence and
says, for every token, whether it was replaced. The discriminator learns from every
token rather than from the 15% that are masked, which made ELECTRA more sample-efficient
than BERT's MLM at the same compute.

As in ELECTRA, the generator shares the discriminator's embeddings (token, position and
type embeddings and their norm: the whole embedding module); its own hidden size is
`generator_width_ratio` x the discriminator's, so a Linear projects the shared
embeddings down to it, and its MLM head projects back up before scoring against the
tied token embedding matrix. ELECTRA found generators 1/4 to 1/2 the discriminator's
size best: a generator as strong as the discriminator makes the task too hard.

What the loop's metrics mean for this objective:
- `loss` / `eval loss`: generator_loss_weight x generator MLM cross-entropy (mean over
  masked tokens) + discriminator_weight x discriminator binary cross-entropy (mean over
  tokens), the sum that is minimised;
- `eval acc`: the discriminator's replaced/original accuracy over all non-special
  tokens; predicting "original" everywhere scores the share of unreplaced tokens (about
  0.85 with an untrained generator, higher as the generator improves);
- `eval ppl`: left blank (the loss is a weighted sum: its exp would be no perplexity).

The exported model dir holds the discriminator alone (the family's base model, as
`AutoModel` loads it); the generator and the discriminator head are trained beside it
and saved in the trainer state only, so that resuming is exact.
"""
import copy
from typing import Optional, Tuple

import torch
from spacy.util import registry
from torch import nn
from torch.nn import functional as F

from ..errors import UserError
from .architecture import MASKED_FAMILIES, EncoderSpec
from .objectives import IGNORE_INDEX, check_family, masked_lm

# Label of a token the discriminator judges but the generator does not predict (not
# masked); masked tokens carry their original id, special tokens IGNORE_INDEX.
NOT_MASKED = -1
# Eval samples from a fixed stream, so that eval numbers are comparable between evals
# and evaluating does not move the training random stream.
EVAL_SAMPLING_SEED = 1234


class EmbeddingProjection(nn.Module):
    """Takes the place of the generator's embedding module: it receives the shared
    embeddings (discriminator width) as `inputs_embeds` and projects them to the
    generator's width. Every family's base model calls its embeddings by keyword."""

    def __init__(self, from_width: int, to_width: int):
        super().__init__()
        self.project = nn.Linear(from_width, to_width)

    def forward(self, input_ids=None, inputs_embeds=None, **unused):
        return self.project(inputs_embeds)


class Generator(nn.Module):
    """A narrow masked LM of the discriminator's family, owning no embeddings."""

    def __init__(self, disc_config, width: int, heads: int, depth: int):
        super().__init__()
        from transformers import AutoModel

        config = copy.deepcopy(disc_config)
        config.hidden_size, config.num_attention_heads, config.num_hidden_layers = width, heads, depth
        config.intermediate_size = 4 * width
        if hasattr(config, "embedding_size"):  # ELECTRA: no projection of its own, EmbeddingProjection does it
            config.embedding_size = width
        extra = {"add_pooling_layer": False} if config.model_type in ("bert", "roberta") else {}
        self.encoder = AutoModel.from_config(config, **extra)
        # An ELECTRA checkpoint's embeddings may be narrower than its layers.
        embedding_width = getattr(disc_config, "embedding_size", None) or disc_config.hidden_size
        self.encoder.embeddings = EmbeddingProjection(embedding_width, width)
        # ELECTRA's MLM head: dense to the embedding width, activation, norm; then the
        # tied token embeddings (passed to forward) and a bias give the logits.
        self.head = nn.Sequential(nn.Linear(width, embedding_width), nn.GELU(), nn.LayerNorm(embedding_width))
        self.bias = nn.Parameter(torch.zeros(disc_config.vocab_size))

    def forward(self, embeddings: torch.Tensor, masked: torch.Tensor, token_embeddings: torch.Tensor) -> torch.Tensor:
        """Logits over the vocabulary at the `masked` positions only."""
        hidden = self.encoder(inputs_embeds=embeddings).last_hidden_state
        return self.head(hidden[masked]) @ token_embeddings.t() + self.bias


class ReplacedTokenDetectionModule(nn.Module):
    def __init__(self, discriminator, width_ratio: float, generator_depth: Optional[int],
                 generator_loss_weight: float, discriminator_weight: float):
        super().__init__()
        self.model = discriminator
        config = discriminator.config
        width, heads = generator_size(config.hidden_size, config.num_attention_heads, width_ratio)
        # Trained beside the encoder but not exported: the loop saves `auxiliary` in
        # the trainer state (checkpoint.py) so that a resumed run continues exactly.
        self.auxiliary = nn.ModuleDict({
            "generator": Generator(config, width, heads, generator_depth or config.num_hidden_layers),
            # ELECTRA's discriminator head: dense, activation, dense to one logit.
            "discriminator_head": nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.GELU(),
                                                nn.Linear(config.hidden_size, 1)),
        }).to(discriminator.device)
        self.generator_loss_weight = generator_loss_weight
        self.discriminator_weight = discriminator_weight

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor):
        masked = labels >= 0
        judged = labels != IGNORE_INDEX
        original = labels[masked]
        token_embeddings = self.model.get_input_embeddings().weight
        logits = self.auxiliary["generator"](self.model.embeddings(input_ids=input_ids), masked, token_embeddings).float()
        generator_loss = F.cross_entropy(logits, original)

        # No gradient through sampling: the discriminator's loss does not train the
        # generator (ELECTRA trains it by maximum likelihood only).
        with torch.no_grad():
            sampler = None if self.training else torch.Generator(device=logits.device).manual_seed(EVAL_SAMPLING_SEED)
            sampled = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=sampler).squeeze(-1)
            corrupted = input_ids.clone()
            corrupted[masked] = sampled
            # A sample equal to the original token counts as original (ELECTRA does too).
            replaced = (corrupted != torch.where(masked, labels, input_ids)).float()

        hidden = self.model(input_ids=corrupted).last_hidden_state
        scores = self.auxiliary["discriminator_head"](hidden[judged]).squeeze(-1).float()
        targets = replaced[judged]
        discriminator_loss = F.binary_cross_entropy_with_logits(scores, targets)
        loss = self.generator_loss_weight * generator_loss + self.discriminator_weight * discriminator_loss
        n_judged = targets.numel()
        n_correct = ((scores > 0) == (targets > 0.5)).sum()
        # The loop divides by the count it gets back: a mean times the count survives that.
        return loss * n_judged, n_correct, n_judged


def generator_size(width: int, heads: int, ratio: float) -> Tuple[int, int]:
    """The generator's hidden size and heads: width x ratio, with the discriminator's
    head size where that divides it (ELECTRA-Base: 768 wide, 12 heads -> 256 wide, 4 heads)."""
    gen_width = max(1, round(width * ratio))
    head_dim = width // heads
    gen_heads = max(1, gen_width // head_dim)
    while gen_width % gen_heads:
        gen_heads -= 1
    return gen_width, gen_heads


class ReplacedTokenDetection:
    name = "replaced-token"
    model_class = "AutoModel"  # the discriminator is a base model
    # The loss is a weighted sum of two losses: its exp is no perplexity.
    reports_perplexity = False

    def __init__(self, mask_rate: float, generator_width_ratio: float, generator_depth: Optional[int],
                 discriminator_weight: float, generator_loss_weight: float, whole_word: bool, segmenter: Optional[str]):
        # Masking is MLM's (whole words, never special tokens), all as [MASK]: the
        # generator's samples are the corruption, so there are no random/kept tokens.
        self.masking = masked_lm(mask_rate, 1.0, 0.0, whole_word, segmenter)
        self.generator_width_ratio = generator_width_ratio
        self.generator_depth = generator_depth
        self.discriminator_weight = discriminator_weight
        self.generator_loss_weight = generator_loss_weight

    def check_encoder(self, spec: EncoderSpec) -> None:
        check_family("spacy_wv.ReplacedTokenDetection.v1", spec, MASKED_FAMILIES, "bidirectional encoder")

    def prefix_id(self, tokenizer) -> Optional[int]:
        return self.masking.prefix_id(tokenizer)

    def bind(self, tokenizer, doc_sep_id: int) -> None:
        self.masking.bind(tokenizer, doc_sep_id)

    def build_model(self, hf_config):
        """The discriminator: the family's base model, which is what gets exported."""
        from transformers import AutoModel

        extra = {"add_pooling_layer": False} if hf_config.model_type in ("bert", "roberta") else {}
        return AutoModel.from_config(hf_config, **extra)

    def wrap(self, model, spec: EncoderSpec) -> nn.Module:
        return ReplacedTokenDetectionModule(model, self.generator_width_ratio, self.generator_depth,
                                            self.generator_loss_weight, self.discriminator_weight)

    def make_batch(self, input_ids: torch.Tensor, generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        """Inputs with [MASK] at the masked tokens; labels: the original id where masked,
        NOT_MASKED on other tokens the discriminator judges, IGNORE_INDEX on special tokens."""
        inputs, labels = self.masking.make_batch(input_ids, generator)
        unmasked = torch.where(self.masking.special[input_ids], IGNORE_INDEX, NOT_MASKED)
        return inputs, torch.where(labels == IGNORE_INDEX, unmasked, labels)


@registry.misc("spacy_wv.ReplacedTokenDetection.v1")
def replaced_token_detection(mask_rate: float = 0.15, generator_width_ratio: float = 0.25, generator_depth: Optional[int] = None,
                             discriminator_weight: float = 50.0, generator_loss_weight: float = 1.0, whole_word: bool = True,
                             segmenter: Optional[str] = None) -> ReplacedTokenDetection:
    """ELECTRA's objective. `generator_width_ratio`: the generator's hidden size over the
    discriminator's (ELECTRA: 1/4 to 1/2 works best; 1 trains a generator too strong to
    learn from); `generator_depth` null: the discriminator's depth; `discriminator_weight`:
    ELECTRA's lambda (50), as the binary loss is far smaller than the MLM loss. `segmenter`
    as in MaskedLM.v1's (Chinese whole-word masking)."""
    if not 0.0 < generator_width_ratio <= 1.0:
        raise UserError(f"[objective] generator_width_ratio must be in (0, 1], got {generator_width_ratio}.")
    if generator_depth is not None and generator_depth <= 0:
        raise UserError(f"[objective] generator_depth must be a positive integer or null, got {generator_depth}.")
    if not discriminator_weight > 0:
        raise UserError(f"[objective] discriminator_weight must be positive, got {discriminator_weight}.")
    if not generator_loss_weight > 0:
        raise UserError(f"[objective] generator_loss_weight must be positive, got {generator_loss_weight}.")
    return ReplacedTokenDetection(mask_rate, generator_width_ratio, generator_depth, discriminator_weight,
                                  generator_loss_weight, whole_word, segmenter)
