"""The analyst's secrets for one project: the blinding key and the annotators' pseudonyms.

Kept in one JSON file per project, ``<key dir>/<project name>.json``, mode 0600, in the
analyst's data folder (``$ANNOTATE_KEY_DIR``, else ``keys/`` in annotate's user data folder,
beside the embedded server's ``label-studio/`` folder with its ``login.json``). Nothing in it
ever goes to Label Studio, a log or an export.

- **Blinding key** (64 random bytes). The blinded fields of a document (``config.blind``), its
  ``url`` and its real ``doc_id`` and sentence ids reach the server only *sealed*: encrypted
  with AES-SIV (RFC 5297, ``cryptography``'s ``AESSIV``), deterministic, so pushing the same
  sentence twice sends the same bytes and a re-push sees nothing changed. The ids the server
  holds for such a document are keyed pseudonyms (HMAC-SHA-256 under the same key), so an
  annotator with the API cannot look a document up by its file name either.
  ``annotate pull`` unseals them again.
- **Annotator pseudonyms**: ``A01``, ``A02``, … in the order annotators are first pulled
  (by Label Studio user id within one pull), the same in every file and every later pull.

A second analyst machine gets both with ``annotate key export FILE`` here and
``annotate key import FILE`` there (the file is as secret as the key).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from annotate.errors import KeyFileError
from annotate.files import write_private_json

__all__ = [
    "KEY_DIR_ENV",
    "ProjectKeys",
    "export_keys",
    "import_keys",
    "key_dir",
    "key_path",
    "load_keys",
    "name_annotators",
    "project_keys",
]

KEY_DIR_ENV = "ANNOTATE_KEY_DIR"
FORMAT = "annotate project keys 1"
_AAD = b"annotate sealed task meta v1"


@functools.lru_cache(maxsize=8)
def _fingerprint(key: bytes) -> str:
    """``key_id``: computed once per key (a push stamps it on every sealed task)."""
    return hmac.new(key, b"key id", hashlib.sha256).hexdigest()[:12]


@functools.lru_cache(maxsize=8)
def _siv(key: bytes) -> Any:
    """The AES-SIV cipher of ``key``, made once per key (a push seals every task with it)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    return AESSIV(key)


_PSEUDONYM = re.compile(r"A\d{2,}")


def key_dir() -> Path:
    """``$ANNOTATE_KEY_DIR``, else ``keys/`` in annotate's user data folder."""
    env = os.environ.get(KEY_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("annotate")) / "keys"


def key_path(project: str) -> Path:
    """Where the keys of the project named ``project`` are kept."""
    return key_dir() / f"{project}.json"


@dataclass
class ProjectKeys:
    """One project's blinding key and annotator pseudonyms (see the module docstring)."""

    project: str
    key: bytes | None  # None until a push blinds a document
    annotators: dict[str, str] = field(default_factory=dict)  # e-mail -> pseudonym
    path: Path | None = None

    def _key(self) -> bytes:
        if self.key is None:
            raise KeyFileError(f"project '{self.project}' has no blinding key on this machine ({self.path})")
        return self.key

    @property
    def key_id(self) -> str | None:
        """A short public fingerprint of the key, stored beside each sealed value."""
        return None if self.key is None else _fingerprint(self.key)

    def pseudonym(self, kind: str, value: str) -> str:
        """A keyed pseudonym for an id (``kind`` ``doc`` or ``sentence``): stable, not invertible
        (HMAC-SHA256 of ``kind``, a unit separator and ``value``, 16 hex digits)."""
        digest = hmac.digest(self._key(), f"{kind}\x1f{value}".encode(), "sha256").hex()[:16]
        return ("d" if kind == "doc" else "s") + digest

    def seal(self, payload: dict[str, Any]) -> str:
        """``payload`` encrypted (deterministically: the same payload gives the same text)."""
        plain = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return base64.urlsafe_b64encode(_siv(self._key()).encrypt(plain, [_AAD])).decode("ascii")

    def unseal(self, token: str) -> dict[str, Any] | None:
        """The payload sealed in ``token``, or None when it was sealed with another key (or none)."""
        from cryptography.exceptions import InvalidTag

        if self.key is None:
            return None
        try:
            plain = _siv(self.key).decrypt(base64.urlsafe_b64decode(token.encode("ascii")), [_AAD])
        except (InvalidTag, ValueError):
            return None
        value = json.loads(plain)
        return value if isinstance(value, dict) else None

    def annotator(self, email: str) -> str:
        """The pseudonym of ``email``, assigned (next free ``Annn``) when first seen."""
        known = self.annotators.get(email)
        if known is None:
            known = f"A{len(self.annotators) + 1:02d}"
            self.annotators[email] = known
        return known

    def names(self) -> dict[str, str]:
        """Pseudonym -> e-mail."""
        return {pseudonym: email for email, pseudonym in self.annotators.items()}

    def display(
        self, values: pd.Series, show_names: bool, order: Mapping[str, int] | None = None
    ) -> pd.Series:
        """An annotator column (e-mails, or this project's pseudonyms) as pseudonyms, or as e-mails
        with ``show_names``. E-mails seen for the first time get the next pseudonyms, in ``order``
        (e-mail -> Label Studio user id), then alphabetically. Missing values stay missing."""
        names = self.names()
        emails = values.map(lambda v: names.get(v, v) if isinstance(v, str) else v)
        if not show_names:
            rank = order or {}
            new = {
                e
                for e in emails.dropna().unique()
                if e not in self.annotators and not _PSEUDONYM.fullmatch(e)
            }
            for email in sorted(new, key=lambda e: (rank.get(e, float("inf")), e)):
                self.annotator(email)
            emails = emails.map(lambda e: self.annotators.get(e, e) if isinstance(e, str) else e)
        return emails.astype("string")

    def save(self) -> Path:
        """Write the file (0600, atomically) and return its path."""
        path = self.path or key_path(self.project)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private_json(
            path,
            {
                "format": FORMAT,
                "project": self.project,
                "blinding_key": None if self.key is None else base64.b64encode(self.key).decode("ascii"),
                "annotators": self.annotators,
            },
        )
        self.path = path
        return path


def _read(path: Path, project: str | None) -> ProjectKeys:
    """The keys in ``path``; KeyFileError naming the file when it is not a keys file of ``project``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such keys file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"{path}: not a readable annotate keys file ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise KeyFileError(f"{path}: not an annotate keys file (written by 'annotate key export')")
    try:
        raw = data["blinding_key"]
        key = None if raw is None else base64.b64decode(str(raw), validate=True)
        annotators = {str(k): str(v) for k, v in dict(data.get("annotators") or {}).items()}
        name = str(data["project"])
    except (KeyError, ValueError, TypeError):
        raise KeyFileError(
            f"{path}: the keys file is damaged; export it again from a machine that has it"
        ) from None
    if key is not None and len(key) != 64:
        raise KeyFileError(f"{path}: the blinding key has {len(key)} bytes, not 64; the file is damaged")
    if any(not _PSEUDONYM.fullmatch(v) for v in annotators.values()) or len(set(annotators.values())) != len(
        annotators
    ):
        raise KeyFileError(f"{path}: the annotator pseudonyms are damaged; export the file again")
    if project is not None and name != project:
        raise KeyFileError(f"{path}: holds the keys of project '{name}', not '{project}'")
    return ProjectKeys(name, key, annotators, path)


def load_keys(project: str, create: bool = False) -> ProjectKeys | None:
    """This machine's keys of ``project`` with a blinding key: None when there is none (a new
    key when ``create``; the caller saves it once it has used it)."""
    keys = project_keys(project)
    if keys.key is None and create:
        keys.key = secrets.token_bytes(64)
    return keys if keys.key is not None else None


def project_keys(project: str) -> ProjectKeys:
    """This machine's keys file of ``project``, or an empty one (no key, no pseudonyms yet)."""
    path = key_path(project)
    return _read(path, project) if path.exists() else ProjectKeys(project, None, {}, path)


def export_keys(project: str, dest: Path) -> Path:
    """Copy this machine's keys of ``project`` to ``dest`` (0600); KeyFileError when there are none."""
    keys = project_keys(project)
    if keys.key is None and not keys.annotators:
        raise KeyFileError(
            f"this machine has no keys for project '{project}' ({key_path(project)}): push or pull "
            "it here first, or import them from the machine that pushed it"
        )
    return ProjectKeys(keys.project, keys.key, dict(keys.annotators), Path(dest)).save()


def import_keys(src: Path, force: bool = False) -> ProjectKeys:
    """Install the keys in ``src`` on this machine; KeyFileError when it holds different keys of
    the same project already (unless ``force``). Pseudonyms already assigned here are kept when
    the keys are the same."""
    incoming = _read(Path(src), None)
    here = project_keys(incoming.project)
    if not force:
        if here.key is not None and here.key != incoming.key:
            raise KeyFileError(
                f"this machine already has a different blinding key for '{incoming.project}' "
                f"({here.path}); pass --force to replace it (exports pulled with it keep their values)"
            )
        clash = {e for e, p in incoming.annotators.items() if here.annotators.get(e, p) != p}
        taken = set(here.names()) & {p for e, p in incoming.annotators.items() if e not in here.annotators}
        if clash or taken:
            raise KeyFileError(
                f"the pseudonyms in {src} differ from this machine's for '{incoming.project}'; "
                "pass --force to take the imported ones"
            )
        incoming.annotators = {**here.annotators, **incoming.annotators}
    incoming.path = key_path(incoming.project)
    incoming.save()
    return incoming


def name_annotators(project: str, columns: Sequence[tuple[pd.DataFrame, str]], show_names: bool) -> None:
    """Rewrite each annotator column (``(frame, column)``, in place) as pseudonyms, or as e-mail
    addresses with ``show_names``; new pseudonyms are saved. KeyFileError when ``show_names`` meets
    pseudonyms this machine cannot name (its keys file lacks them)."""
    keys = project_keys(project)
    known = dict(keys.annotators)
    for frame, column in columns:
        if column in frame:
            frame[column] = keys.display(frame[column], show_names)
    if show_names:
        values = {str(v) for frame, column in columns if column in frame for v in frame[column].dropna()}
        left = sorted(v for v in values if _PSEUDONYM.fullmatch(v))
        if left:
            raise KeyFileError(
                f"cannot name {', '.join(left[:5])}{' …' if len(left) > 5 else ''}: this machine's keys "
                f"file ({key_path(project)}) does not hold them; import it with 'annotate key import FILE'"
            )
    if keys.annotators != known:
        keys.save()
