"""Shared fixtures: one real Label Studio per test session, on a free loopback port.

Tests that need the server take ``studio`` (the admin's session), ``make_project``
(a fresh config with a unique project name) or ``annotator_keys`` (real users).

Markers come from the fixtures a test uses, so nobody has to remember them: a test that
(even indirectly) uses ``label_studio`` is marked ``server``, one that uses ``browser`` is
marked ``browser`` and ``server``. ``make unit`` runs everything else (``-m "not server"``).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from annotate.config import ProjectConfig, load_config
from annotate.studio import server
from annotate.studio.client import Connection, Studio

ROOT = Path(__file__).resolve().parent.parent
STANCE_YAML = ROOT / "configs" / "stance.yaml"
_counter = itertools.count(1)
#: Fixtures that start a Label Studio (the session's, or one of a test module's own).
SERVER_FIXTURES = frozenset({"label_studio", "pg_server", "workers_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the real parts its fixtures start: ``server`` and ``browser``."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if "browser" in used:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.server)
        if used & SERVER_FIXTURES:
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.ServerInfo]:
    """A real Label Studio started with annotate's own server module, stopped at the end."""
    data_dir = tmp_path_factory.mktemp("label-studio")
    info = server.start_server(data_dir, port=server.free_port(), timeout=300)
    yield info
    server.stop_server(data_dir)


@pytest.fixture(scope="session")
def admin_login(label_studio: server.ServerInfo) -> server.Login:
    login = server.read_login(label_studio.data_dir)
    assert login is not None
    return login


@pytest.fixture
def studio(admin_login: server.Login) -> Iterator[Studio]:
    with Studio(Connection(admin_login.url, admin_login.token, str(admin_login.path))) as s:
        yield s


@pytest.fixture
def server_env(monkeypatch: pytest.MonkeyPatch, admin_login: server.Login) -> server.Login:
    """Point the CLI at the session's server through the SDK's environment variables."""
    monkeypatch.setenv("LABEL_STUDIO_URL", admin_login.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", admin_login.token)
    return admin_login


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the status cache and the projects' keys (blinding key, pseudonyms) of every test out of
    the user's folders."""
    monkeypatch.setenv("ANNOTATE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("ANNOTATE_KEY_DIR", str(tmp_path_factory.getbasetemp() / "keys"))


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., tuple[ProjectConfig, Path]]:
    """A copy of the sample config with a unique project name, written to tmp_path."""

    def make(**changes: object) -> tuple[ProjectConfig, Path]:
        base = load_config(STANCE_YAML).model_dump()
        base["name"] = f"test-{next(_counter)}-{secrets.token_hex(3)}"
        base.update(changes)
        path = tmp_path / f"{base['name']}.yaml"
        import yaml

        path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
        return load_config(path), path

    return make


@pytest.fixture(scope="session")
def annotator_keys(
    label_studio: server.ServerInfo, admin_login: server.Login
) -> Callable[[int], list[tuple[str, str]]]:
    """``make(n)`` -> n real annotator users as ``(email, api_key)``, created once per session."""
    made: list[tuple[str, str]] = []
    admin = Studio(Connection(admin_login.url, admin_login.token, "test"))

    def make(n: int) -> list[tuple[str, str]]:
        while len(made) < n:
            email = f"annotator{len(made) + 1}@example.org"
            made.append((email, admin.create_annotator(email, "Test-Password-123")))
        return made[:n]

    return make


ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    """Where tests save screenshots and other artefacts (``test-artifacts/`` at the repo root)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, headless; one per test session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run 'apt-get install -y chromium' (make test does)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
