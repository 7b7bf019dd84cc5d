"""Hugging Face model and tokenizer directories: the one place that checks and loads them.

Ground floor: imports nothing of spacy_wv but `errors` and `outputs`, and transformers,
tokenizers and spaCy only inside the functions that need them, so that any module may
import this one.

Weights are read from safetensors only: a pickled `pytorch_model.bin` can run code when
loaded, so a directory that has only those is refused with a one-line error.

Two tokenizer loaders, one per kind of object:
- `load_fast_tokenizer`: a transformers `PreTrainedTokenizerFast` (what models and
  spacy-transformers use);
- `load_backend_tokenizer`: a `tokenizers.Tokenizer` and the ids of its special tokens
  (what `encode` uses: importing transformers takes longer than encoding a small corpus).
"""
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

from .errors import UserError
from .outputs import describe_dir

CONFIG_FILE = "config.json"
SAFE_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
PICKLED_WEIGHT_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")
# Files of a model directory worth carrying (in a pipeline); weights only as safetensors.
MODEL_FILE_SUFFIXES = (".json", ".safetensors", ".txt", ".model")

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
# Vocabulary files of slow (Python) tokenizers: a model dir may hold them instead of a tokenizer.json.
SLOW_VOCAB_FILES = ("vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model")
SPECIAL_ROLES = ("pad", "unk", "cls", "sep", "mask", "bos", "eos")
ENCODER_HINT = "point the encoder's 'name' (--paths.encoder) at a model directory, e.g. one `spacy_wv pretrain` wrote"
TOKENIZER_HINT = "run `python -m spacy_wv tokenizer` first"


def _one_line(err: Exception, limit: Optional[int] = None) -> str:
    text = " ".join(str(err).split())
    return text if limit is None else text[:limit]


# ------------------------------------------------------------------ model directories
def read_model_type(path: Path) -> Optional[str]:
    """The `model_type` of a model dir's config.json (None when it has none), read without
    transformers; a one-line error for a config.json that is not a JSON object."""
    config_file = Path(path) / CONFIG_FILE
    try:
        return json.loads(config_file.read_text(encoding="utf8")).get("model_type")
    except (OSError, ValueError, AttributeError) as err:
        raise UserError(f"{config_file} is not a JSON object ({_one_line(err)}).") from None


def check_model_dir(path: Path, role: str = "Encoder", where: str = "", hint: str = "",
                    families: Optional[Sequence[str]] = None, purpose: str = "") -> str:
    """The model_type of a Hugging Face model directory with safetensors weights, after
    checks that each fail with one line: a missing directory, no config.json, a
    model_type that transformers does not know (or, with `families`, one not among
    them: `purpose` says what for), no safetensors weights.

    `role` names the directory in the messages ("Encoder", "Checkpoint"), `where` the
    setting that gave it (e.g. "[paths] init_from"), `hint` how to point it elsewhere."""
    path = Path(path)
    at = f"{path} ({where})" if where else str(path)
    then = f"; {hint}" if hint else ""
    if not path.is_dir():
        raise UserError(f"{role} directory not found: {at}{then}.")
    if not (path / CONFIG_FILE).is_file():
        found = describe_dir(path) if any(path.iterdir()) else "nothing"
        raise UserError(f"{at} is not a Hugging Face model directory (no {CONFIG_FILE}): it holds {found}{then}.")
    model_type = read_model_type(path)
    found = f"model_type '{model_type}'" if model_type else "no model_type"
    if families is not None and model_type not in families:
        raise UserError(f"{path / CONFIG_FILE} has {found}: {purpose or 'it'} supports {', '.join(families)}.")
    if families is None:
        from transformers import CONFIG_MAPPING

        if model_type not in CONFIG_MAPPING:
            raise UserError(f"{path / CONFIG_FILE} has {found}, which transformers does not know.")
    if not any((path / name).is_file() for name in SAFE_WEIGHT_FILES):
        pickled = [name for name in PICKLED_WEIGHT_FILES if (path / name).is_file()]
        if pickled:
            raise UserError(f"The {role.lower()} at {at} has its weights only as {pickled[0]}, which is not read "
                            "(unpickling can run code): convert it to model.safetensors, e.g. load it once in "
                            "transformers and save_pretrained(..., safe_serialization=True).")
        raise UserError(f"The {role.lower()} at {at} has no weights ({SAFE_WEIGHT_FILES[0]}).")
    return model_type


def load_config(path: Path):
    """The transformers config of a model dir, or a one-line error."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(str(path))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f"Could not read {Path(path) / CONFIG_FILE}: {_one_line(err, 300)}") from None


def max_sequence_length(config) -> int:
    """How many pieces (special tokens included) one sequence of the model may hold."""
    if config.model_type == "gpt2":
        return config.n_positions
    # RoBERTa numbers positions from pad_token_id + 1: two of its slots hold no token.
    return config.max_position_embeddings - (2 if config.model_type == "roberta" else 0)


def load_model_dir(path: Path) -> Tuple["object", "object"]:
    """(base model in eval mode, fast tokenizer) from a Hugging Face model directory,
    after `check_model_dir`; weights from safetensors only."""
    from transformers import AutoModel

    path = Path(path)
    check_model_dir(path, hint=ENCODER_HINT)
    tokenizer = load_fast_tokenizer(path, hint="save the encoder's tokenizer beside it", allow_slow=True)
    try:
        model = AutoModel.from_pretrained(str(path), use_safetensors=True)
    except (OSError, ValueError, KeyError, TypeError) as err:  # a corrupt config.json or weights
        raise UserError(f"Could not load the encoder at {path}: {_one_line(err, 300)}") from None
    return model.eval(), with_pad_token(tokenizer)


def model_files(path: Path) -> Dict[str, bytes]:
    """The files of a model directory that a pipeline carries, by name."""
    return {f.name: f.read_bytes() for f in sorted(Path(path).iterdir()) if f.is_file() and f.suffix in MODEL_FILE_SUFFIXES}


def fingerprint_files(files: Dict[str, bytes]) -> str:
    """A digest of a model directory's files (names and bytes); pipelines store it."""
    digest = hashlib.blake2b(digest_size=12)
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(files[name])
    return digest.hexdigest()


def load_model_files(files: Dict[str, bytes]) -> Tuple["object", "object"]:
    """`load_model_dir` of a directory that held `files` (what `model_files` returned)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in files.items():
            (Path(tmp) / Path(name).name).write_bytes(content)
        return load_model_dir(Path(tmp))


# ------------------------------------------------------- encoders in spaCy pipelines
def load_encoder(path: Path) -> Tuple["object", "object"]:
    """(model, fast tokenizer) from a Hugging Face model dir (config.json + weights), or
    from the `transformer` component of a saved spaCy pipeline (a dir with config.cfg)."""
    path = Path(path)
    if (path / "config.cfg").is_file():
        import spacy

        hf_model = pipeline_hf_model(spacy.load(path))
        if hf_model is None:
            raise UserError(f"The pipeline at {path} has no transformer component to take the encoder from")
        tokenizer = hf_model.tokenizer
        if not getattr(tokenizer, "is_fast", False):
            raise UserError(f"The tokenizer of {path} is not a fast tokenizer: word alignment needs one (tokenizer.json)")
        return hf_model.transformer.eval(), with_pad_token(tokenizer)
    if (path / CONFIG_FILE).is_file():
        return load_model_dir(path)
    raise UserError(f"Not an encoder dir (no {CONFIG_FILE}) nor a spaCy pipeline (no config.cfg): {path}")


def pipeline_hf_model(nlp):
    """The spacy-transformers HF wrapper (`.transformer`, `.tokenizer`) of the first
    transformer component of a pipeline, or None."""
    for _, component in nlp.pipeline:
        first_layer = (getattr(getattr(component, "model", None), "layers", None) or [None])[0]
        hf_model = getattr((getattr(first_layer, "shims", None) or [None])[0], "_hfmodel", None)
        if hf_model is not None and getattr(hf_model, "transformer", None) is not None:
            return hf_model
    return None


# ----------------------------------------------------------------------- tokenizers
def no_tokenizer_file_error(tokenizer_dir: Path, hint: str = TOKENIZER_HINT) -> UserError:
    """The error for a directory without a tokenizer.json: a slow tokenizer's files there
    (a model dir saved that way) get the command that saves them as a fast tokenizer."""
    slow = [name for name in SLOW_VOCAB_FILES if (Path(tokenizer_dir) / name).is_file()]
    if slow:
        save = f"from transformers import AutoTokenizer as T; T.from_pretrained('{tokenizer_dir}').save_pretrained('{tokenizer_dir}')"
        return UserError(f"The tokenizer at {tokenizer_dir} is a slow tokenizer ({', '.join(slow)}) without a {TOKENIZER_FILE}: "
                         f"save it as a fast tokenizer first: python -c \"{save}\"")
    return UserError(f"No tokenizer at {tokenizer_dir} (missing {TOKENIZER_FILE}); {hint}")


def tokenizer_fingerprint(tokenizer_file: Path) -> str:
    """A hash of what decides the ids a tokenizer gives a text (normalizer, pre-tokenizer,
    model with its vocabulary, added tokens), read from a `tokenizer.json`. Padding,
    truncation and post-processing are left out: saving a tokenizer again (as `pretrain`
    does beside the model) may change them, never the ids of a text."""
    tokenizer_file = Path(tokenizer_file)
    try:
        spec = json.loads(tokenizer_file.read_text(encoding="utf8"))
    except (OSError, ValueError) as err:
        raise UserError(f"Cannot read the tokenizer {tokenizer_file}: {_one_line(err)}") from None
    if not isinstance(spec, dict) or "model" not in spec:
        raise UserError(f"{tokenizer_file} is not a Hugging Face tokenizer file (no 'model'); train one with `python -m spacy_wv tokenizer`")
    decisive = {key: spec.get(key) for key in ("added_tokens", "normalizer", "pre_tokenizer", "model")}
    return hashlib.sha256(json.dumps(decisive, sort_keys=True).encode("utf8")).hexdigest()


def load_fast_tokenizer(path: Path, hint: str = TOKENIZER_HINT, allow_slow: bool = False):
    """The transformers `PreTrainedTokenizerFast` of a tokenizer (or model) directory, or a
    one-line error; `hint` ends the error for a missing tokenizer. Without a tokenizer.json
    a slow tokenizer's vocabulary is refused, unless `allow_slow` (then transformers
    converts it, and the result must still be fast)."""
    from transformers import AutoTokenizer

    path = Path(path)
    if not path.is_dir():
        raise UserError(f"Tokenizer directory not found: {path}; {hint}.")
    tokenizer_file = path / TOKENIZER_FILE
    if tokenizer_file.is_file():
        tokenizer_fingerprint(tokenizer_file)  # a one-line error for a corrupt tokenizer.json
    elif not (allow_slow and any((path / name).is_file() for name in SLOW_VOCAB_FILES)):
        raise no_tokenizer_file_error(path, hint)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), use_fast=True)
    except Exception as err:  # tokenizers and sentencepiece raise their own types
        raise UserError(f"Could not load a tokenizer from {path}: {_one_line(err, 300)}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise UserError(f"The tokenizer of {path} is not a fast tokenizer: word alignment needs one ({TOKENIZER_FILE})")
    return tokenizer


def with_pad_token(tokenizer):
    """GPT-2 style tokenizers have no pad token; batches of an encoder need one."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return tokenizer


def load_backend_tokenizer(tokenizer_dir: Path) -> Tuple["object", Dict[str, Optional[int]]]:
    """The `tokenizers.Tokenizer` of a Hugging Face tokenizer (or model) directory and the
    ids of its special tokens by role. Reads the files directly, without transformers."""
    from tokenizers import Tokenizer

    tokenizer_file = Path(tokenizer_dir) / TOKENIZER_FILE
    if not tokenizer_file.exists():
        raise no_tokenizer_file_error(tokenizer_dir)
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
    except Exception as err:
        raise UserError(f"{tokenizer_file} is not a valid tokenizer file ({_one_line(err)}); "
                        f"train one with `python -m spacy_wv tokenizer`") from None
    roles: Dict = {}
    for name in (TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE):
        path = Path(tokenizer_dir) / name
        if path.exists():
            try:
                found = json.loads(path.read_text(encoding="utf8"))
            except (ValueError, OSError) as err:
                raise UserError(f"{path} is not valid JSON ({_one_line(err)})") from None
            if not isinstance(found, dict):
                raise UserError(f"{path} is not a JSON object")
            roles.update(found)
    special_ids: Dict[str, Optional[int]] = {}
    for role in SPECIAL_ROLES:
        token = roles.get(f"{role}_token")
        token = token.get("content") if isinstance(token, dict) else token
        special_ids[role] = tokenizer.token_to_id(token) if isinstance(token, str) else None
    return tokenizer, special_ids
