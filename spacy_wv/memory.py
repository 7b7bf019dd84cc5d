"""Resident memory that stays flat over a long run (pretraining, `vectors export`).

A pretraining step allocates and frees the same few hundred MB of tensors, many of them
between 128 KB and 32 MB, which glibc serves from its heap once its mmap threshold has
adapted upwards. The free chunks between live ones stay resident, so the process grew
with every step (1.6 GB at step 20 to 3.7 GB at step 200 of the default config on one
thread, and 4.8 GB after 30 minutes of `make all`; benchmarks/pretrain_memory.py).
`vectors export` encodes its windows shortest first, so each batch asks for larger
tensors than the chunks the previous ones freed.
`malloc_trim(0)` hands those free pages back to the system, in well under a millisecond.
Where the C library has no malloc_trim (not glibc), it does nothing.
"""
import ctypes
import ctypes.util
from typing import Callable, Optional

# Steps (or batches) between two trims: often enough that the heap never holds more
# than a few steps' worth of free pages, rarely enough that re-faulting them costs nothing.
TRIM_EVERY = 10


def _malloc_trim() -> Optional[Callable[[int], int]]:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


MALLOC_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Return the heap's free pages to the system (glibc), so that RSS tracks live memory."""
    if MALLOC_TRIM is not None:
        MALLOC_TRIM(0)
