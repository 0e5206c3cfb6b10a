"""Runs whose process died: found and marked failed, so they stop showing as running and free their pool slots.

A run started by `llmprices` (or anything using `pipeline.runner`) executes in that process; if the process is
killed, the run stays STARTED forever and keeps the concurrency slots its steps held, so with the `alerts` pool
limited to 1 every later alert run waits, silently. Such runs carry their process in tags (`process_tags`), and
`fail_abandoned_runs` marks those whose process is gone as failed and frees their slots. It runs when the CLI
opens its Dagster instance and every few minutes as the `abandoned_runs` sensor under `dagster dev`. Runs the
daemon launches are watched by Dagster's own run monitoring (`dagster.yaml`, see README).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

HOST_TAG = "llmprices/host"
PID_TAG = "llmprices/pid"
#: When the process started (Linux: clock ticks since boot), so that a reused pid is not taken for the run's.
PROCESS_START_TAG = "llmprices/process_start"


def process_tags() -> dict[str, str]:
    """Tags naming this process, for the runs it executes in itself."""
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
    started = _process_start(os.getpid())
    if started is not None:
        tags[PROCESS_START_TAG] = started
    return tags


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Mark failed every in-progress run of this host whose process is gone, and free its concurrency slots."""
    in_progress = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
    abandoned = []
    for record in instance.get_run_records(filters=in_progress):
        run = record.dagster_run
        tags = run.tags
        if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
            continue
        pid = int(tags[PID_TAG])
        if _alive(pid, tags.get(PROCESS_START_TAG)):
            continue
        instance.report_run_failed(
            run, f"The process running this run (pid {pid} on {tags[HOST_TAG]}) is gone: it was killed or crashed."
        )
        # what the UI's "free concurrency slots" does: the dead process can no longer free its steps' slots
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        abandoned.append(run)
    return abandoned


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process with that pid: it exists
    return started is None or _process_start(pid) in (None, started)


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), None where unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # after the command name, which may hold spaces
    return fields[19] if len(fields) > 19 else None
