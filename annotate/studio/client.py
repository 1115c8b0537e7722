"""The only module that talks to Label Studio (through label-studio-sdk's client).

Structured calls use the SDK's typed methods where they exist; bulk paths
(imports, exports, task pages) go through the SDK's own HTTP client as raw
JSON, which keeps its authentication and retry/backoff on 5xx and dropped
connections but skips building a pydantic model per task.
"""

from __future__ import annotations

import contextlib
import email.utils
import gc
import io
import json
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, BinaryIO

import httpx
from label_studio_sdk.base_client import LabelStudioBase as LabelStudio

from annotate.errors import ServerError
from annotate.studio import server

URL_ENV = "LABEL_STUDIO_URL"
KEY_ENV = "LABEL_STUDIO_API_KEY"
#: Marks a Label Studio project as ours; the config's ``name`` follows it in the description.
PROJECT_MARKER = "annotate project:"
#: The line of a project's description recording the latest push that changed its tasks.
PUSH_MARKER = "annotate push:"
#: Model versions of ``annotate learn``'s suggestions start with this (``annotate.model``); a push
#: leaves a project on such a version instead of switching it back to the cue rules' version.
LEARNED_MODEL_PREFIX = "annotate-tfidf-lr-"
PAGE_SIZE = 1000
#: Title of the export snapshots a full pull creates (and deletes after downloading).
SNAPSHOT_TITLE = "annotate pull"
#: Tasks parsed at a time from an export (``Studio.export_task_chunks``).
EXPORT_CHUNK = 2_000
#: A snapshot of ours this old was left by a pull that was killed: the next pull deletes it.
STALE_SNAPSHOT = timedelta(hours=6)


@dataclass(frozen=True)
class Connection:
    """Where the server is and how to authenticate. The key never appears in repr()."""

    url: str
    api_key: str = field(repr=False)
    source: str  # "environment" or the embedded server's login file


def resolve_connection(data_dir: Path | None = None) -> Connection:
    """``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``, else the embedded server's login file.

    Raises ServerError saying what to set or run when neither is available.
    """
    url = os.environ.get(URL_ENV, "").strip()
    key = os.environ.get(KEY_ENV, "").strip()
    if url:
        if not key:
            raise ServerError(
                f"{URL_ENV} is set to {url} but {KEY_ENV} is not: export the API key of that server"
            )
        return Connection(url.rstrip("/"), key, "environment")
    login = server.read_login(data_dir)
    if login is None:
        where = data_dir or server.default_data_dir()
        raise ServerError(
            f"no Label Studio configured: run 'annotate serve' (embedded server in {where}) "
            f"or set {URL_ENV} and {KEY_ENV}"
        )
    if key:
        return Connection(login.url, key, "environment")
    return Connection(login.url, login.token, str(login.path))


def parse_time(value: str | None) -> datetime | None:
    """Label Studio's ISO timestamps (``...Z``) as aware UTC datetimes."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


#: How far before the server's clock at the start of a read the next incremental read (pull,
#: status) starts looking, so that a write committed while this one was reading is read next time.
WATERMARK_MARGIN = timedelta(seconds=2)


def format_filter_time(value: datetime) -> str:
    """The one timestamp format Label Studio's Data Manager filters accept (``...000Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class Studio:
    """A session with one Label Studio server."""

    def __init__(self, conn: Connection, timeout: float = 60.0, max_retries: int = 2) -> None:
        self.conn = conn
        self.url = conn.url
        self.max_retries = max_retries
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0), follow_redirects=True)
        self.client = LabelStudio(
            base_url=conn.url,
            api_key=conn.api_key,
            httpx_client=self._http,
            max_retries=max_retries,
        )
        self._last_date: datetime | None = None

    # -- transport ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        timeout: float | None = None,
        retries: int | None = None,
        ok: Sequence[int] = (200, 201, 204),
        bulk: bool = False,
        content: bytes | None = None,
    ) -> httpx.Response:
        """One API call through the SDK's HTTP client; errors become ServerError (one line).

        ``bulk``: send ``json_body`` encoded here in one pass, instead of through the SDK's
        per-object encoder (about 0.1 s per 2,000 tasks, while the server waits).
        ``content``: a JSON body already encoded (``encode_tasks``), sent as it is.
        """
        options: dict[str, Any] = {}
        headers: dict[str, str] | None = None
        if bulk:
            content = encode_tasks(json_body)
            json_body = None
        if content is not None:
            headers = {"Content-Type": "application/json"}
        if timeout is not None:
            options["timeout_in_seconds"] = timeout
        if retries is not None:
            options["max_retries"] = retries
        # The SDK retries refused connections and 5xx answers with backoff; a connection
        # dropped mid-answer is retried here, for reads only (a write might have landed).
        attempts = 1 + (self.max_retries if retries is None else retries) if method == "GET" else 1
        for attempt in range(attempts):
            try:
                resp = self.client._client_wrapper.httpx_client.request(
                    path.lstrip("/"),
                    method=method,
                    params=params,
                    json=json_body,
                    content=content,
                    headers=headers,
                    request_options=options or None,  # type: ignore[arg-type]
                )
                break
            except httpx.TimeoutException:
                raise ServerError(
                    f"Label Studio at {self.url} did not answer {method} /{path.lstrip('/')} in time"
                ) from None
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
                if attempt + 1 < attempts:
                    time.sleep(0.5 * 2**attempt)
                    continue
                raise ServerError(
                    f"Label Studio at {self.url} dropped the connection ({type(exc).__name__})"
                ) from None
            except httpx.TransportError as exc:
                hint = (
                    "is it running?"
                    if self.conn.source == "environment"
                    else "start it with 'annotate serve'"
                )
                raise ServerError(
                    f"cannot reach Label Studio at {self.url} ({type(exc).__name__}); {hint}"
                ) from None
        date = resp.headers.get("date")
        if date:
            self._last_date = email.utils.parsedate_to_datetime(date).astimezone(UTC)
        if resp.status_code in ok:
            return resp
        if resp.status_code in (401, 403):
            raise ServerError(
                f"Label Studio at {self.url} refused the API key (HTTP {resp.status_code}); "
                f"check {KEY_ENV} or the login file ({self.conn.source})"
            )
        raise ServerError(
            f"Label Studio at {self.url} answered HTTP {resp.status_code} to {method} /{path.lstrip('/')}: "
            f"{_detail(resp)}"
        )

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Studio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- server ------------------------------------------------------------------------------

    def version(self) -> str:
        """Label Studio's release, e.g. ``1.23.2``; also checks the key is accepted."""
        self.whoami()
        data = self.get_json("api/version")
        return str(data.get("release") or data.get("label-studio-os-package", {}).get("version", "unknown"))

    def whoami(self) -> dict[str, Any]:
        return dict(self.get_json("api/current-user/whoami"))

    def server_time(self) -> datetime:
        """The server's clock (HTTP Date header, 1 s resolution) as of the latest call."""
        if self._last_date is None:
            self.request("GET", "health")
        assert self._last_date is not None
        return self._last_date

    def users(self) -> dict[int, str]:
        """User id -> e-mail for every member of the organisation."""
        data = self.get_json("api/users", params={"page_size": 10_000})
        rows = data["results"] if isinstance(data, dict) else data
        return {int(u["id"]): str(u.get("email") or u.get("username") or u["id"]) for u in rows}

    # -- projects ----------------------------------------------------------------------------

    def find_project(
        self, name: str, detail: bool = True, fields: Sequence[str] | None = None
    ) -> dict[str, Any] | None:
        """The project whose description carries ``annotate project: <name>``, or None.

        With ``detail``, its settings and counts: all of them, or only ``fields`` (Label Studio's
        ``include``; it then computes only the counts named, where every count of a project of
        100,000 tasks costs it about 0.9 s); without, only ``id``, ``title`` and ``description``
        (one request less, and no counting on the server)."""
        wanted = f"{PROJECT_MARKER} {name}"
        page = 1
        while True:
            data = self.get_json(
                "api/projects/",
                params={"page": page, "page_size": 100, "include": "id,title,description"},
            )
            for project in data.get("results", []):
                lines = (project.get("description") or "").splitlines()
                if wanted in (line.strip() for line in lines):
                    return self.project(int(project["id"]), fields) if detail else dict(project)
            if not data.get("next"):
                return None
            page += 1

    def project(self, project_id: int, fields: Sequence[str] | None = None) -> dict[str, Any]:
        """A project's settings and counts; only ``fields`` of them when given (see ``find_project``)."""
        params = {"include": ",".join(dict.fromkeys(["id", *fields]))} if fields is not None else None
        return dict(self.get_json(f"api/projects/{project_id}/", params=params))

    def create_project(self, name: str, fields: dict[str, Any], stamp: str | None = None) -> dict[str, Any]:
        """Create a project marked with ``name`` (and the push ``stamp``, if given); ``fields``
        are Label Studio project fields."""
        body = dict(fields)
        body["description"] = project_description(name, str(body.get("description", "")), stamp)
        return dict(self.request("POST", "api/projects/", json_body=body, retries=0).json())

    def update_project(
        self, project_id: int, name: str, fields: dict[str, Any], stamp: str | None = None
    ) -> dict[str, Any]:
        """Change project fields; the description keeps only the marker (and ``stamp``, if given)."""
        body = dict(fields)
        body["description"] = project_description(name, str(body.get("description", "")), stamp)
        return dict(self.request("PATCH", f"api/projects/{project_id}/", json_body=body).json())

    def validate_label_config(self, label_config: str) -> None:
        """Ask the server to parse a labeling config; ServerError with its reason if invalid."""
        self.request("POST", "api/projects/validate/", json_body={"label_config": label_config}, retries=0)

    # -- tasks -------------------------------------------------------------------------------

    def iter_task_pages(
        self,
        project_id: int,
        *,
        fields: str = "all",
        query: dict[str, Any] | None = None,
        page_size: int = PAGE_SIZE,
        include: str | None = None,
    ) -> Iterator[tuple[list[dict[str, Any]], int]]:
        """Pages of tasks (raw JSON) as ``(tasks, total)``; ``query`` is a Data Manager query,
        ``include`` a comma-separated list of the only task fields to send (sparse fieldsets)."""
        page = 1
        seen = 0
        while True:
            params: dict[str, Any] = {
                "project": project_id,
                "fields": fields,
                "page": page,
                "page_size": page_size,
                "resolve_uri": "false",  # task data holds no file URLs to sign
            }
            if include is not None:
                params["include"] = include
            if query is not None:
                params["query"] = json.dumps(query)
            resp = self.request("GET", "api/tasks/", params=params, ok=(200, 404), timeout=300)
            if resp.status_code == 404:  # past the last page
                return
            data = resp.json()
            tasks = data.get("tasks", [])
            total = int(data.get("total", 0))
            if not tasks:
                return
            seen += len(tasks)
            yield tasks, total
            if seen >= total:
                return
            page += 1

    def sentence_task_ids(self, project_id: int) -> dict[str, int]:
        """``sentence_id`` -> task id for every task of the project that carries one."""
        found: dict[str, int] = {}
        for tasks, _ in self.iter_task_pages(project_id, fields="task_only"):
            for task in tasks:
                sid = (task.get("data") or {}).get("sentence_id")
                if sid is not None:
                    found.setdefault(str(sid), int(task["id"]))
        return found

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
        """Import tasks (``[{"data": {...}}, ...]``) in one request; returns the new task ids.

        Not retried: a retry after a lost response could import the batch twice.
        """
        return self.import_encoded(project_id, encode_tasks(tasks))

    def import_encoded(self, project_id: int, body: bytes) -> list[int]:
        """``import_tasks`` with the tasks already encoded by ``encode_tasks`` (so the encoding
        can be done while the previous request is in flight)."""
        resp = self.request(
            "POST",
            f"api/projects/{project_id}/import",
            params={"return_task_ids": "true"},
            content=body,
            timeout=600,
            retries=0,
        )
        data = resp.json()
        return [int(t) for t in data.get("task_ids", [])]

    def export_tasks(self, project_id: int, poll: float = 0.5, wait: float = 3600.0) -> list[dict[str, Any]]:
        """Every task with its annotations (all of them: submitted, skipped and ground truth),
        as one list: ``export_task_chunks`` joined."""
        return [task for chunk in self.export_task_chunks(project_id, poll=poll, wait=wait) for task in chunk]

    def export_task_chunks(
        self, project_id: int, chunk: int = EXPORT_CHUNK, poll: float = 0.5, wait: float = 3600.0
    ) -> Iterator[list[dict[str, Any]]]:
        """Every task with its annotations, ``chunk`` tasks at a time, in the export's order.

        Uses Label Studio's export *snapshot* API: create a JSON snapshot (synchronous on a
        server without Redis, polled until completed on one with background workers), download
        it to a temporary file and delete it from the server's disk, then parse the file as it
        is read (``iter_json_array``): only one chunk of parsed tasks is in memory at a time,
        however large the project (a 100,000-task export parsed whole took 3 GB). Annotators
        and drafts come as user/draft ids. A server without the snapshot API gets the
        one-request project export instead. Snapshots of earlier pulls that were killed before
        deleting theirs (older than ``STALE_SNAPSHOT``) are deleted first.
        """
        self._delete_stale_snapshots(project_id)
        created = self.request(
            "POST",
            f"api/projects/{project_id}/exports/",
            json_body={
                "title": SNAPSHOT_TITLE,
                "annotation_filter_options": {"usual": True, "ground_truth": True, "skipped": True},
                "serialization_options": {
                    "drafts": {"only_id": True},
                    "predictions": {"only_id": True},
                    "annotations__completed_by": {"only_id": True},
                },
            },
            timeout=wait,
            retries=0,
            ok=(200, 201, 404, 405),
        )
        if created.status_code in (404, 405):
            tasks = self._export_in_one_request(project_id)
            for start in range(0, len(tasks), chunk):
                yield tasks[start : start + chunk]
            return
        snapshot = created.json()
        export_id = int(snapshot["id"])
        detail = f"api/projects/{project_id}/exports/{export_id}"
        with tempfile.TemporaryFile() as file:
            try:
                deadline = time.monotonic() + wait
                while snapshot.get("status") not in ("completed", "failed"):
                    if time.monotonic() > deadline:
                        raise ServerError(
                            f"Label Studio at {self.url} did not finish exporting project {project_id}"
                        )
                    time.sleep(poll)
                    snapshot = self.get_json(detail)
                if snapshot.get("status") == "failed":
                    raise ServerError(
                        f"Label Studio at {self.url} failed to export project {project_id} (see its log)"
                    )
                self._download(f"{detail}/download", {"exportType": "JSON"}, file, wait)
            finally:
                # the snapshot is a full copy of the project on the server's disk
                with contextlib.suppress(ServerError):
                    self.request("DELETE", detail, retries=0, ok=(200, 204, 404))
            file.seek(0)
            text = io.TextIOWrapper(file, encoding="utf-8")
            batch: list[dict[str, Any]] = []
            with paused_gc():
                for task in iter_json_array(text):
                    batch.append(task)
                    if len(batch) >= chunk:
                        yield batch
                        batch = []
            if batch:
                yield batch

    def _download(self, path: str, params: dict[str, Any], file: BinaryIO, timeout: float) -> None:
        """GET ``path`` into ``file``, streamed (the body is never held in memory whole)."""
        url = f"{self.url.rstrip('/')}/{path.lstrip('/')}"
        headers = self.client._client_wrapper.get_headers()
        try:
            with self._http.stream("GET", url, params=params, headers=headers, timeout=timeout) as resp:
                if resp.status_code != 200:
                    resp.read()
                    raise ServerError(
                        f"Label Studio at {self.url} answered HTTP {resp.status_code} to GET /{path}: "
                        f"{_detail(resp)}"
                    )
                for block in resp.iter_bytes(1 << 20):
                    file.write(block)
        except httpx.TransportError as exc:
            raise ServerError(
                f"Label Studio at {self.url} dropped the connection while sending the export "
                f"({type(exc).__name__})"
            ) from None

    def _delete_stale_snapshots(self, project_id: int, older_than: timedelta = STALE_SNAPSHOT) -> int:
        """Delete this tool's export snapshots of the project created before ``older_than`` ago
        (a younger one may be another pull's, still downloading). Returns how many."""
        resp = self.request("GET", f"api/projects/{project_id}/exports/", ok=(200, 404, 405))
        if resp.status_code != 200:
            return 0
        now = self.server_time() + timedelta(seconds=1)  # the Date header drops the fraction
        deleted = 0
        for snapshot in resp.json() or []:
            created = parse_time(snapshot.get("created_at"))
            if snapshot.get("title") != SNAPSHOT_TITLE or created is None or now - created < older_than:
                continue
            with contextlib.suppress(ServerError):
                self.request("DELETE", f"api/projects/{project_id}/exports/{int(snapshot['id'])}", retries=0)
                deleted += 1
        return deleted

    def _export_in_one_request(self, project_id: int) -> list[dict[str, Any]]:
        resp = self.request(
            "GET",
            f"api/projects/{project_id}/export",
            params={"exportType": "JSON", "download_all_tasks": "true"},
            timeout=1800,
        )
        return list(resp.json())

    def changed_tasks(self, project_id: int, since: datetime) -> Iterator[tuple[list[dict[str, Any]], int]]:
        """Pages of tasks whose ``updated_at`` is later than ``since`` (with annotations)."""
        query = {
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:updated_at",
                        "operator": "greater",
                        "type": "Datetime",
                        "value": format_filter_time(since),
                    }
                ],
            },
            "ordering": ["tasks:id"],
        }
        return self.iter_task_pages(project_id, fields="all", query=query)

    def set_task_overlap(self, task_id: int, overlap: int) -> None:
        """How many annotators a single task should get (Label Studio ignores it on import)."""
        self.request("PATCH", f"api/tasks/{task_id}/", json_body={"overlap": overlap})

    def task_records(self, project_id: int, ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """Tasks without annotations: ``id``, ``data``, ``meta``, ``overlap``, ``is_labeled``,
        ``total_annotations`` (submitted, not skipped), ``cancelled_annotations``. Every task of
        the project, or only those with these ``ids`` (fetched 500 at a time)."""
        keep = ("id", "data", "meta", "overlap", "is_labeled", "total_annotations", "cancelled_annotations")
        include = ",".join(keep)
        if ids is None:
            queries: list[dict[str, Any] | None] = [None]
        else:
            wanted = sorted(set(ids))
            queries = [
                {"selectedItems": {"all": False, "included": wanted[i : i + 500]}, "ordering": ["tasks:id"]}
                for i in range(0, len(wanted), 500)
            ]
        return [
            {key: task.get(key) for key in keep}
            for query in queries
            for tasks, _ in self.iter_task_pages(project_id, fields="task_only", query=query, include=include)
            for task in tasks
        ]

    def last_task_id(self, project_id: int) -> int:
        """The highest task id in the project (0 when it has none)."""
        query = {"ordering": ["-tasks:id"]}
        for tasks, _ in self.iter_task_pages(
            project_id, fields="task_only", query=query, page_size=1, include="id"
        ):
            return int(tasks[0]["id"]) if tasks else 0
        return 0

    def update_task(self, task_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Change a task's ``data``, ``meta``, ``overlap`` or ``is_labeled`` (annotations stay)."""
        return dict(self.request("PATCH", f"api/tasks/{task_id}/", json_body=fields).json())

    def import_predictions(self, project_id: int, predictions: list[dict[str, Any]]) -> int:
        """Add predictions (``{"task": id, "result": [...], "model_version": ..., "score": ...}``)
        to existing tasks in one request; returns how many were created. Not retried."""
        path = f"api/projects/{project_id}/import/predictions"
        resp = self.request("POST", path, json_body=predictions, timeout=600, retries=0, bulk=True)
        return int(resp.json().get("created", len(predictions)))

    def delete_predictions(self, project_id: int, task_ids: Sequence[int]) -> None:
        """Delete every prediction of these tasks (the Data Manager's "Delete Predictions" action)."""
        if not task_ids:
            return
        self.request(
            "POST",
            "api/dm/actions",
            params={"id": "delete_tasks_predictions", "project": project_id},
            json_body={"project": project_id, "selectedItems": {"all": False, "included": list(task_ids)}},
            timeout=600,
        )

    def task_count(self, project_id: int) -> int:
        data = self.get_json(f"api/projects/{project_id}/", params={"include": "task_number"})
        return int(data.get("task_number") or 0)

    # -- annotators (used by the demo and the tests) -----------------------------------------

    def invite_token(self) -> str:
        return str(self.get_json("api/invite")["token"])

    def create_annotator(self, email_address: str, password: str) -> str:
        """Sign up a user through the organisation's invite link; returns the user's API key.

        If the user exists already, logs in with ``password`` instead.
        """
        invite = self.invite_token()
        with httpx.Client(base_url=self.url, timeout=30.0, follow_redirects=False) as web:
            web.get(f"/user/signup/?token={invite}")
            resp = web.post(
                f"/user/signup/?token={invite}",
                data={
                    "email": email_address,
                    "password": password,
                    "csrfmiddlewaretoken": web.cookies.get("csrftoken") or "",
                },
                headers={"Referer": self.url + "/user/signup/"},
            )
            if resp.status_code != 302:
                web.cookies.clear()
                web.get("/user/login/")
                resp = web.post(
                    "/user/login/",
                    data={
                        "email": email_address,
                        "password": password,
                        "csrfmiddlewaretoken": web.cookies.get("csrftoken") or "",
                    },
                    headers={"Referer": self.url + "/user/login/"},
                )
                if resp.status_code != 302:
                    raise ServerError(f"could not sign up or log in {email_address} at {self.url}")
            token = web.get("/api/current-user/token")
            if token.status_code != 200:
                raise ServerError(
                    f"Label Studio did not give {email_address} an API key (HTTP {token.status_code})"
                )
            return str(token.json()["token"])

    def create_annotation(
        self,
        task_id: int,
        result: list[dict[str, Any]],
        *,
        lead_time: float | None = None,
        was_cancelled: bool = False,
    ) -> dict[str, Any]:
        """Submit an annotation on ``task_id`` as the user this connection authenticates."""
        body: dict[str, Any] = {"result": result, "was_cancelled": was_cancelled}
        if lead_time is not None:
            body["lead_time"] = lead_time
        return dict(
            self.request("POST", f"api/tasks/{task_id}/annotations/", json_body=body, retries=0).json()
        )

    def update_annotation(self, annotation_id: int, result: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(
            self.request("PATCH", f"api/annotations/{annotation_id}/", json_body={"result": result}).json()
        )

    def delete_annotation(self, annotation_id: int) -> None:
        self.request("DELETE", f"api/annotations/{annotation_id}/")


def iter_json_array(text: IO[str], block: int = 1 << 22) -> Iterator[Any]:
    """The elements of the JSON array in ``text``, one at a time, reading ``block`` characters
    at a time: memory holds one block and one element, not the whole document.
    ``json.JSONDecodeError`` (a ``ValueError``) when the text is not one JSON array."""
    decoder = json.JSONDecoder()
    buffer, pos, done = text.read(block), 0, False

    def skip(chars: str) -> None:
        nonlocal buffer, pos, done
        while True:
            while pos < len(buffer) and buffer[pos] in chars:
                pos += 1
            if pos < len(buffer) or done:
                return
            buffer, pos = text.read(block), 0
            done = not buffer

    skip(" \t\r\n")
    if pos >= len(buffer) or buffer[pos] != "[":
        raise json.JSONDecodeError("expected a JSON array", buffer, pos)
    pos += 1
    first = True
    while True:
        skip(" \t\r\n")
        if pos < len(buffer) and buffer[pos] == "]":
            return
        if not first:
            if pos >= len(buffer) or buffer[pos] != ",":
                raise json.JSONDecodeError("expected ',' or ']' in a JSON array", buffer, pos)
            pos += 1
            skip(" \t\r\n")
        while True:
            try:
                value, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError:
                if done:
                    raise
                complete = False
            else:  # a number cut by the block ends early ("0." of "0.5"): see what follows it
                complete = done or (end < len(buffer) and buffer[end] in " \t\r\n,]")
            if complete:
                break
            more = text.read(block)  # an element cut by the block: read on
            buffer, pos, done = buffer[pos:] + more, 0, not more
        yield value
        pos, first = end, False


def encode_tasks(body: Any) -> bytes:
    """A JSON request body as ``Studio.request(bulk=True)`` sends it (UTF-8, not ASCII-escaped)."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building many containers that stay alive
    (a parsed export, a tidy table): otherwise it rescans them again and again, which makes
    parsing a 20,000-task export about four times slower."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def user_email(value: Any, users: dict[int, str]) -> str:
    """An annotation's ``completed_by`` (a user id, or an object with ``email``) as an e-mail."""
    if isinstance(value, dict):
        if value.get("email"):
            return str(value["email"])
        value = value.get("id")
    if value is None:
        return "unknown"
    return users.get(int(value), f"user-{value}")


def project_description(name: str, description: str = "", stamp: str | None = None) -> str:
    """The project's description with the marker line that identifies it as ``name`` and, when
    given, the line recording the latest push (``stamp``)."""
    ours = (PROJECT_MARKER, PUSH_MARKER)
    lines = [line for line in description.splitlines() if not line.strip().startswith(ours)]
    text = "\n".join(lines).strip()
    marker = f"{PROJECT_MARKER} {name}"
    if stamp:
        marker += f"\n{PUSH_MARKER} {stamp}"
    return f"{text}\n\n{marker}" if text else marker


def push_stamp(project: dict[str, Any]) -> str:
    """The stamp of the latest push recorded in the project's description ("" when none)."""
    for line in str(project.get("description") or "").splitlines():
        if line.strip().startswith(PUSH_MARKER):
            return line.strip()[len(PUSH_MARKER) :].strip()
    return ""


def _detail(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.text.strip().splitlines()[0][:200] if resp.text.strip() else resp.reason_phrase
    if isinstance(data, dict):
        errors = data.get("validation_errors") or data.get("detail") or data
        return json.dumps(errors, ensure_ascii=False)[:300]
    return json.dumps(data, ensure_ascii=False)[:300]
