"""Post-processing of a static table against anisotropy: centring, and "all-but-the-top"
(Mu & Viswanath 2018), the mean and the top principal components removed. The same
fitted mean and components apply to every vector composed later (`wordvectors.py`)."""
from typing import Tuple

import numpy

from ..errors import UserError


def postprocess_fit(table: numpy.ndarray, center: bool, remove_pcs: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The mean and the top `remove_pcs` principal components that postprocess_apply removes
    ("all-but-the-top", Mu & Viswanath 2018; it implies centering)."""
    if remove_pcs < 0 or remove_pcs >= min(table.shape):
        raise UserError(f"--remove-pcs must be between 0 and {min(table.shape) - 1}, got {remove_pcs}")
    mean = table.mean(axis=0).astype("float32") if (center or remove_pcs) else numpy.zeros(table.shape[1], dtype="float32")
    components = numpy.zeros((0, table.shape[1]), dtype="float32")
    if remove_pcs:
        _, _, vt = numpy.linalg.svd(table - mean, full_matrices=False)
        components = vt[:remove_pcs].astype("float32")
    return mean, components


def postprocess_apply(table: numpy.ndarray, mean: numpy.ndarray, components: numpy.ndarray) -> numpy.ndarray:
    table = table.astype("float32", copy=True) - mean
    if components.shape[0]:
        table -= (table @ components.T) @ components
    return table
