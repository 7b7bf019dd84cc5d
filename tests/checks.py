"""Checks that several tests share: a loss that falls over training, and cosines recomputed
by hand from the vectors a component stored."""
import json
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy


def assert_loss_falls(losses: Sequence[float], window: int = 1, margin: float = 0.0) -> None:
    """The mean of the last `window` losses is below the mean of the first `window` by more
    than `margin` (a fraction of the first mean): more than one lucky step can give."""
    losses = [float(x) for x in losses]
    assert len(losses) >= 2 * window, f"too few losses to compare ({len(losses)}): {losses}"
    first, last = numpy.mean(losses[:window]), numpy.mean(losses[-window:])
    assert numpy.isfinite(losses).all(), losses
    assert last < first * (1 - margin), f"the loss did not fall: first {first:.4f}, last {last:.4f} ({losses})"


def spacy_train_losses(log_file: Path, component: str) -> List[Tuple[int, float]]:
    """(step, mean loss per update) of each evaluation window that spaCy's console logger
    wrote to its `output_file`: losses are summed between evaluations, so each is divided
    by the number of updates it covers (spaCy updates at steps 0, 1, 2, ...)."""
    rows = [json.loads(line) for line in Path(log_file).read_text(encoding="utf8").splitlines() if line.strip()]
    assert rows, f"{log_file} is empty"
    result, previous = [], -1
    for row in rows:
        updates = row["step"] - previous
        result.append((row["step"], row["losses"][component] / updates))
        previous = row["step"]
    return result


def cosine(a, b) -> float:
    a, b = numpy.asarray(a, dtype="float64"), numpy.asarray(b, dtype="float64")
    return float(a @ b / (numpy.linalg.norm(a) * numpy.linalg.norm(b)))
