"""Beyond one machine, for real on 127.0.0.1: Debian's redis-server as the broker, two Celery workers started
as the compose file's `celery-worker` service starts them, the instance `deploy/dagster.yaml` on a throw-away
PostgreSQL (every worker must see the same instance), and one run of a day's three sources launched by the
`dagster` CLI with `LLMPRICES_EXECUTOR=celery`: each step is a task for whichever worker is free, so the two
workers share the day's sources."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date

import dagster as dg
import pytest
from conftest import DEPLOY, REPO_ROOT
from servers import spawn, stop, wait_for
from test_deploy_postgres import DEMO, command

from assets.keys import observations_asset_key, raw_asset_key
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS

DAY = "2025-01-15"
SOURCES = ("openrouter", "litellm", "genai_prices")
WORKERS = ("w1", "w2")


def worker_command(name: str) -> list[str]:
    """deploy/docker-compose.yml's celery-worker command, with a node name of its own."""
    compose = (DEPLOY / "docker-compose.yml").read_text()
    assert '"celery", "-A", "dagster_celery.app", "worker", "-Q", "dagster", "-c", "1"' in compose
    return [command("celery"), "-A", "dagster_celery.app", "worker", "-Q", "dagster", "-c", "1", "-l", "INFO",
            "--without-gossip", "--without-mingle", "-n", f"{name}@%h"]  # fmt: skip


def worker_of_each_step(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """The worker each step ran on: every Celery task records an engine event naming its worker's node."""
    workers = {}
    for record in instance.get_records_for_run(run_id, limit=10_000).records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.event_type_value == "ENGINE_EVENT" and event.engine_event_data:
            metadata = event.engine_event_data.metadata or {}
            if "Celery worker" in metadata:
                workers[record.event_log_entry.step_key] = metadata["Celery worker"].value.split("@")[0]
    return workers


def test_two_celery_workers_share_a_days_sources_through_redis(postgres_home, redis_server, tmp_path):
    from celery import Celery

    lake_uri = str(tmp_path / "lake")
    env = {
        **os.environ,
        "PRICE_LAKE_URI": lake_uri,
        "LLMPRICES_EXECUTOR": "celery",
        "DAGSTER_CELERY_BROKER_URL": redis_server.url(0),
        "DAGSTER_CELERY_BACKEND_URL": redis_server.url(1),
        # dagster-celery reads dagster_celery_config.py (the broker from the environment) where it is importable
        "PYTHONPATH": os.pathsep.join([str(DEPLOY / "celery"), str(REPO_ROOT)]),
    }
    logs = {name: tmp_path / f"{name}.log" for name in WORKERS}
    workers = [spawn(worker_command(name), logs[name], env=env, cwd=tmp_path) for name in WORKERS]
    try:
        probe = Celery(broker=redis_server.url(0), backend=redis_server.url(1))
        wait_for(lambda: len(probe.control.ping(timeout=1.0) or []) == 2, 180, "two Celery workers",
                 logs["w2"], 1)  # fmt: skip
        selection = ",".join(f"{kind}/{source}" for source in SOURCES for kind in ("raw", "observations"))
        run_config = {"ops": {f"raw__{source}": {"config": {"archive_dir": str(DEMO / source)}} for source in SOURCES}}
        materialize = [command("dagster"), "asset", "materialize", "-m", "pipeline.definitions",
                       "--select", selection, "--partition", DAY, "--config-json", json.dumps(run_config)]  # fmt: skip
        done = subprocess.run(materialize, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    finally:
        for worker in workers:
            stop(worker)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + logs["w1"].read_text()[-3000:]

    instance = dg.DagsterInstance.from_config(str(postgres_home.path))
    [run] = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.SUCCESS
    ran_on = worker_of_each_step(instance, run.run_id)
    steps = {f"{kind}__{source}" for source in SOURCES for kind in ("raw", "observations")}
    assert steps <= set(ran_on), ran_on
    assert set(ran_on.values()) == set(WORKERS), ran_on  # both workers took steps of the day

    lake = Lake(lake_uri)
    for source in SOURCES:
        partition = OBSERVATIONS.partition(snapshot_date=date.fromisoformat(DAY), source=source)
        rows = lake.row_count(OBSERVATIONS, partition)
        event = instance.get_latest_materialization_event(observations_asset_key(source))
        assert rows and event.run_id == run.run_id
        assert event.asset_materialization.metadata["dagster/row_count"].value == rows
        assert instance.get_materialized_partitions(raw_asset_key(source)) == {DAY}
    # the broker's address is read from the environment by every process, never written in the instance
    for record in instance.get_records_for_run(run.run_id, limit=10_000).records:
        assert redis_server.url(0) not in record.event_log_entry.to_json()


@pytest.fixture
def redis_server(redis_server):
    """The session's Redis, emptied: tasks or results of an earlier test never reach these workers."""
    import redis

    redis.Redis(port=redis_server.port).flushall()
    return redis_server
