"""The list of the rows a reader skipped: one line per bad row, in a text file beside the output.

``annotate predict`` and ``annotate push --skip-bad-rows`` read their corpora with
``annotate.ingest.articles.iter_articles(..., on_bad_row=log)`` where ``log`` is a
:class:`BadRowLog`: each bad row's one-line :class:`InputError` (``<file>[:row N (line M)|:line
N]: <what is wrong>; <how to fix it>``) becomes one line of the file, written as it comes (a
corpus with a million bad rows holds none of them in memory).

The file is written like every export: to a temporary file in the same folder, renamed into
place when the run succeeds. A run with no bad row removes the list an earlier run left, so the
file, when present, always lists the last run's bad rows; a run that fails leaves the previous
list as it was. ``beside(out)`` names the list of an output file: ``predictions.parquet`` ->
``predictions.bad_rows.txt``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

from annotate.errors import InputError

__all__ = ["BAD_ROWS_SUFFIX", "BadRowLog", "beside"]

BAD_ROWS_SUFFIX = ".bad_rows.txt"


def beside(out: Path) -> Path:
    """The bad-rows list of the output file ``out``: same folder, ``<stem>.bad_rows.txt``."""
    return out.with_name(out.stem + BAD_ROWS_SUFFIX)


class BadRowLog:
    """A context manager and an ``on_bad_row`` handler: ``log(error)`` writes ``str(error)`` as
    one line. ``count`` is the number of bad rows so far; ``path`` where the list goes.

    On a normal exit the list is renamed to ``path`` when it has a line, and a stale ``path``
    is removed when it has none (``written`` says which); on an exception nothing is renamed
    and ``path`` is left as it was.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.count = 0
        self.written = False
        self._tmp: Path | None = None
        self._file: IO[str] | None = None

    def __enter__(self) -> BadRowLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self._tmp = Path(name)
        self._file = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        return self

    def __call__(self, error: InputError) -> None:
        assert self._file is not None, "use BadRowLog as a context manager"
        line = str(error).replace("\r", "\\r").replace("\n", "\\n")  # one line, whatever it says
        self._file.write(line + "\n")
        self.count += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._file is not None and self._tmp is not None
        try:
            self._file.close()
            if kind is None:
                if self.count:
                    os.chmod(self._tmp, 0o644)
                    os.replace(self._tmp, self.path)
                    self.written = True
                else:
                    self.path.unlink(missing_ok=True)
        finally:
            self._tmp.unlink(missing_ok=True)
