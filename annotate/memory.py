"""How freed memory goes back to the system (glibc's allocator; elsewhere nothing is changed).

Two commands want opposite things:

- ``annotate predict`` allocates the same large NumPy arrays batch after batch: glibc should
  keep the freed pages for the next batch (``keep_freed_memory``);
- ``annotate push`` frees each import batch's tasks and request body once Label Studio has
  them, in several threads, between long-lived objects: glibc keeps those pages unless asked
  to return them (``release_freed_memory``), and the process grows with the campaign.
"""

from __future__ import annotations

import ctypes
import functools

__all__ = ["keep_freed_memory", "release_freed_memory"]

#: glibc's mallopt parameters and the values ``keep_freed_memory`` sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 << 20  # glibc's largest (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
_TRIM_THRESHOLD = 1 << 30


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Let glibc reuse the memory of one batch's arrays for the next instead of returning it.

    By default glibc serves each large NumPy array with a fresh ``mmap`` and unmaps it when freed
    (or trims the heap), so every batch page-faults its tens of megabytes in again: a tenth of
    ``annotate predict``'s model stage (``make bench-predict``). Serving blocks up to 32 MB from
    the heap and trimming it only past 1 GB free keeps those pages; the peak is unchanged, since
    each batch needs them again. True when set; False (nothing changed) where the C library is
    not glibc.
    """
    libc = _libc()
    if libc is None:
        return False
    mmap = libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    return bool(mmap and libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))


def release_freed_memory() -> bool:
    """Return the free pages of every glibc arena to the system (``malloc_trim(0)``), not only
    the free end of the main heap that glibc returns by itself; a few milliseconds. True when
    pages were returned; False when none were or the C library is not glibc."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
