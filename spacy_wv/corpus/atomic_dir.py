"""Kept for imports from earlier versions: the output rule lives in `spacy_wv.outputs`."""
from ..outputs import atomic_output_dir

__all__ = ["atomic_output_dir"]
