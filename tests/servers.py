"""Throw-away servers on 127.0.0.1 for the deployment tests and benchmarks: PostgreSQL and Redis from Debian's
packages, and an S3-compatible store (moto's server mode). Real processes, gone with the process that
started them: each server is a direct child that the kernel signals when its parent dies (PR_SET_PDEATHSIG),
so a test run killed from outside leaves no cluster behind; normal ends and failures stop them in the
fixtures' finalizers (`tests/conftest.py`).

PostgreSQL refuses to run as root: as root (CI) its commands run as the `postgres` user the Debian package
creates, in a folder directly under /tmp that user can reach (pytest's `tmp_path` is 0700 root's).
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import yaml

PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent(sig: int) -> Callable[[], None]:
    """A preexec_fn: the child gets `sig` when the process that spawned it dies (even by SIGKILL)."""

    def set_death_signal() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)

    return set_death_signal


def spawn(
    argv: list[str],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    death_signal: int = signal.SIGTERM,
) -> subprocess.Popen:
    """Start a server process, output to `log`; it ends with its parent."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            user=user, preexec_fn=_die_with_parent(death_signal),
        )  # fmt: skip


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(ready: Callable[[], bool], timeout: float, what: str, log: Path | None = None, interval=0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s\n{tail}")


# -- PostgreSQL ----------------------------------------------------------------------------------------
def postgres_bindir() -> str | None:
    """The newest /usr/lib/postgresql/<major>/bin (Debian keeps the server binaries off PATH), else PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(os.path.realpath(initdb)) if initdb else None


def postgres_missing() -> str | None:
    """Why a cluster cannot start here (None: it can)."""
    if postgres_bindir() is None:
        return "PostgreSQL server not installed (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run the server as"
    return None


class PgCluster:
    """A PostgreSQL cluster on 127.0.0.1 and a free port: a superuser with a password over TCP (scram), the
    unix socket in the cluster's folder trusted. `durable=False` turns fsync off (tests); True keeps
    PostgreSQL's defaults (benchmarks)."""

    def __init__(self, user: str = "dagster", database: str = "dagster", durable: bool = False):
        self.user, self.database, self.durable = user, database, durable
        self.password = f"pw-{uuid.uuid4().hex}"
        self.port = free_port()
        self.bindir = postgres_bindir()
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.base = Path(tempfile.mkdtemp(prefix="llmprices-pg-", dir="/tmp"))
        self.data, self.socket_dir, self.log = self.base / "data", self.base / "sock", self.base / "postgres.log"
        self._server: subprocess.Popen | None = None

    def _bin(self, name: str) -> str:
        return os.path.join(self.bindir, name)

    def _run(self, *argv: str) -> None:
        done = subprocess.run(argv, user=self.run_as, cwd=self.base, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()}")

    def start(self) -> PgCluster:
        self.socket_dir.mkdir()
        password_file = self.base / "pw"
        password_file.write_text(self.password + "\n")
        if self.run_as:
            account = pwd.getpwnam(self.run_as)
            for path in (self.base, self.socket_dir, password_file):
                os.chown(path, account.pw_uid, account.pw_gid)
        self._run(
            self._bin("initdb"), "-D", str(self.data), "-U", self.user, f"--pwfile={password_file}",
            "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        password_file.unlink()
        options = ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=100"]
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self._server = spawn(
            [self._bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.socket_dir), *options],
            self.log, cwd=self.base, user=self.run_as, death_signal=signal.SIGINT,  # SIGINT: a fast shutdown
        )  # fmt: skip
        ready = [self._bin("pg_isready"), "-q", "-h", str(self.socket_dir), "-p", str(self.port)]
        wait_for(lambda: self._server.poll() is None and subprocess.run(ready).returncode == 0, 60, "postgres",
                 self.log)  # fmt: skip
        if self._server.poll() is not None:
            raise RuntimeError(f"postgres exited: {self.log.read_text()[-2000:]}")
        self.create_database(self.database)
        return self

    def create_database(self, name: str) -> str:
        self._run(self._bin("createdb"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", self.user, name)
        return name

    def env(self, database: str | None = None) -> dict[str, str]:
        """The variables `deploy/dagster.yaml` reads."""
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": database or self.database,
        }

    def url(self, database: str | None = None) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database or self.database}"

    def stop(self) -> None:
        if self._server is not None:
            stop(self._server, signal.SIGINT)
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def starting_runs_at_once(instance_yaml: Path) -> str:
    """An instance file (deploy/dagster.yaml) with Dagster's default run coordinator: `llmprices` then starts its
    runs itself, without a daemon (it refuses a home that queues runs when no UI runs for the lake). Storage,
    compute logs and the rest stay as the file says."""
    config = yaml.safe_load(instance_yaml.read_text())
    config["run_coordinator"] = {"module": "dagster.core.run_coordinator", "class": "DefaultRunCoordinator"}
    return yaml.safe_dump(config, sort_keys=False)


# -- Redis -------------------------------------------------------------------------------------------
class RedisServer:
    """Debian's redis-server on 127.0.0.1, nothing persisted: the Celery broker and result backend."""

    def __init__(self):
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="llmprices-redis-"))
        self.log = self.base / "redis.log"
        self._server: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def __enter__(self) -> RedisServer:
        import redis

        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                "--protected-mode", "yes", "--dir", str(self.base)]  # fmt: skip
        self._server = spawn(argv, self.log, cwd=self.base)
        client = redis.Redis(port=self.port)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        try:
            wait_for(answers, 30, "redis-server", self.log)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            stop(self._server)
        shutil.rmtree(self.base, ignore_errors=True)


# -- S3 ----------------------------------------------------------------------------------------------
class S3Server:
    """moto's S3 server in a thread of this process, with one bucket; clients find it through the standard
    AWS_* variables (`env()`), as they find a real store."""

    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.bucket = f"lake-{uuid.uuid4().hex[:8]}"
        self.access_key = f"AKIA{uuid.uuid4().hex[:16].upper()}"
        self.secret_key = f"secret-{uuid.uuid4().hex}"

    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",  # never ask a cloud's metadata service for credentials
        }

    def __enter__(self) -> S3Server:
        import boto3
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        client = boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
        )  # fmt: skip
        client.create_bucket(Bucket=self.bucket)
        self.client = client
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()
