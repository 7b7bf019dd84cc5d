"""Load a Hugging Face encoder and its fast tokenizer from an encoder dir or a spaCy pipeline."""
from pathlib import Path
from typing import Tuple

from ..errors import UserError


def load_encoder(path: Path) -> Tuple["object", "object"]:
    """(model, tokenizer) from a Hugging Face model dir (config.json + weights), or from
    the `transformer` component of a saved spaCy pipeline (a dir with config.cfg)."""
    path = Path(path)
    if (path / "config.cfg").is_file():
        return _from_pipeline(path)
    if (path / "config.json").is_file():
        return load_hf_dir(path)
    raise UserError(f"Not an encoder dir (no config.json) nor a spaCy pipeline (no config.cfg): {path}")


def load_hf_dir(path: Path, safetensors_only: bool = False) -> Tuple["object", "object"]:
    """(model in eval mode, fast tokenizer) from a Hugging Face model dir; `safetensors_only`
    refuses any other weights format (what a pipeline loads from its own bytes)."""
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), use_fast=True)
        model = AutoModel.from_pretrained(str(path), **({"use_safetensors": True} if safetensors_only else {}))
    except (OSError, ValueError, KeyError, TypeError) as err:  # a corrupt config.json, tokenizer or weights
        raise UserError(f"Could not load the encoder at {path}: {' '.join(str(err).split())[:300]}") from None
    return _checked(model.eval(), tokenizer, path)


def _from_pipeline(path: Path):
    import spacy

    nlp = spacy.load(path)
    hf_model = pipeline_hf_model(nlp)
    if hf_model is not None:
        return _checked(hf_model.transformer.eval(), hf_model.tokenizer, path)
    raise UserError(f"The pipeline at {path} has no transformer component to take the encoder from")


def pipeline_hf_model(nlp):
    """The spacy-transformers HF wrapper (`.transformer`, `.tokenizer`) of the first
    transformer component of a pipeline, or None."""
    for _, component in nlp.pipeline:
        first_layer = (getattr(getattr(component, "model", None), "layers", None) or [None])[0]
        hf_model = getattr((getattr(first_layer, "shims", None) or [None])[0], "_hfmodel", None)
        if hf_model is not None and getattr(hf_model, "transformer", None) is not None:
            return hf_model
    return None


def _checked(model, tokenizer, path: Path):
    if not getattr(tokenizer, "is_fast", False):
        raise UserError(f"The tokenizer of {path} is not a fast tokenizer: word alignment needs one (tokenizer.json)")
    if tokenizer.pad_token is None:  # GPT-2 style tokenizers have none; batches need one
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return model, tokenizer
