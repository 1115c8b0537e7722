"""Annotators' privacy: the embedded Label Studio reports to nobody, and its pages make a browser
contact nothing but the server itself.

Label Studio, as installed, sends error reports to Heartex's Sentry project from the server and
from every page (``SENTRY_DSN`` and ``FRONTEND_SENTRY_DSN`` default to it in
``label_studio/core/settings/label_studio.py``; ``templates/base.html`` then loads
``browser.sentry-cdn.com``). ``annotate serve`` turns that off, with analytics and the version
check (``annotate.studio.server.label_studio_env``). Checked here three ways: the environment
itself, read with Label Studio's own ``get_env``; every request a real annotator's browser makes
while logging in, browsing and submitting an annotation; and the markup of the pages.

Also here: ``server.log`` has warnings and errors only, each once.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from annotate.studio import server
from annotate.studio.client import user_email
from annotate.studio.push import prepare, push

PASSWORD = "Test-Password-123"  # tests/conftest.py's annotator_keys
FIRST = "The two governments met in Geneva on Monday."
SECOND = "Industry observers generally believe the talks will resume."
#: Neutral on the three targets ("3", "7", "0") and Fact ("a"): the stance sample's hotkeys.
LABEL_KEYS = ("3", "7", "0", "a")
#: URL schemes that never reach a host.
LOCAL_SCHEMES = ("data", "blob", "about")


def _login(tmp_path: Path) -> server.Login:
    return server.Login(
        url="http://127.0.0.1:1",
        email="admin@annotate.localhost",
        password="pw-" + secrets.token_hex(8),
        token=secrets.token_hex(20),
        path=tmp_path / server.LOGIN_FILE,
    )


def _foreign(url: str, origin: str) -> bool:
    """True when fetching ``url`` (relative to a page of ``origin``) contacts a host other than the server."""
    url = url.strip()
    if urlsplit(url).scheme in LOCAL_SCHEMES:
        return False
    parts = urlsplit(urljoin(origin + "/", url))
    own = urlsplit(origin)
    return parts.netloc != own.netloc or parts.scheme not in (
        own.scheme,
        "ws" if own.scheme == "http" else "wss",
    )


# -- the environment Label Studio runs in (no server) ---------------------------------------


def test_label_studio_env_turns_off_sentry_analytics_and_version_check(tmp_path):
    hostile = {
        "PATH": "/usr/bin",
        "SENTRY_DSN": "https://key@o1.ingest.sentry.io/1",
        "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "https://key@o1.ingest.sentry.io/2",
        "HEARTEX_COLLECT_ANALYTICS": "true",
        "COLLECT_ANALYTICS": "1",
        "LABEL_STUDIO_LATEST_VERSION_CHECK": "true",
        "FEATURE_FLAGS_OFFLINE": "false",
        "LABEL_STUDIO_HOST": "https://elsewhere.example.org",
        "FRONTEND_HOSTNAME": "https://cdn.example.org",
        "LOG_LEVEL": "DEBUG",
        "LABEL_STUDIO_LOG_LEVEL": "INFO",
    }
    for base in ({}, hostile):
        env = server.label_studio_env(_login(tmp_path), tmp_path, base=base)
        assert env["SENTRY_DSN"] == "" and env["FRONTEND_SENTRY_DSN"] == ""
        assert env["COLLECT_ANALYTICS"] == "false" and env["LATEST_VERSION_CHECK"] == "false"
        assert env["FEATURE_FLAGS_OFFLINE"] == "true" and env["LOG_LEVEL"] == "WARNING"
        # get_env prefers LABEL_STUDIO_X and HEARTEX_X to X: none of those may be left over
        for name in (*server.FIXED_SETTINGS, *server.UNSET_SETTINGS):
            assert "LABEL_STUDIO_" + name not in env and "HEARTEX_" + name not in env
        for name in server.UNSET_SETTINGS:
            assert name not in env
        assert env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path)
    assert env["PATH"] == "/usr/bin"  # the rest of the caller's environment is passed on


def test_label_studio_reads_the_env_as_turned_off(tmp_path, monkeypatch):
    """What Label Studio's settings make of that environment, read with its own ``get_env``."""
    params = pytest.importorskip("label_studio.core.utils.params")
    env = server.label_studio_env(
        _login(tmp_path),
        tmp_path,
        base={
            "LABEL_STUDIO_SENTRY_DSN": "https://key@o1.ingest.sentry.io/1",
            "HEARTEX_COLLECT_ANALYTICS": "yes",
        },
    )
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    heartex = "https://key@o227124.ingest.sentry.io/5820521"  # stands for Label Studio's defaults
    # label_studio/core/settings/label_studio.py: SENTRY_DSN = get_env('SENTRY_DSN', <Heartex's DSN>)
    assert params.get_env("SENTRY_DSN", heartex) == ""
    assert params.get_env("FRONTEND_SENTRY_DSN", heartex) == ""
    # core/settings/base.py
    assert params.get_bool_env("COLLECT_ANALYTICS", True) is False
    assert params.get_bool_env("LATEST_VERSION_CHECK", True) is False
    assert params.get_bool_env("FEATURE_FLAGS_OFFLINE", False) is True
    assert params.get_env("HOST", "") == "" and params.get_env("FRONTEND_HOSTNAME", "") == ""
    assert params.get_env("LOG_LEVEL", "DEBUG") == "WARNING" == os.environ["LOG_LEVEL"]


# -- server.log ---------------------------------------------------------------------------

#: One log record as Label Studio's "standard" formatter writes it.
RECORD = re.compile(r"^\[(\d{4}-\d\d-\d\d [\d:,]+)\] \[([^\]]+)\] \[([A-Z]+)\] (.*)$")


def log_problems(text: str) -> list[str]:
    """Records below WARNING, and records written more than once (same time, place and message)."""
    problems = []
    records: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith("=> "):  # Label Studio's INFO lines, logged before its format applies
            problems.append(f"INFO line: {line}")
        found = RECORD.match(line)
        if found is None:
            continue  # banner, warnings module, traceback lines
        if found.group(3) in ("DEBUG", "INFO"):
            problems.append(f"{found.group(3)} record: {line}")
        records[line] += 1
    problems += [f"written {n} times: {line}" for line, n in records.items() if n > 1]
    return problems


#: server.log as it was before annotate's fix (an excerpt), to show that the check catches it.
BEFORE_FIX = """\
=> Database and media directory: /tmp/lsprobe
=> Static URL is set to: /static/
=> Database and media directory: /tmp/lsprobe
=> Static URL is set to: /static/
Starting development server at http://127.0.0.1:8097/
[2026-12-02 04:39:45,440] [django.server::log_message::213] [INFO] "GET /health HTTP/1.1" 200 16
[2026-12-02 04:39:45,440] [django.server::log_message::213] [INFO] "GET /health HTTP/1.1" 200 16
[2026-12-02 04:39:47,421] [django.request::log_response::293] [WARNING] Not Found: /nonexistent/
[2026-12-02 04:39:47,421] [django.request::log_response::293] [WARNING] Not Found: /nonexistent/
"""


def test_log_check_catches_the_log_before_the_fix():
    problems = log_problems(BEFORE_FIX)
    assert sum(p.startswith("INFO") for p in problems) == 6
    assert sum(p.startswith("written 2 times") for p in problems) == 2
    health = (
        '[2026-12-02 04:39:45,440] [django.server::log_message::213] [WARNING] "GET /health HTTP/1.1" 200 16'
    )
    missing = (
        "[2026-12-02 04:39:47,421] [django.request::log_response::293] [WARNING] Not Found: /nonexistent/"
    )
    after_banner = BEFORE_FIX.replace("[INFO]", "[WARNING]").split("Starting")[1]
    assert log_problems(after_banner) == [f"written 2 times: {health}", f"written 2 times: {missing}"]


def test_server_log_has_each_record_once_and_nothing_below_warning(label_studio):
    current = server.running(label_studio.data_dir) or label_studio  # fault tests may restart it
    marker = f"annotate-log-check-{secrets.token_hex(4)}"
    with httpx.Client(base_url=current.url, timeout=30) as web:
        assert web.get("/health").status_code == 200  # an INFO line (access log) before the fix
        assert web.get(f"/{marker}").status_code == 404  # a WARNING: must be there, once
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = current.log_file.read_text(encoding="utf-8", errors="replace")
        if marker in text:
            break
        time.sleep(0.2)
    mine = [line for line in text.splitlines() if marker in line]
    assert mine, f"the 404 of /{marker} was not logged in {current.log_file}"
    assert all(RECORD.match(line) and "[WARNING]" in line for line in mine), mine
    problems = log_problems(text)
    assert not problems, "\n".join(problems[:20])


# -- pages: no Sentry -----------------------------------------------------------------------


def _web_login(web: httpx.Client, email: str, password: str) -> None:
    web.get("/user/login/")
    resp = web.post(
        "/user/login/",
        data={
            "email": email,
            "password": password,
            "csrfmiddlewaretoken": web.cookies.get("csrftoken") or "",
        },
        headers={"Referer": str(web.base_url) + "/user/login/"},
    )
    assert resp.status_code == 302, resp.status_code


def test_pages_carry_no_sentry(label_studio, admin_login):
    """``templates/base.html`` adds Sentry's <script> and DSN only when FRONTEND_SENTRY_DSN is set."""
    with httpx.Client(base_url=label_studio.url, timeout=30, follow_redirects=False) as web:
        login_page = web.get("/user/login/").text
        assert "sentry" not in login_page.lower()
        _web_login(web, admin_login.email, admin_login.password)
        page = web.get("/projects/")
        assert page.status_code == 200 and "APP_SETTINGS" in page.text
    html = page.text
    assert "sentry_dsn: null" in html  # so the app does not start Sentry either
    # what is left once APP_SETTINGS's own key names are taken out: nothing about Sentry
    rest = re.sub(r"\bsentry_(dsn|rate|environment)\b", "", html).lower()
    assert "sentry" not in rest, re.findall(r".{0,60}sentry.{0,60}", rest)


# -- a real annotator's browser ------------------------------------------------------------


def _project(tmp_path: Path, make_project, studio) -> int:
    config, cfg_path = make_project(overlap=1)
    article = tmp_path / "geneva.txt"
    article.write_text(f"{FIRST} {SECOND}\n", encoding="utf-8")
    push(prepare([article], config, cfg_path), config, studio)
    project = studio.find_project(config.name, detail=False)
    assert project is not None
    return int(project["id"])


def _log_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u, timeout=60_000)
    page.wait_for_load_state("networkidle")


def test_annotator_browser_contacts_only_the_server(tmp_path, make_project, studio, annotator_keys, browser):
    pid = _project(tmp_path, make_project, studio)
    email = annotator_keys(1)[0][0]
    origin = studio.url.rstrip("/")

    requests: list[tuple[str, str, str]] = []  # every request of the context (all pages, workers)
    page_requests: list[str] = []
    sockets: list[str] = []
    failed: list[tuple[str, str]] = []
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.on("request", lambda r: requests.append((r.method, r.url, r.resource_type)))
    context.on("requestfailed", lambda r: failed.append((r.url, str(r.failure))))
    page = context.new_page()
    page.on("request", lambda r: page_requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append((r.url, str(r.failure))))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        _log_in(page, origin, email)

        page.goto(f"{origin}/projects/")
        page.wait_for_load_state("networkidle")
        assert "/user/login" not in page.url

        page.goto(f"{origin}/projects/{pid}/data")
        page.get_by_text(FIRST).first.wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")

        page.goto(f"{origin}/projects/{pid}/data?labeling=1")
        modal = page.get_by_text("Labeling Instructions")
        modal.wait_for(timeout=60_000)  # the guidelines open before the first task
        page.keyboard.press("Escape")
        modal.wait_for(state="hidden")
        page.get_by_text("Sentence 1 of 2").wait_for(timeout=60_000)
        for key in LABEL_KEYS:
            page.keyboard.press(key)
            time.sleep(0.15)
        page.wait_for_function(
            "n => document.querySelectorAll('label.ant-radio-wrapper-checked').length === n", arg=4
        )
        with page.expect_response(
            lambda r: (
                r.request.method == "POST" and re.search(r"/api/tasks/\d+/annotations", r.url) is not None
            ),
            timeout=60_000,
        ) as submitted:
            page.keyboard.press("Control+Enter")
        assert submitted.value.status in (200, 201)
        page.get_by_text("Sentence 2 of 2").wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")
        time.sleep(2)  # anything sent late (timers, beacons) is recorded too
    finally:
        context.close()

    # the annotation really is on the server, by this annotator
    users = studio.users()
    found = re.search(r"/api/tasks/(\d+)/annotations", submitted.value.url)
    assert found is not None
    task_id = int(found.group(1))
    annotations = studio.get_json(f"api/tasks/{task_id}/annotations/")
    assert [user_email(a["completed_by"], users) for a in annotations] == [email]

    urls = [url for _, url, _ in requests] + page_requests + sockets + [url for url, _ in failed]
    origins = Counter(f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in urls)
    kinds = Counter(kind for _, _, kind in requests)
    api = sum("/api/" in url for _, url, _ in requests)
    print(
        f"\n{len(requests)} requests ({len(page_requests)} seen by the page, {api} to /api/; {dict(kinds)}), "
        f"{len(sockets)} websockets, {len(failed)} failed; origins of all: {dict(origins)}"
    )
    assert len(requests) > 20, requests
    assert api >= 5, requests
    assert any(method == "POST" and "/annotations" in url for method, url, _ in requests)
    offending = sorted({url for url in urls if _foreign(url, origin)})
    assert not offending, "requests to hosts other than the server:\n" + "\n".join(offending)


class PageRefs(HTMLParser):
    """The URLs a page's markup makes a browser fetch (``fetched``: scripts, stylesheets, fonts,
    images, frames, every ``<link>``, CSS ``url()``/``@import``) and its plain links (``links``:
    ``<a href>``, which are only followed when clicked)."""

    FETCHING = {"src", "href", "srcset", "imagesrcset", "poster", "data", "action", "formaction",
                "background", "ping", "manifest", "xlink:href"}  # fmt: skip
    CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fetched: list[tuple[str, str]] = []  # (tag or "css", url)
        self.links: list[str] = []
        self._style = False

    def _css(self, text: str) -> None:
        self.fetched += [("css", a or b) for a, b in self.CSS_URL.findall(text)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self._css(value)
            elif name in self.FETCHING:
                if tag in ("a", "area") and name == "href":
                    self.links.append(value)
                elif name in ("srcset", "imagesrcset"):
                    self.fetched += [(tag, part.split()[0]) for part in value.split(",") if part.strip()]
                else:
                    self.fetched.append((tag, value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._style = False

    def handle_data(self, data: str) -> None:
        if self._style:
            self._css(data)


def test_pages_load_nothing_from_elsewhere(tmp_path, make_project, studio, annotator_keys, browser):
    """The markup of each page an annotator sees, as sent and as rendered, fetches from the server only.

    Plain links (``<a href>``) are not requests and stay out of the check. Those to other hosts
    in these pages (Label Studio 1.23) are documentation links: https://labelstud.io/guide/api.html
    (account settings) and https://labelstud.io/guide/labeling; the app's menus, when opened,
    add more (labelstud.io, api.labelstud.io, docs.humansignal.com, GitHub, Slack).
    """
    pid = _project(tmp_path, make_project, studio)
    email = annotator_keys(1)[0][0]
    origin = studio.url.rstrip("/")
    responses: list = []  # every document response (frames too), read once the page has settled
    documents: list[tuple[str, str]] = []  # (url, HTML as sent)
    rendered: list[tuple[str, str]] = []  # (url, HTML as rendered)
    sent: list[str] = []  # the URLs of the four pages' documents

    def read_documents() -> None:
        from playwright.sync_api import Error

        while responses:
            response = responses.pop(0)
            if response.request.resource_type != "document" or response.status != 200:
                continue
            try:
                documents.append((response.url, response.text()))
            except Error:  # a document navigated away from (the redirects after the login): again
                documents.append((response.url, context.request.get(response.url).text()))

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on("response", lambda r: responses.append(r))
    try:
        _log_in(page, origin, email)
        read_documents()
        for path, ready in (
            ("/projects/", None),
            (f"/projects/{pid}/data", FIRST),
            (f"/projects/{pid}/data?labeling=1", "Labeling Instructions"),
            ("/user/account", None),
        ):
            response = page.goto(origin + path)
            assert response is not None and response.status == 200, path
            sent.append(response.url)
            if ready:
                page.get_by_text(ready).first.wait_for(timeout=60_000)
            page.wait_for_load_state("networkidle")
            assert "/user/login" not in page.url, path
            rendered.append((page.url, page.content()))
            read_documents()
    finally:
        context.close()

    assert set(sent) <= {url for url, _ in documents}  # the four pages as sent, the login's too
    print(f"\ndocuments read as sent: {[url for url, _ in documents]}")
    offending: list[str] = []
    links: set[str] = set()
    for where, html in [*documents, *rendered]:
        refs = PageRefs()
        refs.feed(html)
        assert refs.fetched, where  # the parser found the page's scripts and stylesheets
        offending += [f"{where}: <{tag}> {url}" for tag, url in refs.fetched if _foreign(url, origin)]
        links.update(url for url in refs.links if _foreign(url, origin))
    print(f"\nplain links to other hosts (not requests): {sorted(links)}")
    assert not offending, "markup fetching from other hosts:\n" + "\n".join(sorted(set(offending)))
