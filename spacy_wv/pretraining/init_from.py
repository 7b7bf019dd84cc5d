"""Continued pretraining: start from a local Hugging Face model dir (`[paths] init_from`).

The checkpoint's own config.json decides the architecture (the `[encoder]` sizes are
ignored) and its own tokenizer the vocabulary: the shards must be encoded with it.
Weights are read from model.safetensors only: a pickled pytorch_model.bin can run code
when loaded. When the checkpoint lacks the objective's head (a base model, an ELECTRA
discriminator), transformers initialises a new one on the loaded trunk.
"""
import dataclasses
from pathlib import Path

import torch
from wasabi import msg

from ..errors import UserError
from ..hf_dirs import (SLOW_VOCAB_FILES, TOKENIZER_FILE, check_model_dir, load_config, max_sequence_length,
                       no_tokenizer_file_error, tokenizer_fingerprint)
from .architecture import DROPOUT_FIELDS, FAMILIES, EncoderSpec
from .config import PretrainSettings


def settings_for_checkpoint(settings: PretrainSettings) -> PretrainSettings:
    """`settings` with the checkpoint's architecture as `encoder` and its tokenizer as
    `tokenizer_path`, after every check that needs no model weights loaded."""
    path = settings.init_from
    config = read_checkpoint_config(path)
    spec = checkpoint_spec(config)
    try:
        settings.objective.check_encoder(spec)
    except UserError as err:
        raise UserError(f"The checkpoint at {path} ([paths] init_from) is a '{config.model_type}' model: {err}") from None
    if settings.training.seq_len > spec.max_length:
        raise UserError(f"[training] seq_len ({settings.training.seq_len}) exceeds the {spec.max_length} positions "
                        f"of the checkpoint at {path} ([paths] init_from).")
    return dataclasses.replace(settings, encoder=spec, tokenizer_path=checkpoint_tokenizer_dir(path, settings.tokenizer_path))


def read_checkpoint_config(path: Path):
    """The transformers config of a model dir with safetensors weights, or a one-line error."""
    check_model_dir(path, role="Checkpoint", where="[paths] init_from", families=FAMILIES, purpose="continued pretraining")
    return load_config(path)


def checkpoint_spec(config) -> EncoderSpec:
    """An `EncoderSpec` that describes the checkpoint (what the loop reads: the family for
    the head and the tokenizer, max_length for the window size; the rest for the log)."""
    family = config.model_type
    if family == "gpt2":
        return EncoderSpec(family, config.n_embd, config.n_layer, config.n_head, config.n_inner or 4 * config.n_embd,
                           config.n_positions, config.resid_pdrop)
    return EncoderSpec(family, config.hidden_size, config.num_hidden_layers, config.num_attention_heads,
                       config.intermediate_size, max_sequence_length(config), getattr(config, DROPOUT_FIELDS[family][0]))


def checkpoint_tokenizer_dir(path: Path, configured: Path) -> Path:
    """The checkpoint's own tokenizer, which `[paths] tokenizer` may name too, but not
    another one; a checkpoint saved without a tokenizer takes the configured one."""
    if not (path / TOKENIZER_FILE).is_file():
        if any((path / name).is_file() for name in SLOW_VOCAB_FILES):
            raise no_tokenizer_file_error(path)  # a slow tokenizer only: says how to save a fast one
        if configured == path:
            raise UserError(f"The checkpoint at {path} ([paths] init_from) has no tokenizer: "
                            "set [paths] tokenizer to the one it was trained with.")
        return configured
    if configured != path and configured.exists():
        configured_file = configured / TOKENIZER_FILE
        if not configured_file.is_file() or tokenizer_fingerprint(configured_file) != tokenizer_fingerprint(path / TOKENIZER_FILE):
            raise UserError(f"[paths] tokenizer ({configured}) is not the tokenizer of the checkpoint at {path} "
                            "([paths] init_from): set it to null to use the checkpoint's own, and encode the corpus with that.")
    # A configured path that does not exist is the config's default: the checkpoint's own applies.
    return path


def check_embeddings_fit(path: Path, tokenizer) -> None:
    """Every token id of the tokenizer has an embedding row. More rows than tokens is
    fine: checkpoints often pad the vocabulary to a multiple of 8 or 64."""
    rows = load_config(path).vocab_size
    if rows < len(tokenizer):
        raise UserError(f"The checkpoint at {path} ([paths] init_from) has {rows} embedding rows, but its tokenizer "
                        f"has {len(tokenizer)} tokens: they do not belong together.")


def build_or_load_model(settings: PretrainSettings, tokenizer, resuming: bool, verbose: bool):
    """A new model of the [encoder] spec, or the init_from checkpoint's (see load_checkpoint_model)."""
    if settings.init_from is None:
        return settings.objective.build_model(settings.encoder.hf_config(tokenizer))
    return load_checkpoint_model(settings, resuming, verbose)


def load_checkpoint_model(settings: PretrainSettings, resuming: bool, verbose: bool):
    """The objective's model class with the checkpoint's weights; when resuming, with its
    architecture only (the run's own checkpoint then replaces every weight)."""
    import transformers
    from transformers.utils import logging as hf_logging

    path = settings.init_from
    config = load_config(path)
    if resuming:
        return settings.objective.build_model(config)
    # settings_for_checkpoint has checked that the objective takes this family.
    model_class = getattr(transformers, settings.objective.model_class)
    # A base model's pooler would be a weight without a gradient (which DDP refuses).
    extra = {"add_pooling_layer": False} if model_class is transformers.AutoModel and config.model_type in ("bert", "roberta") else {}
    # transformers warns about the new head with advice meant for fine-tuning; say it here instead.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model, info = model_class.from_pretrained(str(path), use_safetensors=True, output_loading_info=True,
                                                  torch_dtype=torch.float32, **extra)
    except (OSError, ValueError, RuntimeError) as err:
        raise UserError(f"Could not load the checkpoint at {path} ([paths] init_from): {' '.join(str(err).split())[:300]}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
    trunk_prefix = "" if model.base_model is model else f"{model.base_model_prefix}."
    missing_trunk = [key for key in info["missing_keys"] if key.startswith(trunk_prefix)]
    if missing_trunk:
        raise UserError(f"The checkpoint at {path} ([paths] init_from) lacks weights of the encoder itself "
                        f"({len(missing_trunk)}, e.g. {missing_trunk[0]}): it is not a {type(model).__name__}.")
    if verbose:
        msg.info(f"Continuing from {path}: its config.json decides the architecture "
                 f"(a {model.config.model_type} model; the [encoder] section is not used)")
        if info["missing_keys"]:
            msg.info(f"The checkpoint has no {type(model).__name__} head ({', '.join(sorted(info['missing_keys']))}): "
                     "a new one starts from random weights")
    return model
