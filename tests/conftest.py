"""Shared fixtures: the real data in ../shared/data, a real HTTP server on 127.0.0.1, and the deployment's
servers (PostgreSQL, Redis, an S3-compatible store: `tests/servers.py`), started once per session and
skipped with the reason when their binaries or libraries are not installed."""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servers import PgCluster, RedisServer, S3Server, postgres_missing

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEPLOY = REPO_ROOT / "deploy"


def shared_data_dir() -> Path:
    return Path(os.environ.get("LLMPRICES_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` (or $LLMPRICES_SHARED_DATA); tests that need it skip in a user's fresh clone."""
    path = shared_data_dir()
    if not (path / "openrouter-models").is_dir():
        pytest.skip(f"real payloads not found at {path} (set LLMPRICES_SHARED_DATA to ../shared/data)")
    return path


@dataclass
class Route:
    body: bytes | Callable[[], bytes]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: answer with `fail_status` this many times before serving the body (to test retries)
    failures_left: int = 0
    fail_status: int = 503


@dataclass
class LocalServer:
    """A real HTTP server on 127.0.0.1: register routes, read back what was requested."""

    base_url: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def add(self, path: str, body: bytes | str | Callable[[], bytes], **kwargs) -> str:
        self.routes[path] = Route(body.encode() if isinstance(body, str) else body, **kwargs)
        return f"{self.base_url}{path}"

    def add_file(self, path: str, file: Path, **kwargs) -> str:
        return self.add(path, file.read_bytes(), **kwargs)

    def paths_requested(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server_state: LocalServer | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            server_state.requests.append((self.path, dict(self.headers)))
            route = server_state.routes.get(self.path) or server_state.routes.get(self.path.split("?", 1)[0])
            if route is None:
                self._answer(404, b'{"error": "not found"}', {})
                return
            if route.failures_left > 0:
                route.failures_left -= 1
                self._answer(route.fail_status, b"busy", {"Retry-After": "0"})
                return
            body = route.body() if callable(route.body) else route.body
            self._answer(route.status, body, route.headers)

        def _answer(self, status: int, body: bytes, headers: dict[str, str]):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state = LocalServer(base_url=f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()


def _skip_without_modules(*names: str) -> None:
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (pip install -e '.[dev]')")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgCluster]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 for the session (each test takes a database of its own)."""
    _skip_without_modules("dagster_postgres")
    why = postgres_missing()
    if why:
        pytest.skip(why)
    with PgCluster() as cluster:
        yield cluster


@dataclass(frozen=True)
class PostgresHome:
    """A Dagster home whose instance is `deploy/dagster.yaml` on a database of its own, and the variables that
    file reads (set in this process too, where the test opens the instance)."""

    path: Path
    env: dict[str, str]
    database: str


@pytest.fixture
def postgres_home(postgres, tmp_path, monkeypatch) -> PostgresHome:
    database = postgres.create_database(f"t_{os.urandom(4).hex()}")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    env = {**postgres.env(database), "DAGSTER_HOME": str(home), "DAGSTER_COMPUTE_LOG_DIR": str(tmp_path / "logs")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return PostgresHome(home, env, database)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """An S3-compatible server (moto) on 127.0.0.1 with one bucket, for the session."""
    _skip_without_modules("moto", "flask", "flask_cors", "s3fs")
    with S3Server() as server:
        yield server


@pytest.fixture
def s3_env(s3_server, monkeypatch) -> S3Server:
    """The store's endpoint and credentials in the AWS_* variables, the only way the lake is told them."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """Debian's redis-server on 127.0.0.1, for the session."""
    _skip_without_modules("redis", "celery", "dagster_celery")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    with RedisServer() as server:
        yield server
