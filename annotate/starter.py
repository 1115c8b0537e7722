"""The project folder: the starter files ``annotate init`` writes, and where commands find them.

One copy of each starter file — the config ``stance.yaml``, the annotation guidelines
``guidelines.md`` and the cue rules ``cues.yaml`` — lives in the repository's top-level
``configs/`` folder. The wheel ships those same files as ``annotate/starter/`` (pyproject.toml
maps the one folder to the other), so ``packaged_file`` finds them in an installed wheel and,
in a source checkout (an editable install), in ``configs/`` itself.

Every command finds its config the same way (``find_config``): ``--config`` if given, else the
``ANNOTATE_CONFIG`` environment variable, else ``./configs/stance.yaml``; with none of them, one
``ConfigError`` (exit 2) that suggests ``annotate init``.

A config's own ``guidelines`` and ``suggestions`` paths are relative to the config file;
by default the guidelines are ``guidelines.md`` beside the config, else the packaged ones when
the config asks the sample's questions, and the cue rules are the packaged ones cut down to the
config's cues.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from annotate.config import GUIDELINES_FILE, ProjectConfig, load_config
from annotate.errors import ConfigError
from annotate.files import write_text

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "STARTER_FILES",
    "default_rules_path",
    "find_config",
    "guidelines_path",
    "init_project",
    "packaged_file",
    "suggestions_path",
    "uses_sample_scheme",
]

STARTER_DIR = "configs"
CONFIG_FILE = "stance.yaml"
RULES_FILE = "cues.yaml"
#: What ``annotate init`` writes into ``<folder>/configs/``, in this order.
STARTER_FILES = (CONFIG_FILE, GUIDELINES_FILE, RULES_FILE)
CONFIG_ENV = "ANNOTATE_CONFIG"
DEFAULT_CONFIG = Path(STARTER_DIR) / CONFIG_FILE


def packaged_file(name: str) -> Path:
    """The starter file ``name``: ``annotate/starter/<name>`` in a wheel, ``configs/<name>`` in a checkout."""
    installed = resources.files("annotate") / "starter" / name
    if installed.is_file():
        return Path(str(installed))
    checkout = Path(__file__).resolve().parent.parent / STARTER_DIR / name
    if checkout.is_file():
        return checkout
    raise ConfigError(f"annotate's starter file {name} is missing from this installation; reinstall annotate")


def default_rules_path() -> Path:
    """The cue rules shipped with annotate (``configs/cues.yaml``)."""
    return packaged_file(RULES_FILE)


def find_config(given: Path | None = None, required: bool = True) -> Path:
    """The config a command uses: ``given`` (``--config``), else ``$ANNOTATE_CONFIG``, else
    ``./configs/stance.yaml``; ConfigError (suggesting ``annotate init``) when there is none and
    it is ``required`` (the demo falls back to the starter config instead)."""
    if given is not None:
        return given
    env = os.environ.get(CONFIG_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    if DEFAULT_CONFIG.is_file() or not required:
        return DEFAULT_CONFIG
    raise ConfigError(
        f"no project config here: pass --config FILE, set {CONFIG_ENV}, or run 'annotate init' "
        f"to write a starter {DEFAULT_CONFIG} in this folder"
    )


def init_project(folder: Path | str = ".", force: bool = False) -> list[Path]:
    """Write the starter files into ``<folder>/configs/`` and return their paths.

    Nothing is written when any of them exists already (ConfigError naming it), unless
    ``force``; each file is written atomically.
    """
    target = Path(folder) / STARTER_DIR
    paths = [target / name for name in STARTER_FILES]
    if not force:
        present = [str(p) for p in paths if p.exists()]
        if present:
            raise ConfigError(
                f"{', '.join(present)} already exist(s); keep them, or pass --force to overwrite "
                "with the starter files"
            )
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} exists and is not a folder; move it away and run 'annotate init' again")
    texts = [packaged_file(name).read_text(encoding="utf-8") for name in STARTER_FILES]
    return [write_text(text, path) for text, path in zip(texts, paths, strict=True)]


def _relative(value: str, config_path: Path | None) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute() and config_path is not None:
        path = config_path.parent / path
    return path


def uses_sample_scheme(config: ProjectConfig) -> bool:
    """True when the config asks the sample's questions (targets, labels, types and cues)."""
    sample = load_config(packaged_file(CONFIG_FILE))
    return (config.targets, config.stance_labels, config.sentence_types, config.cues) == (
        sample.targets,
        sample.stance_labels,
        sample.sentence_types,
        sample.cues,
    )


def guidelines_path(config: ProjectConfig, config_path: Path | None = None) -> Path | None:
    """The guidelines file the config asks for (see annotate.config), or None for none."""
    if config.guidelines is False:
        return None
    if isinstance(config.guidelines, str):
        return _relative(config.guidelines, config_path)
    beside = (config_path.parent if config_path is not None else Path.cwd()) / GUIDELINES_FILE
    if beside.is_file():
        return beside
    return packaged_file(GUIDELINES_FILE) if uses_sample_scheme(config) else None


def suggestions_path(config: ProjectConfig, config_path: Path | None = None) -> Path | None:
    """The cue-rules file the config asks for, or None when suggestions are off or there are no cues."""
    if config.suggestions is False or not config.cues:
        return None
    if isinstance(config.suggestions, str):
        return _relative(config.suggestions, config_path)
    return default_rules_path()
