"""A git repository's history of one file as dated captures: the file as of the last commit of each UTC day.

Read with git itself, never a checkout per commit: one `git log --first-parent --raw -- PATH` lists the
commits that changed the file with the blob each left behind, and one `git cat-file --batch` streams the
chosen blobs. A local repository (working tree or bare) is read in place; a URL is cloned bare without
blobs (`--filter=blob:none`) into a temporary folder, and only the chosen blobs are fetched, in one go.

    with GitHistory("https://github.com/jvrck/openrouterlist", "data/output.json") as history:
        report = history.stage(history.captures(), Path("staging"))
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from llmprices.sources.archive import SINGLE_PAYLOAD_SUFFIXES
from llmprices.sources.importers import (
    Capture,
    OnStaged,
    StagingReport,
    last_capture_per_day,
    stage_capture,
    suffix_for,
)

DELETED = "0" * 40


class GitHistoryError(RuntimeError):
    """git could not read the history (not a repository, unknown revision, clone failed, ...)."""


class GitHistory:
    """The history of `path` in `repo` (a local path or a URL git can clone), at revision `rev`."""

    def __init__(self, repo: str | Path, path: str, rev: str = "HEAD", workdir: str | Path | None = None):
        self.repo = str(repo)
        self.path = path.strip("/")
        self.rev = rev
        self.suffix = suffix_for(self.path, default="")
        if self.suffix not in SINGLE_PAYLOAD_SUFFIXES:
            raise ValueError(f"{path}: only {', '.join(SINGLE_PAYLOAD_SUFFIXES)} files can be imported")
        self._workdir = Path(workdir) if workdir else None
        self._tmp: str | None = None
        self._git_dir: str | None = None
        local = Path(self.repo).expanduser()
        self.is_local = local.exists()
        self.origin = local.resolve().as_uri() if self.is_local else self.repo

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> GitHistory:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    @property
    def git_dir(self) -> str:
        """The repository's git directory: the local one, or a bare blobless clone made on first use."""
        if self._git_dir is None:
            if self.is_local:
                found = self._git(["rev-parse", "--absolute-git-dir"], git_dir=None, cwd=Path(self.repo).expanduser())
                self._git_dir = found.decode().strip()
            else:
                self._git_dir = self._clone()
        return self._git_dir

    def _clone(self) -> str:
        self._tmp = tempfile.mkdtemp(prefix="llmprices-git-", dir=self._workdir)
        target = os.path.join(self._tmp, "history.git")
        self._git(
            ["clone", "--quiet", "--bare", "--single-branch", "--no-tags", "--filter=blob:none", self.repo, target],
            git_dir=None,
        )
        return target

    # -- the two steps --------------------------------------------------------------------------
    def captures(self) -> list[Capture]:
        """The file as of the last commit (committer time, UTC) of every day it changed, in day order."""
        log = self._git(
            [
                "log",
                "--first-parent",
                "--no-renames",
                "--raw",
                "--no-abbrev",
                "--format=%x1e%H %cI",
                self.rev,
                "--",
                self.path,
            ]
        )
        candidates = []
        for record in log.decode().split("\x1e")[1:]:
            lines = record.strip().splitlines()
            sha, committed = lines[0].split(" ", 1)
            blobs = [line.split("\t", 1)[0].split() for line in lines[1:] if line.startswith(":")]
            if not blobs:
                continue
            blob, status = blobs[-1][3], blobs[-1][4]
            at = datetime.fromisoformat(committed).astimezone(UTC)
            key = "" if status.startswith("D") or blob == DELETED else blob
            candidates.append(
                Capture(
                    day=at.date(),
                    captured_at=at,
                    url=f"{self.origin}@{sha}:{self.path}",
                    key=key,
                    suffix=self.suffix,
                    info={"commit": sha, "blob": key, "path": self.path},
                )
            )
        # a day whose last commit deleted the file has no capture
        return [c for c in last_capture_per_day(candidates) if c.key]

    def stage(self, captures: list[Capture], folder: Path, on_staged: OnStaged | None = None) -> StagingReport:
        """Stream the captures' blobs out of one `git cat-file --batch` into `folder`."""
        report = StagingReport(Path(folder))
        if not captures:
            return report
        self._prefetch([c.key for c in captures])
        proc = subprocess.Popen(
            ["git", f"--git-dir={self.git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_git_env(),
            bufsize=1 << 20,
        )
        feeder = threading.Thread(target=_feed, args=(proc.stdin, [c.key for c in captures]), daemon=True)
        feeder.start()
        try:
            for capture in captures:
                header = proc.stdout.readline().split()
                if len(header) != 3:  # "<oid> missing" (or git died)
                    report.failed[capture.day] = f"blob {capture.key} of {capture.info['commit']} is not readable"
                    continue
                body = proc.stdout.read(int(header[2]))
                proc.stdout.read(1)  # the newline after the object
                stage_capture(report.folder, capture, body)
                report.staged.append(capture.day)
                if on_staged:
                    on_staged(len(report.staged))
        finally:
            feeder.join()
            proc.stdout.close()
            stderr = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
            if proc.wait() != 0 and not report.staged:
                raise GitHistoryError(f"git cat-file failed: {stderr.strip()}")
        return report

    # -- helpers --------------------------------------------------------------------------------
    def _prefetch(self, blobs: list[str]) -> None:
        """In a blobless clone, fetch every wanted blob in one request (git would fetch them one by one)."""
        if self.is_local or not self._config("remote.origin.promisor"):
            return
        # if the server refuses fetches by object id, cat-file still fetches each missing blob itself
        with contextlib.suppress(GitHistoryError):
            self._git(
                [
                    "-c",
                    "fetch.negotiationAlgorithm=noop",
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--recurse-submodules=no",
                    "--filter=blob:none",
                    "--stdin",
                    "origin",
                ],
                stdin="\n".join(sorted(set(blobs))).encode() + b"\n",
            )

    def _config(self, key: str) -> str:
        done = subprocess.run(
            ["git", f"--git-dir={self.git_dir}", "config", "--get", key], capture_output=True, env=_git_env()
        )
        return done.stdout.decode().strip()

    def _git(self, args: list[str], git_dir: str | None | bool = True, cwd=None, stdin: bytes | None = None) -> bytes:
        command = ["git", "--literal-pathspecs"]
        if git_dir is True:
            command.append(f"--git-dir={self.git_dir}")
        done = subprocess.run(command + args, capture_output=True, cwd=cwd, input=stdin, env=_git_env())
        if done.returncode != 0:
            raise GitHistoryError(f"git {' '.join(args[:2])} failed for {self.repo}: {done.stderr.decode().strip()}")
        return done.stdout


def _feed(stdin, keys: list[str]) -> None:
    try:
        for key in keys:
            stdin.write(f"{key}\n".encode())
        stdin.close()
    except BrokenPipeError:
        pass


def _git_env() -> dict[str, str]:
    # never wait on a credentials prompt; keep git's messages parseable
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
