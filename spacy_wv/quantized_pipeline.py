"""A trained pipeline's copy that runs its encoder in int8 once loaded: what the workflows
package (benchmarks/RESULTS.md, "Inference speed, fp32 against int8": the same trained
pipelines kept their dev scores within 0.06 F1 / 0.23 points at 1.3-1.6x the words/s).

The copy keeps the fp32 safetensors and changes one setting in config.cfg, `quantize =
"int8"` of the frozen encoder's features (stacked pipelines) or of the fine-tuned
transformer; the encoder is quantized, deterministically, each time the pipeline loads."""
import shutil
from pathlib import Path
from typing import Optional, Sequence, Union

from .errors import UserError
from .outputs import atomic_output_dir, claim_output_dir

# Where each kind of pipeline keeps its encoder's `quantize` setting in config.cfg.
QUANTIZE_KEYS = {
    "transformer": ("components", "transformer", "model", "quantize"),
    "tok2vec": ("components", "tok2vec", "model", "features", "quantize"),
}
CHECK_TEXT = "A short text to check that the pipeline loads and runs."


def quantize_key(config) -> Optional[Sequence[str]]:
    """The path of the encoder's `quantize` setting in a pipeline config, or None (a
    pipeline without one of our encoders)."""
    components = config.get("components", {})
    if "transformer" in components:
        return QUANTIZE_KEYS["transformer"]
    if "features" in components.get("tok2vec", {}).get("model", {}):
        return QUANTIZE_KEYS["tok2vec"]
    return None


def int8_override(pipeline_dir: Union[str, Path]) -> Optional[dict]:
    """The `spacy.load(path, config=...)` override that runs the pipeline's encoder in
    int8, or None (a pipeline without an encoder); read from its config.cfg, without
    loading it."""
    from spacy.util import load_config

    key = quantize_key(load_config(Path(pipeline_dir) / "config.cfg", interpolate=False))
    if key is None:
        return None
    override: dict = {key[-1]: "int8"}
    for part in reversed(key[:-1]):
        override = {part: override}
    return override


def write_quantized_copy(pipeline_dir: Union[str, Path], output_dir: Union[str, Path],
                         quantize: Optional[str] = "int8") -> Path:
    """Copy the trained pipeline at `pipeline_dir` to `output_dir` with its encoder's
    `quantize` set (\"int8\", or None for fp32), check that the copy loads and runs, and
    return `output_dir`."""
    import spacy
    from spacy.util import load_config

    from .layers.encoder_inference import check_quantize

    check_quantize(quantize)
    pipeline_dir, output_dir = Path(pipeline_dir), Path(output_dir)
    if not (pipeline_dir / "config.cfg").is_file():
        raise UserError(f"Not a saved spaCy pipeline (no config.cfg): {pipeline_dir}")
    config = load_config(pipeline_dir / "config.cfg", interpolate=False)
    key = quantize_key(config)
    if key is None:
        raise UserError(f"{pipeline_dir} has no spacy_wv encoder to quantize (neither a transformer component "
                        "nor stacked encoder features)")
    section = config
    for part in key[:-1]:
        section = section[part]
    section[key[-1]] = quantize
    with claim_output_dir(output_dir, "int8", [pipeline_dir]), atomic_output_dir(output_dir, kind="int8") as tmp_dir:
        shutil.copytree(pipeline_dir, tmp_dir, dirs_exist_ok=True)
        config.to_disk(tmp_dir / "config.cfg", interpolate=False)
        nlp = spacy.load(tmp_dir)
        nlp(CHECK_TEXT)
    return output_dir
