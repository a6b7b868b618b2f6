"""The C allocator's thresholds, pinned so memory the mock frees goes back to the system.

glibc adapts two thresholds as a process runs: each time a block it had mapped on its own
(128 KiB or more at first) is freed, blocks of that size come from the heap from then on (the
mmap threshold rises, up to 32 MiB) and the heap keeps up to twice that much free memory at its
top instead of giving it back (the trim threshold). After the first large request body (its
bytes, its text, the parser's lists) or the first resize of a large run map, the memory a purge
or a parse frees then stays resident: measured, a 1 MiB body of small objects kept 9 MiB
(`python -m scenarios.bench_memory --body`) and a purge of 200,000 runs 13 MiB. Pinning both
thresholds at glibc's own default turns the adaptation off.

Elsewhere (no `mallopt`, as on macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Final

__all__ = ["MALLOC_THRESHOLD_BYTES", "pin_malloc_thresholds"]

MALLOC_THRESHOLD_BYTES: Final = 128 * 1024
"""Blocks this large are mapped on their own; free heap top beyond it is given back."""
_M_TRIM_THRESHOLD: Final = -1  # <malloc.h>
_M_MMAP_THRESHOLD: Final = -3


@functools.cache
def pin_malloc_thresholds() -> bool:
    """Pin glibc's mmap and trim thresholds at `MALLOC_THRESHOLD_BYTES`, once per process.

    Returns:
        True when the C library took both settings; False where it has no `mallopt` or
        refused them (nothing changed then).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(
        mallopt(parameter, MALLOC_THRESHOLD_BYTES) == 1
        for parameter in (_M_MMAP_THRESHOLD, _M_TRIM_THRESHOLD)
    )
