"""Checkpoints: the exported HF model dir, and the trainer state needed to resume.

OUTPUT_DIR itself is a Hugging Face model dir (config.json, model.safetensors, tokenizer
files), refreshed at each checkpoint. `OUTPUT_DIR/trainer_state/step_XXXXXXX/` holds
everything needed to continue exactly: model weights, optimizer state, the RNG states
of every rank, and `state.json` (step, tokens, elapsed time, sampler position, config
hash), and the weights an objective trains beside the encoder without exporting them
(ELECTRA's generator: `auxiliary.safetensors`). A step dir is written under a temporary
name and renamed when complete, so any `step_*` dir is whole, whatever killed the run.
"""
import json
import os
import shutil
from pathlib import Path
from typing import Dict, List, Optional

import torch
from safetensors.torch import load_file, load_model, save_file, save_model

from ..errors import UserError

STATE_DIR = "trainer_state"
STEP_PREFIX = "step_"
STATE_FILE = "state.json"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.pt"
AUXILIARY_FILE = "auxiliary.safetensors"
RNG_FILE = "rng.safetensors"


def step_dirs(output_dir: Path) -> List[Path]:
    root = Path(output_dir) / STATE_DIR
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(STEP_PREFIX) and (p / STATE_FILE).exists()]
    return sorted(found, key=lambda p: int(p.name[len(STEP_PREFIX):]))


def latest_checkpoint(output_dir: Path) -> Optional[Path]:
    found = step_dirs(output_dir)
    return found[-1] if found else None


def read_state(step_dir: Path) -> Dict:
    return json.loads((step_dir / STATE_FILE).read_text(encoding="utf8"))


def rng_state(generator: torch.Generator) -> Dict[str, torch.Tensor]:
    """This process's random streams: dropout (torch global, CUDA) and masking."""
    state = {"torch": torch.get_rng_state(), "mask": generator.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: Dict[str, torch.Tensor], generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    generator.set_state(state["mask"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def save_checkpoint(output_dir: Path, step: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    rng_states: List[Dict[str, torch.Tensor]], state: Dict, keep: int,
                    auxiliary: Optional[torch.nn.Module] = None) -> Path:
    """Write trainer_state/step_XXXXXXX atomically, refresh the HF model dir, prune to `keep`.
    `auxiliary`: trained weights that are no part of the exported model (kept for resuming)."""
    root = Path(output_dir) / STATE_DIR
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{STEP_PREFIX}{step:07d}"
    tmp = root / f".tmp_{final.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_model(model, str(tmp / MODEL_FILE))
    if auxiliary is not None:
        save_model(auxiliary, str(tmp / AUXILIARY_FILE))
    torch.save(optimizer.state_dict(), tmp / OPTIMIZER_FILE)
    flat = {f"{rank}.{key}": value.contiguous() for rank, states in enumerate(rng_states) for key, value in states.items()}
    save_file(flat, str(tmp / RNG_FILE))
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf8")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    export_model(output_dir, model)
    for old in step_dirs(output_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def export_model(output_dir: Path, model) -> None:
    """Refresh config.json + model.safetensors in OUTPUT_DIR, each file replaced whole."""
    tmp = Path(output_dir) / STATE_DIR / ".tmp_export"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    for path in tmp.iterdir():
        os.replace(path, Path(output_dir) / path.name)
    tmp.rmdir()


def load_checkpoint(step_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    auxiliary: Optional[torch.nn.Module] = None) -> Dict:
    """Load weights and optimizer state; return state.json plus the per-rank RNG states."""
    load_model(model, str(step_dir / MODEL_FILE))
    if auxiliary is not None:
        if not (step_dir / AUXILIARY_FILE).is_file():
            raise UserError(f"{step_dir} has no {AUXILIARY_FILE}: it was saved by another objective; use a new output directory.")
        load_model(auxiliary, str(step_dir / AUXILIARY_FILE))
    optimizer.load_state_dict(torch.load(step_dir / OPTIMIZER_FILE, weights_only=True))
    state = read_state(step_dir)
    rng: Dict[int, Dict[str, torch.Tensor]] = {}
    for key, value in load_file(str(step_dir / RNG_FILE)).items():
        rank, name = key.split(".", 1)
        rng.setdefault(int(rank), {})[name] = value
    state["rng"] = rng
    return state
