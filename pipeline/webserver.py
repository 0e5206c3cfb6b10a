"""The Dagster webserver of a lake's home, and launching runs through it.

Runs launched through the webserver (GraphQL `launchRun`) are runs of the code location's jobs: the UI shows them
on the job's page, the jobs list and the Overview timeline. Runs executed in a Python process
(`execute_in_process`) carry no code location and show only in the Runs list.

Public surfaces only: the `dagster-webserver` / `dagster dev` command lines and the webserver's GraphQL API (the
mutation `dagster_graphql.DagsterGraphQLClient` sends, plus `assetCheckSelection`, which its
`submit_job_execution` does not expose: without it a run executes every check of its assets).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.homes import LOCATION, workspace_file

#: The repository name Dagster gives a `Definitions` object.
REPOSITORY = "__repository__"
#: Where `llmprices ui` records the UI it started for a home, so the CLI launches its runs there.
UI_RECORD = "llmprices-ui.json"
#: The log of the webserver the CLI starts (replaced by each command that starts one).
WEBSERVER_LOG = "webserver.log"


class WebserverError(RuntimeError):
    """The webserver did not start, or refused a run."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Webserver:
    """`dagster-webserver` (or `dagster dev`, with the daemon) over a lake's home, on 127.0.0.1.

    It runs in a process group of its own, so that stopping it stops its code server and runs too, with SIGINT
    at its default: a command started in the background (`cmd &`) inherits an ignored SIGINT, and Dagster then
    ignores SIGTERM as well.
    """

    def __init__(self, home: Path, lake: str, *, port: int | None = None, host: str = "127.0.0.1", dev: bool = False):
        self.home, self.lake, self.dev = home, lake, dev
        self.host, self.port = host, port or free_port()
        self.url = f"http://{host}:{self.port}"
        self.log = home / WEBSERVER_LOG
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        head = [sys.executable, "-m", "dagster", "dev"] if self.dev else [sys.executable, "-m", "dagster_webserver"]
        return [*head, "-h", self.host, "-p", str(self.port), "-w", str(workspace_file(self.home))]

    def env(self) -> dict[str, str]:
        return {**os.environ, "DAGSTER_HOME": str(self.home), "PRICE_LAKE_URI": self.lake}

    def start(self, timeout: float = 300) -> Webserver:
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(self.command(), env=self.env(), stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_child_of_this_command)  # fmt: skip
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float) -> None:
        """Ready once the code location has loaded (`/server_info` answers before it has)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise WebserverError(f"the Dagster webserver exited with {self.proc.returncode}; see {self.log}")
            if self.location_loaded():
                return
            time.sleep(0.5)
        raise WebserverError(f"the Dagster webserver was not ready after {timeout:.0f} s; see {self.log}")

    def location_loaded(self) -> bool:
        """Whether the code location has loaded; raises if it failed to."""
        query = (
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
            "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
        )
        try:
            entries = self.graphql(query, timeout=5)["workspaceOrError"]["locationEntries"]
        except (OSError, WebserverError, KeyError, TypeError):  # requests' errors are OSErrors: not up yet
            return False
        for entry in entries:
            if entry["name"] == LOCATION and entry["loadStatus"] == "LOADED":
                error = entry["locationOrLoadError"] or {}
                if error.get("__typename") == "PythonError":
                    raise WebserverError(f"the code location {LOCATION} failed to load: {error['message'].strip()}")
                return True
        return False

    def running(self) -> bool:
        """Whether the process this object started still runs (a UI started elsewhere is taken to)."""
        return self.proc is None or self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def __enter__(self) -> Webserver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def graphql(self, query: str, variables: Mapping | None = None, timeout: float = 120) -> dict:
        import requests  # loaded by the commands that start runs only

        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                                 timeout=timeout)  # fmt: skip
        if not response.ok:
            raise WebserverError(f"GraphQL: HTTP {response.status_code}: {response.text[:2000]}")
        body = response.json()
        if body.get("errors"):
            raise WebserverError(f"GraphQL: {json.dumps(body['errors'])[:2000]}")
        return body["data"]

    def launch_run(self, job: str, run_config: Mapping, tags: Mapping[str, str],
                   asset_selection: Sequence[Sequence[str]] | None = None,
                   asset_check_selection: Sequence[tuple[Sequence[str], str]] | None = None) -> str:  # fmt: skip
        """Launch a run of the code location's `job` (its assets and checks, or the selected ones); its id."""
        selector: dict = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job}
        if asset_selection is not None:
            selector["assetSelection"] = [{"path": list(path)} for path in asset_selection]
            selector["assetCheckSelection"] = [
                {"assetKey": {"path": list(path)}, "name": name} for path, name in asset_check_selection or []
            ]
        params = {
            "selector": selector,
            "runConfigData": dict(run_config),
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        answer = self.graphql(LAUNCH_RUN, {"executionParams": params})["launchRun"]
        if answer["__typename"] != "LaunchRunSuccess":
            raise WebserverError(f"Dagster refused to launch {job}: {_refusal(answer)}")
        return answer["run"]["runId"]


def default_sigint() -> None:
    """In a child about to run Dagster: SIGINT at its default, so that SIGTERM stops it (see `Webserver`)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _child_of_this_command() -> None:
    """In the webserver a command starts for its runs: SIGINT at its default, and (on Linux) SIGTERM when the
    command dies, even by `kill -9`, so that a killed `llmprices` leaves no webserver behind."""
    default_sigint()
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _refusal(answer: dict) -> str:
    errors = answer.get("errors")
    if errors:
        return "; ".join(e["message"] for e in errors)
    return answer.get("message") or answer["__typename"]


LAUNCH_RUN = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""


# -- the UI `llmprices ui` started for a home ------------------------------------------------------------
def record_ui(home: Path, url: str) -> None:
    """Note that this process (about to become `dagster dev`) serves the home's UI at `url`."""
    (home / UI_RECORD).write_text(json.dumps({"url": url, "pid": os.getpid()}) + "\n")


def running_ui(home: Path, lake: str, timeout: float = 120) -> Webserver | None:
    """The UI `llmprices ui` runs for this home, once its code location has loaded; None when there is none."""
    record = home / UI_RECORD
    if not record.exists():
        return None
    ui = json.loads(record.read_text())
    if not _alive(ui["pid"]):  # stopped since: forget it
        record.unlink(missing_ok=True)
        return None
    server = Webserver(home, lake, port=int(ui["url"].rsplit(":", 1)[1]))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(ui["pid"]):  # it may still be starting
        if server.location_loaded():
            return server
        time.sleep(0.5)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
