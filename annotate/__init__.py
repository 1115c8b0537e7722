"""annotate: sentence-level media-bias annotation on Label Studio."""

from __future__ import annotations

__version__ = "0.1.0"

#: Version of the task-data schema written by ``push``; stored in every task.
TASK_SCHEMA_VERSION = 1
