"""Blinding that holds against the API: what a blinded document's tasks carry on the server.

Label Studio Community has no roles: every member of the organisation can read every task,
its ``data`` and ``meta``, through the API or a project export. So the fields ``config.blind``
names (outlet, country, author, published, url) must not reach the server readable at all.

A document is *blinded* when ``config.blind`` names a field the article has a value for. Its
tasks then carry, instead of the plain values:

- ``data.doc_id`` and ``data.sentence_id``: keyed pseudonyms (``ProjectKeys.pseudonym``), since
  a file name such as ``xinhua-2026-03-01`` names the outlet as well as any field does;
- no ``url`` in ``data`` (a web address names its outlet), whatever ``blind`` says;
- ``meta.sealed``: the real ids and the hidden fields, encrypted with the project's blinding key
  (``annotate.keys``), and ``meta.key_id``, the key's public fingerprint.

``annotate push`` seals (``blind_task``); ``annotate pull`` unseals every task before it is
tidied (``unseal_tasks``), so the exports carry the real values. A pull on a machine without
the key (or with another one) leaves the pseudonyms and no blinded field in the exports, and
says so in one line; it never fails for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from annotate.errors import KeyFileError
from annotate.ingest.articles import Article
from annotate.keys import ProjectKeys, key_path

__all__ = ["AUTHOR_KEYS", "SEALED", "blind_task", "check_key", "is_blinded", "unseal_tasks"]

#: Article metadata keys that ``blind: [author]`` hides.
AUTHOR_KEYS = ("author", "authors", "byline")
SEALED = "sealed"
KEY_ID = "key_id"


def is_blinded(article: Article, blind: Sequence[str]) -> bool:
    """True when ``blind`` names a field ``article`` has a value for."""
    values = {
        "outlet": article.outlet,
        "country": article.country,
        "published": article.published,
        "url": article.url,
        "author": any(article.metadata.get(key) for key in AUTHOR_KEYS),
    }
    return any(values.get(name) for name in blind)


def blind_task(shown: dict[str, Any], hidden: dict[str, Any], keys: ProjectKeys) -> dict[str, Any]:
    """The task of a blinded document: pseudonymous ids and no url in ``data``; the real ids and
    the ``hidden`` fields sealed in ``meta``."""
    data = dict(shown)
    secret = dict(hidden)
    if data.get("url"):
        secret["url"] = data.pop("url")
    else:
        data.pop("url", None)
    secret["doc_id"] = str(data["doc_id"])
    secret["sentence_id"] = str(data["sentence_id"])
    data["doc_id"] = keys.pseudonym("doc", secret["doc_id"])
    data["sentence_id"] = keys.pseudonym("sentence", secret["sentence_id"])
    return {"data": data, "meta": {SEALED: keys.seal(secret), KEY_ID: keys.key_id}}


def check_key(tasks: Iterable[dict[str, Any]], keys: ProjectKeys | None, project: str) -> None:
    """KeyFileError when a task of the project was sealed with a key other than ``keys``: pushing
    with another key would import every blinded sentence a second time."""
    for task in tasks:
        found = (task.get("meta") or {}).get(KEY_ID)
        if found and (keys is None or found != keys.key_id):
            raise KeyFileError(
                f"project '{project}' holds sentences sealed with a blinding key this machine "
                f"{'does not have' if keys is None else 'does not share'} ({key_path(project)}): "
                "run 'annotate key import FILE' with the file 'annotate key export' wrote on the "
                "machine that pushed them"
            )


def unseal_tasks(tasks: list[dict[str, Any]], keys: ProjectKeys | None) -> int:
    """Put the real ids back in ``data`` and the hidden fields in ``meta`` of every sealed task,
    in place; return how many sealed tasks could not be opened (no key, or another key)."""
    closed = 0
    for task in tasks:
        meta = task.get("meta") or {}
        token = meta.get(SEALED)
        if not token:
            continue
        opened = keys.unseal(str(token)) if keys is not None else None
        rest = {k: v for k, v in meta.items() if k not in (SEALED, KEY_ID)}
        if opened is None:
            closed += 1
            task["meta"] = rest
            continue
        data = dict(task.get("data") or {})
        data["doc_id"] = opened.pop("doc_id", data.get("doc_id"))
        data["sentence_id"] = opened.pop("sentence_id", data.get("sentence_id"))
        task["data"] = data
        task["meta"] = {**rest, **opened}
    return closed
