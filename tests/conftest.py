"""Shared fixtures: the real data in ../shared/data, and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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


@dataclass(frozen=True)
class DemoLake:
    """A lake `llmprices demo` built (every asset over the shipped captures), with its home and what it printed."""

    path: Path
    home: Path
    stdout: str


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory) -> DemoLake:
    """`llmprices demo` run once for the session, as a user runs it: read it, never write to it."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PRICE_LAKE_URI")}
    env["DAGSTER_HOME"] = str(folder / "home")
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "demo", "--lake", str(folder / "demo-lake")],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return DemoLake(folder / "demo-lake", folder / "home", done.stdout)
