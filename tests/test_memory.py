"""``annotate.memory``: freed memory goes back to the system when push asks (glibc)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# 80 MB in blocks glibc serves from its heap, one block kept after them (so the heap cannot
# shrink from its end by itself), the rest freed: the pages stay with the process until
# release_freed_memory returns them. A fresh process: no other test's allocations, no mallopt.
SCRIPT = """
from annotate.memory import release_freed_memory
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
blocks = [bytearray(8192) for _ in range(10_000)]
kept = bytearray(8192)
del blocks
before = rss()
released = release_freed_memory()
print(released, (before - rss()) / 2**20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_release_freed_memory_returns_freed_heap_pages() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    released, mib = done.stdout.split()
    assert released == "True"
    assert float(mib) > 60  # of the 80 MB freed
