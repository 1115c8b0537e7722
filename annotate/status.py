"""Campaign progress read from the server: sentences, annotations, per annotator."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from annotate.config import ProjectConfig
from annotate.errors import ProjectNotFound
from annotate.studio import Studio, user_email


@dataclass(frozen=True)
class StatusResult:
    """Progress of one project.

    ``coverage`` maps a number of submitted annotations k (0..overlap and more)
    to the number of sentences with exactly k. ``annotators`` has columns
    ``annotator, annotations, skipped, drafts``.
    """

    project_id: int
    project_url: str
    overlap: int
    sentences: int
    annotations: int
    skipped: int
    drafts: int
    complete: int  # sentences with at least `overlap` submitted annotations
    coverage: dict[int, int]
    annotators: pd.DataFrame


def status(config: ProjectConfig, studio: Studio) -> StatusResult:
    """Count sentences, annotations, skips and drafts of the project named ``config.name``."""
    project = studio.find_project(config.name)
    if project is None:
        raise ProjectNotFound(
            f"no Label Studio project named '{config.name}' at {studio.url}: run 'annotate push' first"
        )
    pid = int(project["id"])
    users = studio.users()
    coverage: Counter[int] = Counter()
    per_user: dict[str, Counter[str]] = {}
    sentences = annotations = skipped = drafts = 0
    for page, _ in studio.iter_task_pages(pid, fields="all"):
        for task in page:
            sentences += 1
            done = 0
            for ann in task.get("annotations") or []:
                if ann.get("ground_truth"):
                    continue  # gold reference answers are not annotators' work
                who = user_email(ann.get("completed_by"), users)
                key = "skipped" if ann.get("was_cancelled") else "annotations"
                per_user.setdefault(who, Counter())[key] += 1
                if ann.get("was_cancelled"):
                    skipped += 1
                else:
                    annotations += 1
                    done += 1
            for draft in task.get("drafts") or []:
                who = user_email(draft.get("user"), users)
                per_user.setdefault(who, Counter())["drafts"] += 1
                drafts += 1
            coverage[done] += 1
    table = pd.DataFrame(
        [
            (who, c["annotations"], c["skipped"], c["drafts"])
            for who, c in sorted(per_user.items(), key=lambda kv: (-kv[1]["annotations"], kv[0]))
        ],
        columns=["annotator", "annotations", "skipped", "drafts"],
    )
    return StatusResult(
        project_id=pid,
        project_url=f"{studio.url}/projects/{pid}/data",
        overlap=config.overlap,
        sentences=sentences,
        annotations=annotations,
        skipped=skipped,
        drafts=drafts,
        complete=sum(n for k, n in coverage.items() if k >= config.overlap),
        coverage=dict(sorted(coverage.items())),
        annotators=table,
    )
