"""Load, validate and resolve a pretraining config; every problem is one `UserError` line."""
import difflib
import hashlib
import inspect
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

from confection import ConfigValidationError
from spacy import util
from spacy.util import registry
from thinc.api import Config

from ..errors import UserError
from . import architecture, objectives, optimization, rtd, warm_start  # noqa: F401 (register the functions)

# The section, the registry its `@` key names, and that key.
REGISTERED_SECTIONS = {
    "encoder": ("architectures", "@architectures"),
    "objective": ("misc", "@misc"),
    "optimizer": ("misc", "@misc"),
    "schedule": ("misc", "@misc"),
}
SECTIONS = ("paths", "training") + tuple(REGISTERED_SECTIONS)
# Registered sections a config may leave out.
OPTIONAL_SECTIONS = {"warm_start": ("misc", "@misc")}


@dataclass(frozen=True)
class TrainingSettings:
    seed: int = 0
    seq_len: int = 128
    batch_tokens: int = 8192
    grad_accum: int = 1
    max_steps: Optional[int] = None
    max_minutes: Optional[float] = None
    # Passes over the training windows (the corpus less eval_tokens); becomes a step limit
    # once the corpus is known (loop.prepare_run). For task-adaptive pretraining.
    max_epochs: Optional[float] = None
    eval_every: int = 500
    eval_tokens: int = 100_000
    log_every: int = 10
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    precision: str = "auto"
    compile: bool = False


@dataclass(frozen=True)
class PretrainSettings:
    train_path: Path
    tokenizer_path: Path
    encoder: Any
    objective: Any
    optimizer: Any
    schedule: Any
    training: TrainingSettings
    config: Config
    warm_start: Any = None
    # A Hugging Face model dir to continue pretraining from; its config.json then decides
    # the architecture (`encoder` is replaced by its spec in `init_from.settings_for_checkpoint`).
    init_from: Optional[Path] = None

    @property
    def config_hash(self) -> str:
        return config_hash(self.config)


def config_hash(config: Config) -> str:
    return hashlib.sha256(config.to_str().encode("utf8")).hexdigest()[:16]


def load_pretrain_config(path: Path, overrides: Optional[Dict[str, Any]] = None) -> Config:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Config file not found: {path}")
    try:
        raw = util.load_config(path, interpolate=False)
        check_override_keys(raw, overrides or {})
        config = util.load_config(path, overrides=overrides or {}, interpolate=True)
    except ConfigValidationError as err:
        raise UserError(f"Invalid config {path}: {one_line(err)}") from None
    except UserError:
        raise
    except Exception as err:  # the config parser raises several types for malformed files
        raise UserError(f"Could not read config {path}: {one_line(err)}") from None
    return config


def check_override_keys(config: Config, overrides: Dict[str, Any]) -> None:
    """Every `--section.key` override names a key that exists: in the config, a
    [training] setting, or an argument of the function a section registers. A misspelt
    key (`--paths.trian`) would otherwise be added silently and change nothing."""
    known = set(known_keys(config))
    for key in overrides:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean --{close[0]}?" if close else f"; the sections are {', '.join(SECTIONS)}"
            raise UserError(f"The override --{key} names no setting of the config{hint}")


def known_keys(config: Config) -> Iterator[str]:
    for section in config:
        if not isinstance(config[section], dict):
            continue
        yield from (f"{section}.{key}" for key in config[section])
    yield from (f"training.{f.name}" for f in fields(TrainingSettings))
    for section, (registry_name, key) in {**REGISTERED_SECTIONS, **OPTIONAL_SECTIONS}.items():
        name = config.get(section, {}).get(key)
        if name is not None and registry.has(registry_name, name):
            params = inspect.signature(registry.get(registry_name, name)).parameters
            yield from (f"{section}.{param}" for param in params)


def one_line(err: Exception) -> str:
    if isinstance(err, ConfigValidationError) and err.errors:
        parts = [f"{'.'.join(str(p) for p in e.get('loc', []))}: {str(e.get('msg')).replace('at root: ', '')}" for e in err.errors]
        return "; ".join(parts)
    return " ".join(str(err).split())


def resolve_settings(config: Config) -> PretrainSettings:
    missing = [s for s in SECTIONS if s not in config]
    if missing:
        raise UserError(f"The pretraining config lacks the section(s) {', '.join('[' + s + ']' for s in missing)}.")
    present = {**REGISTERED_SECTIONS, **{s: v for s, v in OPTIONAL_SECTIONS.items() if s in config}}
    for section, (registry_name, key) in present.items():
        name = config[section].get(key)
        if name is None:
            raise UserError(f"[{section}] needs a `{key}` key naming a registered function.")
        if not registry.has(registry_name, name):
            raise UserError(f"[{section}] {key} = \"{name}\" is not a registered function (registry '{registry_name}').")
    try:
        resolved = registry.resolve({s: config[s] for s in present}, validate=True)
    except ConfigValidationError as err:
        raise UserError(f"Invalid config: {one_line(err)}") from None
    paths = config["paths"]
    init_from = Path(paths["init_from"]) if paths.get("init_from") else None
    # With init_from, a null tokenizer means the checkpoint's own (the usual case).
    for key in ("train",) if init_from else ("train", "tokenizer"):
        if not paths.get(key):
            raise UserError(f"[paths] {key} is not set.")
    training = training_settings(config["training"])
    encoder_spec = resolved["encoder"]
    if init_from is None:
        # With init_from these are checked against the checkpoint's config instead, once it is read.
        if training.seq_len > encoder_spec.max_length:
            raise UserError(f"[training] seq_len ({training.seq_len}) exceeds [encoder] max_length ({encoder_spec.max_length}).")
        resolved["objective"].check_encoder(encoder_spec)
    return PretrainSettings(
        train_path=Path(paths["train"]), tokenizer_path=Path(paths.get("tokenizer") or init_from),
        encoder=encoder_spec, objective=resolved["objective"], optimizer=resolved["optimizer"],
        schedule=resolved["schedule"], training=training, config=config, warm_start=resolved.get("warm_start"),
        init_from=init_from,
    )


def training_settings(section: Dict[str, Any]) -> TrainingSettings:
    known = {f.name: f for f in fields(TrainingSettings)}
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise UserError(f"[training] has unknown setting(s): {', '.join(unknown)}.")
    values = {**{k: f.default for k, f in known.items()}, **section}
    t = TrainingSettings(**values)
    if not isinstance(t.seed, int) or isinstance(t.seed, bool) or not 0 <= t.seed < 2**32:
        raise UserError(f"[training] seed must be an integer from 0 to {2**32 - 1}, got {t.seed}.")
    if t.max_steps is None and t.max_minutes is None and t.max_epochs is None:
        raise UserError("[training] needs a stopping rule: set max_steps, max_minutes or max_epochs "
                        "(or several: the first reached ends the run).")
    if t.max_steps is not None and (not isinstance(t.max_steps, int) or t.max_steps <= 0):
        raise UserError(f"[training] max_steps must be a positive integer, got {t.max_steps}.")
    if t.max_minutes is not None and not t.max_minutes > 0:
        raise UserError(f"[training] max_minutes must be positive, got {t.max_minutes}.")
    if t.max_epochs is not None and (isinstance(t.max_epochs, bool) or not isinstance(t.max_epochs, (int, float))
                                     or not t.max_epochs > 0):
        raise UserError(f"[training] max_epochs must be a positive number, got {t.max_epochs}.")
    for name in ("seq_len", "batch_tokens", "grad_accum", "eval_every", "log_every", "checkpoint_every", "keep_checkpoints"):
        value = getattr(t, name)
        if not isinstance(value, int) or value <= 0:
            raise UserError(f"[training] {name} must be a positive integer, got {value}.")
    if not isinstance(t.eval_tokens, int) or t.eval_tokens < 0:
        raise UserError(f"[training] eval_tokens must be an integer >= 0, got {t.eval_tokens}.")
    if t.seq_len < 2:
        raise UserError(f"[training] seq_len must be at least 2, got {t.seq_len}.")
    if t.precision not in ("auto", "fp32", "bf16"):
        raise UserError(f"[training] precision = '{t.precision}' is unknown; choose auto, fp32 or bf16.")
    if not isinstance(t.compile, bool):
        raise UserError(f"[training] compile must be true or false, got {t.compile}.")
    return t


def micro_batch_seqs(training: TrainingSettings, world_size: int) -> int:
    """Sequences per micro-batch on one rank: batch_tokens counts the tokens of one
    optimizer step over all ranks and accumulation steps, so the recipe does not change
    with the number of processes."""
    per_micro = training.seq_len * training.grad_accum * world_size
    if training.batch_tokens % per_micro:
        raise UserError(
            f"[training] batch_tokens ({training.batch_tokens}) must be a multiple of "
            f"seq_len x grad_accum x processes = {training.seq_len} x {training.grad_accum} x {world_size} = {per_micro}."
        )
    return training.batch_tokens // per_micro
