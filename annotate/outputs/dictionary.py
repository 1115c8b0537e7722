"""The data dictionary ``exports/<name>/README.md``, written at every pull.

It says what each file of the folder is, one row per what, which command writes it, every
column with its unit and how it is computed (from ``annotate.columns``, shared with the
workbook's README sheet), how to read the figures, how the CSV files are encoded, and where
the data came from: the manifest's provenance (pulled at, Label Studio address and version,
project, config SHA-256, row counts) and the config's targets and labels.

The API key is never written: it is not in the manifest, and the address is shown without
any user name or password it might carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from annotate.columns import CSV_ENCODING_NOTE, FILES, READING_NOTES, FileDoc
from annotate.config import ProjectConfig
from annotate.files import write_text

__all__ = ["DICTIONARY_FILE", "render_dictionary", "write_dictionary"]

DICTIONARY_FILE = "README.md"


def write_dictionary(folder: Path, manifest: Mapping[str, Any], config: ProjectConfig) -> Path:
    """Write ``<folder>/README.md`` atomically and return its path."""
    return write_text(render_dictionary(manifest, config), Path(folder) / DICTIONARY_FILE)


def public_url(url: str) -> str:
    """``url`` without a user name or password (``https://user:secret@host`` -> ``https://host``)."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _md(text: object) -> str:
    """Plain text for Markdown: ``<`` escaped, so ``stance_<target id>`` is not read as an HTML tag."""
    return str(text).replace("<", "\\<")


def _cell(text: object) -> str:
    """Text for a Markdown table cell: ``<`` and pipes escaped, line breaks as spaces."""
    return _md(" ".join(str(text).split())).replace("|", "\\|")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def _provenance(manifest: Mapping[str, Any]) -> list[str]:
    rows = manifest.get("rows") or {}
    counts = ", ".join(
        f"{key} {value:,}" if isinstance(value, int) else f"{key} {value}" for key, value in rows.items()
    )
    items = [
        ["pulled at (UTC)", manifest.get("pulled_at", "")],
        ["pull", f"{manifest.get('pull', '')} ({manifest.get('tasks_fetched', '')} task(s) fetched)"],
        ["Label Studio", public_url(str(manifest.get("label_studio_url", "")))],
        ["Label Studio version", manifest.get("label_studio_version", "")],
        [
            "project",
            f"{manifest.get('project_name', '')} — “{manifest.get('project_title', '')}” "
            f"(Label Studio project {manifest.get('project_id', '')})",
        ],
        ["config sha256", f"`{manifest.get('config_sha256', '')}`"],
        ["annotate version", manifest.get("annotate_version", "")],
        ["row counts", counts],
    ]
    return _table(["item", "value"], items)


def _config_section(config: ProjectConfig) -> list[str]:
    rows: list[list[object]] = [
        [f"`stance_{t.id}`", f"stance toward {t.label}", ", ".join(config.stance_labels)]
        for t in config.targets
    ]
    if config.sentence_types:
        rows.append(["`sentence_type`", "fact or opinion", ", ".join(config.sentence_types)])
    if config.cues:
        rows.append(["`cues`", "bias-cue spans marked in the sentence", ", ".join(config.cues)])
    rows.append(["`comment`", "free-text comment of the annotator", ""])
    lines = _table(["field", "question", "labels"], rows)
    lines += [
        "",
        f"Each sentence is meant for {config.overlap} annotator(s) (`overlap`). Krippendorff's α reads the "
        f"stance labels as `{config.stance_level}`"
        + (
            " (a scale in the order listed above)."
            if config.stance_level != "nominal"
            else " (unordered categories)."
        )
        + (
            f" Gold sentences come from `{config.gold}`; annotators under {config.gold_threshold:g} gold "
            f"accuracy on at least {config.gold_min_items} gold answers are flagged."
            if config.gold
            else ""
        ),
    ]
    return lines


def _file_section(doc: FileDoc) -> list[str]:
    lines = [f"### `{doc.name}`", ""]
    about = doc.description
    if doc.row:
        about = f"One row per {doc.row}. {about}"
    lines.append(_md(about))
    lines.append("")
    meta = f"Written by `{doc.written_by}`"
    if doc.when:
        meta += f", {doc.when}"
    lines.append(meta + ".")
    if doc.columns:
        lines.append("")
        header = ["key", "unit", "meaning"] if doc.name.endswith(".json") else ["column", "unit", "meaning"]
        lines += _table(
            header, [[f"`{name}`", col.unit, col.description] for name, col in doc.columns.items()]
        )
    lines.append("")
    return lines


def render_dictionary(manifest: Mapping[str, Any], config: ProjectConfig) -> str:
    """The README.md text for an export folder of ``config``'s project after a pull."""
    title = config.display_title()
    lines = [
        f"# {_md(title)}: annotation exports",
        "",
        f"Exports of the Label Studio project `{config.name}`, written by `annotate pull` and "
        "`annotate summarize`. This file is rewritten at every pull.",
        "",
        "## Provenance",
        "",
        *_provenance(manifest),
        "",
        "## Fields and labels",
        "",
        *_config_section(config),
        "",
        "## Encoding",
        "",
        CSV_ENCODING_NOTE,
        "",
        "The workbook `summary.xlsx` holds the same values as the CSV files, with numbers as numbers.",
        "",
        "## Files",
        "",
        *_table(
            ["file", "one row per", "written by"],
            [
                [f"`{doc.name}`", doc.row or "—", doc.written_by + (f" ({doc.when})" if doc.when else "")]
                for doc in FILES.values()
            ],
        ),
        "",
        "The summary files (`sentence_labels.csv` to `summary.xlsx`) describe the pull they were computed "
        "from: run `annotate summarize` after `annotate pull` to bring them up to date.",
        "",
        "## How to read the figures",
        "",
        *[f"- {_md(note)}" for note in READING_NOTES],
        "",
        "## Columns",
        "",
    ]
    for doc in FILES.values():
        lines += _file_section(doc)
    return "\n".join(lines).rstrip() + "\n"
