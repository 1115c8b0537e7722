"""The main job end to end on the embedded server, with optional simulated annotators.

Simulated annotators are real Label Studio users named ``demo-annotator-N@annotate.localhost``
whose answers are generated from simple keyword rules plus seeded noise, so the
demo produces realistic disagreement. They are for trying the tool out only.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from annotate.config import ProjectConfig, load_config
from annotate.errors import ProjectNotFound
from annotate.starter import CONFIG_FILE, packaged_file
from annotate.studio.client import Connection, Studio, user_email

DEMO_DOMAIN = "annotate.localhost"
SAMPLE_NAME = "china_us_ai_cooperation.txt"
Progress = Callable[[int, int], None]

_CUE_PATTERNS: dict[str, str] = {
    "Vague attribution": r"\b(?:[Ss]ome in the US|[Ii]ndustry observers generally believe|"
    r"observers believe|hopes remain high)\b",
    "Appeal to authority": r"\b(?:Henry Kissinger|MIT Technology Review|Former US Secretary of State)\b",
    "Slogan or metaphor": r"\"[^\"]{3,60}\"",
    "Loaded language": r"\b(?:weaponizing|politicizing|instrumentalizing|suppression and containment|"
    r"zero-sum|artificially erecting barriers|iron curtain|harmful|undermine)\b",
}


def sample_article() -> Path:
    """Path of the sample opinion piece shipped with the package."""
    return Path(str(resources.files("annotate") / "data" / SAMPLE_NAME))


def demo_config(path: Path) -> ProjectConfig:
    """The config at ``path``, or the starter config shipped with the package when it does not exist."""
    if path.exists():
        return load_config(path)
    return load_config(packaged_file(CONFIG_FILE))


def demo_emails(n: int) -> list[str]:
    return [f"demo-annotator-{i}@{DEMO_DOMAIN}" for i in range(1, n + 1)]


def demo_password(admin_key: str, email: str) -> str:
    """A password derived from the admin key, so re-running the demo can log the user in again."""
    return "Demo-" + hmac.new(admin_key.encode(), email.encode(), hashlib.sha256).hexdigest()[:20]


def _truth(text: str, field: str, labels: list[str]) -> str:
    """A plausible answer from keyword rules; the simulated annotators start from it."""
    low = text.lower()

    def pick(name: str, fallback: str) -> str:
        return name if name in labels else fallback

    absent = labels[-1]
    if field == "sentence_type":
        opinion = re.search(r"\b(should|must|can|will|hope|believe|inevitable|harmful|core priority)\b", low)
        return pick("Opinion", labels[-1]) if opinion else pick("Fact", labels[0])
    if field == "stance_us":
        if not re.search(r"\b(us|u\.s\.|united states)\b", low):
            return absent
        hostile = re.search(r"some in the us|decoupling|restrict|weaponiz|suppression|fences|barrier", low)
        return pick("Against", labels[1]) if hostile else pick("Neutral", labels[2 % len(labels)])
    if field == "stance_cooperation":
        if re.search(r"cooperat|collaborat|together|jointly|dialogue|mutual|partner", low):
            return pick("Favor", labels[0])
        return absent
    if re.search(r"\bchina\b|chinese", low):
        return pick("Favor", labels[0])
    return absent


def simulated_result(
    text: str, config: ProjectConfig, rng: random.Random, accuracy: float
) -> list[dict[str, Any]]:
    """One simulated annotation of ``text``: every choice field answered, some cue spans."""
    result: list[dict[str, Any]] = []
    for field, labels in config.choice_fields().items():
        label = _truth(text, field, labels)
        if rng.random() > accuracy:
            label = rng.choice(labels)
        result.append(
            {
                "from_name": field,
                "to_name": "sentence",
                "type": "choices",
                "value": {"choices": [label]},
            }
        )
    for cue in config.cues:
        pattern = _CUE_PATTERNS.get(cue)
        if not pattern:
            continue
        for match in re.finditer(pattern, text):
            if rng.random() < accuracy:
                result.append(
                    {
                        "from_name": "cues",
                        "to_name": "sentence",
                        "type": "labels",
                        "value": {
                            "start": match.start(),
                            "end": match.end(),
                            "text": match.group(0),
                            "labels": [cue],
                        },
                    }
                )
    return result


def simulate_annotators(
    config: ProjectConfig,
    studio: Studio,
    n: int,
    seed: int = 7,
    progress: Progress | None = None,
) -> list[str]:
    """Create ``n`` demo annotators and let each label every sentence it has not labelled yet.

    Returns their e-mails. Annotator i agrees with the keyword rules with
    probability 0.9 - 0.1·(i-1) per field (at least 0.5), so agreement is imperfect.
    """
    project = studio.find_project(config.name)
    if project is None:
        raise ProjectNotFound(f"no Label Studio project named '{config.name}': push the articles first")
    pid = int(project["id"])
    tasks = [t for page, _ in studio.iter_task_pages(pid, fields="all") for t in page]
    users = studio.users()
    emails = demo_emails(n)
    total = len(tasks) * n
    done = 0
    for i, email in enumerate(emails):
        key = studio.create_annotator(email, demo_password(studio.conn.api_key, email))
        rng = random.Random(f"{seed}-{email}")
        accuracy = max(0.5, 0.9 - 0.1 * i)
        with Studio(Connection(studio.url, key, f"demo user {email}")) as as_user:
            for task in tasks:
                done_by = {user_email(a.get("completed_by"), users) for a in task.get("annotations") or []}
                if email not in done_by and not (task.get("meta") or {}).get("superseded"):
                    text = str((task.get("data") or {}).get("text", ""))
                    as_user.create_annotation(
                        int(task["id"]),
                        simulated_result(text, config, rng, accuracy),
                        lead_time=round(rng.uniform(4.0, 40.0), 1),
                    )
                done += 1
                if progress:
                    progress(done, total)
    return emails
