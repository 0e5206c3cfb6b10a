"""Shared fixtures: the real data in ../shared/data, a real HTTP server on 127.0.0.1, and the deployment's
servers (PostgreSQL, Redis, an S3-compatible store: `tests/servers.py`), started once per session and
skipped with the reason when their binaries or libraries are not installed."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
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


@dataclass
class SocketServer:
    """A raw TCP server on 127.0.0.1 that answers as `handle(conn)` says: for the servers `http.server` cannot
    play (one that trickles a byte at a time, one that accepts and never answers)."""

    base_url: str
    host_port: str
    connections: int = 0


@pytest.fixture
def socket_server() -> Iterator[Callable[[Callable], SocketServer]]:
    import socket

    listeners, stop = [], threading.Event()

    def start(handle: Callable) -> SocketServer:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.2)
        listeners.append(listener)
        port = listener.getsockname()[1]
        state = SocketServer(base_url=f"http://127.0.0.1:{port}", host_port=f"127.0.0.1:{port}")

        def serve_one(conn) -> None:
            with conn:
                try:
                    conn.recv(65536)  # the request
                    handle(conn)
                except OSError:
                    pass  # the client gave up: what these servers are for

        def accept_loop() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                state.connections += 1
                threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

        threading.Thread(target=accept_loop, daemon=True).start()
        return state

    try:
        yield start
    finally:
        stop.set()
        for listener in listeners:
            listener.close()


def hang(conn) -> None:
    """Accept the request and never answer (until the test ends)."""
    conn.settimeout(120)
    with contextlib.suppress(OSError):
        conn.recv(1)


def trickle(conn, every_s: float = 0.2, length: int = 10_000) -> None:
    """Answer 200 with a body of `length` bytes, one byte every `every_s` seconds."""
    import time

    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nContent-Type: application/json\r\n\r\n".encode())
    for _ in range(length):
        conn.sendall(b" ")
        time.sleep(every_s)


HUB_FIXTURES = FIXTURES / "hub"


@pytest.fixture
def hub_server(http_server: LocalServer) -> LocalServer:
    """The local server answering like the Hugging Face Hub from `fixtures/hub/` (provenance in its README):
    model info at `/api/models/{repo}`, files at `/{repo}/resolve/main/config.json`; other repos are 404s."""
    for info in (HUB_FIXTURES / "api" / "models").glob("*/*.json"):
        repo = f"{info.parent.name}/{info.stem}"
        http_server.add_file(f"/api/models/{repo}", info)
        config = HUB_FIXTURES / "files" / repo / "config.json"
        if config.is_file():
            http_server.add_file(f"/{repo}/resolve/main/config.json", config)
    return http_server


@dataclass(frozen=True)
class DemoLake:
    """A lake `llmprices demo` built (every asset over the shipped captures), with its home and what it printed."""

    path: Path
    home: Path
    stdout: str


@pytest.fixture(scope="session")
def demo_lake(demo_ui) -> DemoLake:
    """The lake `llmprices demo` built beside `llmprices ui` (once for the session, as the README says to run
    them): read it, never write to it."""
    assert demo_ui.demo.returncode == 0, demo_ui.demo.stdout + demo_ui.demo.stderr
    return DemoLake(demo_ui.lake, demo_ui.home, demo_ui.demo.stdout)


# -- the Dagster UI over the demo lake, as a user opens it ----------------------------------------------------
#: Screenshots and logs of the UI tests (git-ignored); $LLMPRICES_TEST_ARTIFACTS moves them.
ARTIFACTS = Path(os.environ.get("LLMPRICES_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts"))


def cli_env() -> dict[str, str]:
    """The environment of a user's shell that sets neither a Dagster home nor a lake."""
    return {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PRICE_LAKE_URI")}


@dataclass
class DemoUI:
    """`llmprices ui --lake demo-lake` running in `folder`, and what `llmprices demo` printed, run beside it."""

    folder: Path
    lake: Path
    home: Path
    server: object  # pipeline.webserver.Webserver: its url and GraphQL
    demo: subprocess.CompletedProcess


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def demo_ui(tmp_path_factory, artifacts) -> Iterator[DemoUI]:
    """The README's way in, once for the session: `llmprices ui --lake demo-lake` (dagster dev on the lake's own
    home, on 127.0.0.1), then `llmprices demo` in another shell, which launches its runs through that UI."""
    from pipeline.webserver import Webserver, free_port

    folder = tmp_path_factory.mktemp("demo-ui")
    port = free_port()
    with open(artifacts / "llmprices-ui.log", "wb") as log:
        ui = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "ui", "--lake", "demo-lake", "--port", str(port)],
            cwd=folder, env=cli_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not list(folder.glob(".dagster_home/demo-lake-*/llmprices-ui.json")):
            assert ui.poll() is None and time.monotonic() < deadline, f"llmprices ui did not start: see {log.name}"
            time.sleep(0.2)
        [home] = [path.parent for path in folder.glob(".dagster_home/demo-lake-*/llmprices-ui.json")]
        server = Webserver(home, str(folder / "demo-lake"), port=port)
        server.wait_ready(timeout=600)
        demo = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "demo"], cwd=folder, env=cli_env(), capture_output=True, text=True,
            timeout=1800,
        )  # fmt: skip
        (artifacts / "llmprices-demo.txt").write_text(demo.stdout + demo.stderr)
        yield DemoUI(folder, folder / "demo-lake", home, server, demo)
    finally:
        stop_process_group(ui)


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM to a process started in a session of its own and everything it started; SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def chromium_path() -> str | None:
    """Debian's Chromium (or $CHROMIUM): the browser tests drive it through Playwright, without a download."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set CHROMIUM to its path)")
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')"
    )
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, request, artifacts):
    """A fresh page, 1600x1000; its screenshot is kept in the test artifacts whatever the outcome."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)  # the first queries of a page wait for the code location on a busy machine
    try:
        yield page
    finally:
        page.screenshot(path=str(artifacts / f"{request.node.name}.png"), full_page=True)
        context.close()
