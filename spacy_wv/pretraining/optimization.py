"""Optimizer and learning-rate schedule, configured in `[optimizer]` and `[schedule]`.

The schedule is a pure function of (step, progress), where progress in [0, 1] is the
larger of step / max_steps and elapsed / max_minutes. With a wall-clock budget the
decay is thus defined on the elapsed-time fraction: it reaches its floor exactly when
the budget ends, however step time drifts (evals, checkpoints, a busy machine), which
an estimate of the step count from early step times cannot promise. Warmup counts steps.
Nothing but the step and the elapsed time is needed to resume it.
"""
import math
from dataclasses import dataclass
from typing import List

import torch
from spacy.util import registry

from ..errors import UserError


@dataclass(frozen=True)
class AdamWSettings:
    lr: float
    betas: List[float]
    eps: float
    weight_decay: float
    grad_clip: float

    def build(self, model: torch.nn.Module) -> torch.optim.AdamW:
        # Matrices decay; biases and norm weights (the 1-d parameters) do not.
        params = [p for p in model.parameters() if p.requires_grad]
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        groups = [
            {"params": decay, "weight_decay": self.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=self.lr, betas=tuple(self.betas), eps=self.eps, fused=True)


@registry.misc("spacy_wv.AdamW.v1")
def adamw(lr: float = 5e-4, betas: List[float] = [0.9, 0.98], eps: float = 1e-6, weight_decay: float = 0.01, grad_clip: float = 1.0) -> AdamWSettings:
    if not lr > 0:
        raise UserError(f"[optimizer] lr must be positive, got {lr}.")
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise UserError(f"[optimizer] betas must be two numbers in [0, 1), got {list(betas)}.")
    if not eps > 0:
        raise UserError(f"[optimizer] eps must be positive, got {eps}.")
    if weight_decay < 0:
        raise UserError(f"[optimizer] weight_decay must be >= 0, got {weight_decay}.")
    if grad_clip < 0:
        raise UserError(f"[optimizer] grad_clip must be >= 0 (0 disables clipping), got {grad_clip}.")
    return AdamWSettings(lr, list(betas), eps, weight_decay, grad_clip)


@dataclass(frozen=True)
class WarmupDecay:
    warmup_steps: int
    decay: str
    min_lr_ratio: float

    def __call__(self, step: int, progress: float) -> float:
        """LR multiplier for the optimizer step `step` (1-based). The decay runs over the
        whole run and the warmup ramp caps it, so the two meet without a jump."""
        warmup = min(1.0, step / self.warmup_steps) if self.warmup_steps else 1.0
        progress = min(max(progress, 0.0), 1.0)
        if self.decay == "cosine":
            shape = 0.5 * (1.0 + math.cos(math.pi * progress))
        elif self.decay == "linear":
            shape = 1.0 - progress
        else:
            shape = 1.0
        return min(warmup, self.min_lr_ratio + (1.0 - self.min_lr_ratio) * shape)


@registry.misc("spacy_wv.WarmupDecay.v1")
def warmup_decay(warmup_steps: int = 200, decay: str = "cosine", min_lr_ratio: float = 0.1) -> WarmupDecay:
    if warmup_steps < 0:
        raise UserError(f"[schedule] warmup_steps must be >= 0, got {warmup_steps}.")
    if decay not in ("cosine", "linear", "constant"):
        raise UserError(f"[schedule] decay = '{decay}' is unknown; choose cosine, linear or constant.")
    if not 0.0 <= min_lr_ratio <= 1.0:
        raise UserError(f"[schedule] min_lr_ratio must be in [0, 1], got {min_lr_ratio}.")
    return WarmupDecay(warmup_steps, decay, min_lr_ratio)
