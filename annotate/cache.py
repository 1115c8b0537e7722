"""Where annotate keeps its local caches (status counts, push records)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "ANNOTATE_CACHE_DIR"


def cache_root() -> Path:
    """``$ANNOTATE_CACHE_DIR``, else annotate's user cache folder (``~/.cache/annotate`` on Linux)."""
    import platformdirs

    root = os.environ.get(CACHE_DIR_ENV, "").strip()
    return Path(root or platformdirs.user_cache_dir("annotate"))
