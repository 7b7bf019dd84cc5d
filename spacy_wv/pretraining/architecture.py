"""Encoder architectures: a Hugging Face config built from a few sizes, per model family.

The registered function returns an `EncoderSpec`; the vocabulary size and special ids
are only known once the tokenizer is loaded, so the spec builds the HF config then.
"""
from dataclasses import dataclass

from spacy.util import registry

from ..errors import UserError

MASKED_FAMILIES = ("bert", "roberta", "modernbert", "electra")
CAUSAL_FAMILIES = ("gpt2",)
FAMILIES = MASKED_FAMILIES + CAUSAL_FAMILIES
# The HF config fields that hold each family's dropout (all set to one rate here; a
# fine-tuning config overrides them through spacy-transformers' transformer_config).
DROPOUT_FIELDS = {
    "bert": ("hidden_dropout_prob", "attention_probs_dropout_prob"),
    "roberta": ("hidden_dropout_prob", "attention_probs_dropout_prob"),
    "modernbert": ("embedding_dropout", "mlp_dropout", "attention_dropout"),
    "electra": ("hidden_dropout_prob", "attention_probs_dropout_prob"),
    "gpt2": ("resid_pdrop", "embd_pdrop", "attn_pdrop"),
}


@dataclass(frozen=True)
class EncoderSpec:
    family: str
    width: int
    depth: int
    heads: int
    ffn_size: int
    max_length: int
    dropout: float

    def adapt_tokenizer(self, tokenizer) -> None:
        """ModernBERT's forward takes no token_type_ids: a tokenizer saved beside it must
        not produce them, or spacy-transformers (which passes all of them) fails."""
        if self.family == "modernbert":
            tokenizer.model_input_names = ["input_ids", "attention_mask"]
            tokenizer.init_kwargs["model_input_names"] = ["input_ids", "attention_mask"]

    def hf_config(self, tokenizer):
        """The transformers config for this family, with vocabulary and special ids from `tokenizer`."""
        from transformers import BertConfig, ElectraConfig, GPT2Config, ModernBertConfig, RobertaConfig

        vocab_size = len(tokenizer)
        pad = tokenizer.pad_token_id
        bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.cls_token_id
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
        dropout = {field: self.dropout for field in DROPOUT_FIELDS[self.family]}
        if self.family == "bert":
            config = BertConfig(
                vocab_size=vocab_size, hidden_size=self.width, num_hidden_layers=self.depth,
                num_attention_heads=self.heads, intermediate_size=self.ffn_size,
                max_position_embeddings=self.max_length, pad_token_id=pad or 0, **dropout,
            )
        elif self.family == "roberta":
            # RoBERTa numbers positions from pad_token_id + 1, so it needs two extra slots.
            config = RobertaConfig(
                vocab_size=vocab_size, hidden_size=self.width, num_hidden_layers=self.depth,
                num_attention_heads=self.heads, intermediate_size=self.ffn_size,
                max_position_embeddings=self.max_length + 2, pad_token_id=pad if pad is not None else 1,
                bos_token_id=bos, eos_token_id=eos, type_vocab_size=1, **dropout,
            )
        elif self.family == "modernbert":
            config = ModernBertConfig(
                vocab_size=vocab_size, hidden_size=self.width, num_hidden_layers=self.depth,
                num_attention_heads=self.heads, intermediate_size=self.ffn_size,
                max_position_embeddings=self.max_length, pad_token_id=pad or 0, bos_token_id=bos,
                eos_token_id=eos, cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id,
                **dropout,
            )
        elif self.family == "electra":
            # The masked-LM objective trains ELECTRA's generator-style head on a BERT-like
            # trunk; embeddings as wide as the trunk (ELECTRA's smaller embedding_size is
            # a choice of its own pretraining recipe, kept when continuing a checkpoint).
            config = ElectraConfig(
                vocab_size=vocab_size, embedding_size=self.width, hidden_size=self.width, num_hidden_layers=self.depth,
                num_attention_heads=self.heads, intermediate_size=self.ffn_size,
                max_position_embeddings=self.max_length, pad_token_id=pad or 0, **dropout,
            )
        else:
            config = GPT2Config(
                vocab_size=vocab_size, n_positions=self.max_length, n_embd=self.width,
                n_layer=self.depth, n_head=self.heads, n_inner=self.ffn_size,
                bos_token_id=bos, eos_token_id=eos, pad_token_id=pad, **dropout,
            )
        # transformers' ELECTRA has no SDPA attention (4.53); the others run faster with it.
        config._attn_implementation = "eager" if self.family == "electra" else "sdpa"
        return config


@registry.architectures("spacy_wv.TransformerEncoder.v1")
def transformer_encoder(
    family: str = "bert",
    width: int = 256,
    depth: int = 4,
    heads: int = 4,
    ffn_size: int = 1024,
    max_length: int = 512,
    dropout: float = 0.1,
) -> EncoderSpec:
    if family not in FAMILIES:
        raise UserError(f"[encoder] family = '{family}' is unknown; choose one of {', '.join(FAMILIES)}.")
    for name, value in (("width", width), ("depth", depth), ("heads", heads), ("ffn_size", ffn_size), ("max_length", max_length)):
        if value <= 0:
            raise UserError(f"[encoder] {name} must be positive, got {value}.")
    if width % heads:
        raise UserError(f"[encoder] width ({width}) must be divisible by heads ({heads}).")
    if not 0.0 <= dropout < 1.0:
        raise UserError(f"[encoder] dropout must be in [0, 1), got {dropout}.")
    return EncoderSpec(family, width, depth, heads, ffn_size, max_length, dropout)
