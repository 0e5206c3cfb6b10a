"""Runs whose process is killed (`kill -9`, real processes): marked failed by the next `llmprices`, and a killed
alert run no longer holds the `alerts` pool slot every later alert run waits for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from conftest import REPO_ROOT, hang

from pipeline.homes import DAGSTER_YAML
from pipeline.runner import IngestRequest, InProcessRuns, home_instance, run_ingest

BEFORE, DAY = date(2025, 9, 16), date(2025, 9, 17)


def wait_for(condition, what: str, limit_s: float = 180) -> None:
    """Poll until `condition()` holds (a process gets going on a shared machine at its own pace)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)


def env_with(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(home), **extra}


def runs(home: Path) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return list(instance.get_runs())


def test_a_killed_cli_run_is_marked_failed_by_the_next_cli_start(socket_server, tmp_path):
    home, hanging = tmp_path / "home", socket_server(hang)
    cli = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--source", "openrouter", "--lake", str(tmp_path / "lake")],
        env=env_with(home, OPENROUTER_API_BASE=f"{hanging.base_url}/api/v1"),
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: hanging.connections > 0, "the run fetching from the server")
    finally:
        cli.kill()  # SIGKILL: nothing in the process can clean up
        cli.wait()
    [left] = runs(home)
    assert left.status == dg.DagsterRunStatus.STARTED

    with home_instance(home):  # what every later `llmprices` command does first
        pass
    [after] = runs(home)
    assert after.status == dg.DagsterRunStatus.FAILURE
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [failure] = [
            e for e in instance.all_logs(after.run_id) if e.is_dagster_event and e.dagster_event.is_run_failure
        ]
    assert f"(pid {cli.pid} on " in failure.message and "is gone: it was killed or crashed" in failure.message


DELIVER = """
import os
import sys
from pathlib import Path
import dagster as dg
from assets.alerts.assets import alert_deliveries
from pipeline.monitoring import process_tags
from pipeline.resources import AlertsResource, LakeResource
from pipeline.runner import home_instance

with home_instance(Path(os.environ["DAGSTER_HOME"])) as instance:  # as `llmprices` opens it
    result = dg.materialize(
        [alert_deliveries], partition_key=sys.argv[3], instance=instance, tags=process_tags(),
        resources={"lake": LakeResource(root_uri=sys.argv[1]), "alerts": AlertsResource(rules_file=sys.argv[2])},
        raise_on_error=False,
    )
print("delivered" if result.success else "failed")
"""

RULES = """
expire_after_days: 36500
sinks:
  out: {sink}
rules:
  - name: everything
    sinks: [out]
"""


@pytest.fixture
def changes_lake(shared_data, tmp_path) -> Path:
    """A lake with the real OpenRouter observations of 2025-09-16 and 17 and the changes between them."""
    from assets.warehouse.assets import price_changes
    from pipeline.resources import LakeResource

    lake = tmp_path / "lake"
    folder = shared_data / "openrouter-models"
    with dg.instance_for_test() as instance:
        for day in (BEFORE, DAY):
            request = IngestRequest(
                ["openrouter"], day, day, lake_uri=str(lake), archive_dirs={"openrouter": str(folder)}
            )
            assert run_ingest(request, InProcessRuns(instance)).success
        changed = dg.materialize(
            [price_changes], partition_key=DAY.isoformat(), instance=instance,
            resources={"lake": LakeResource(root_uri=str(lake))},
        )  # fmt: skip
        assert changed.success
    return lake


def test_a_killed_alert_run_frees_the_alerts_pool_slot_for_the_next(changes_lake, socket_server, tmp_path):
    home, hanging = tmp_path / "home", socket_server(hang)
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML)  # the home `llmprices` makes
    env = env_with(home, TEST_HOOK_URL=f"{hanging.base_url}/hooks/T0KEN")
    subprocess.run(
        ["dagster", "instance", "concurrency", "set", "alerts", "1"], env=env, check=True, capture_output=True
    )  # what the README asks for
    hung_rules, file_rules = tmp_path / "hung.yaml", tmp_path / "file.yaml"
    hung_rules.write_text(RULES.format(sink="{type: webhook, url_env: TEST_HOOK_URL, timeout_s: 600}"))
    jsonl = tmp_path / "alerts.jsonl"
    file_rules.write_text(RULES.format(sink=json.dumps({"type": "jsonl", "path": str(jsonl)})))
    deliver = [sys.executable, "-c", DELIVER, str(changes_lake)]

    stuck = subprocess.Popen([*deliver, str(hung_rules), DAY.isoformat()], env=env, cwd=REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: hanging.connections > 0, "the alert run posting to the receiver (holding the slot)")
    finally:
        stuck.kill()
        stuck.wait()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.event_log_storage.get_concurrency_info("alerts").claimed_slots, "the dead run holds the slot"

    # without the fix, this run waits for the slot forever; the timeout only keeps the suite from hanging
    later = subprocess.run([*deliver, str(file_rules), DAY.isoformat()], env=env, cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert later.stdout.strip().splitlines()[-1] == "delivered", later.stderr[-3000:]
    assert "was left running by a process that is gone: marked failed" in later.stdout
    delivered = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert delivered and {alert["rule"] for alert in delivered} == {"everything"}
    statuses = {run.run_id: run.status for run in runs(home)}
    assert sorted(s.value for s in statuses.values()) == ["FAILURE", "SUCCESS"]
