"""Hand freed heap memory back to the operating system.

Long `nlp.pipe` runs allocate tensors of a different shape for nearly every batch.
glibc's malloc keeps the freed blocks in its arenas, so the resident size of a
process creeps upward although nothing leaks: measured over 2,500 short notes, RSS
grew 821 -> 1,172 MB without trimming and stayed at ~650 MB with `malloc_trim(0)`
every 250 docs. That is the size right after each trim: between trims the heap grows
again, so the peak is not bounded by this alone (benchmarks/README.md, memory section).
"""
import ctypes
import ctypes.util
from functools import lru_cache
from typing import Callable, Optional


@lru_cache(maxsize=1)
def _malloc_trim() -> Optional[Callable[[int], int]]:
    """glibc's malloc_trim, or None where the C library has none (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return free heap pages to the OS; False where the platform cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
