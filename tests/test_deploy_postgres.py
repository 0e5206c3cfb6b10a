"""The deployment for real, on 127.0.0.1: `deploy/dagster.yaml` on a throw-away PostgreSQL, the code location's
gRPC server and `dagster-daemon` as processes, the lake on an S3-compatible store; the daily ingest schedule's
tick queues a run per source, the queued run coordinator lets at most two run at once, and the day lands.
And a backfill on PostgreSQL stores its per-day materializations in bulk."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from conftest import DEPLOY, REPO_ROOT
from servers import free_port, spawn, starting_runs_at_once, stop, wait_for

from assets.keys import observations_asset_key
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS

psycopg2 = pytest.importorskip("psycopg2", reason="dagster-postgres not installed (pip install -e '.[dev]')")

DEMO = REPO_ROOT / "pipeline" / "demo_data"
LOCATION = REPO_ROOT / "tests" / "locations" / "ingest_next_minute.py"
SOURCES = ("openrouter", "litellm", "genai_prices")
SCHEDULE = "ingest_next_minute"


def command(name: str) -> str:
    """A console script of the Python running the tests (the venv's `dagster`, `dagster-daemon`, ...)."""
    return str(Path(sys.executable).parent / name)


def serve_todays_prices(http_server) -> dict[str, str]:
    """The three sources' APIs on 127.0.0.1, serving demo captures as today's prices; their URLs as the
    variables the code location reads."""
    return {
        "OPENROUTER_API_BASE": http_server.add_file("/api/v1/models", DEMO / "openrouter/2025-01-15.json")[:-7],
        "LITELLM_PRICES_URL": http_server.add_file("/litellm.json", DEMO / "litellm/2025-01-15.json"),
        "GENAI_PRICES_URL": http_server.add_file("/genai.json", DEMO / "genai_prices/2025-01-15.json"),
    }


def in_progress_at_once(records) -> int:
    """The most runs that were in progress at the same time, from their start and end times."""
    edges = sorted([(r.start_time, 1) for r in records] + [(r.end_time, -1) for r in records])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def rows_containing(url: str, text: str) -> dict[str, int]:
    """Rows of the instance's event log and run tables that contain `text`."""
    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        found = {}
        for table, column in (("event_logs", "event"), ("runs", "run_body")):
            cursor.execute(f"select count(*) from {table} where {column} like %s", (f"%{text}%",))  # noqa: S608
            found[table] = cursor.fetchone()[0]
        return found
    finally:
        connection.close()


def objects_under(s3, uri: str) -> dict[str, bytes]:
    """Every object of the lake at `uri` on the store, read whole."""
    prefix = uri.removeprefix(f"s3://{s3.bucket}/")
    pages = s3.client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix=prefix)
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return {key: s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read() for key in keys}


def test_the_daemon_queues_the_scheduled_ingest_two_sources_at_a_time_into_the_lake_on_s3(
    postgres, postgres_home, s3_env, http_server, tmp_path
):
    lake_uri = f"s3://{s3_env.bucket}/lake-{uuid.uuid4().hex[:8]}"
    port = free_port()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(f"load_from:\n  - grpc_server: {{host: 127.0.0.1, port: {port}, location_name: test}}\n")
    # runs are processes of the gRPC server and inherit its environment: the lake, the sources, the instance
    env = {
        **os.environ,
        "PRICE_LAKE_URI": lake_uri,
        "LLMPRICES_EXECUTOR": "in_process",
        **serve_todays_prices(http_server),
    }
    grpc_log, daemon_log = tmp_path / "grpc.log", tmp_path / "daemon.log"
    grpc = spawn([command("dagster"), "api", "grpc", "-f", str(LOCATION), "-h", "127.0.0.1", "-p", str(port)],
                 grpc_log, env=env, cwd=REPO_ROOT)  # fmt: skip
    daemon = None
    try:
        health = [command("dagster"), "api", "grpc-health-check", "-p", str(port)]
        serving = lambda: grpc.poll() is not None or subprocess.run(health, capture_output=True).returncode == 0  # noqa: E731
        wait_for(serving, 180, "gRPC server", grpc_log, 1)
        assert grpc.poll() is None, grpc_log.read_text()[-3000:]
        daemon = spawn([command("dagster-daemon"), "run", "-w", str(workspace)], daemon_log, env=env, cwd=tmp_path)

        instance = dg.DagsterInstance.from_config(str(postgres_home.path))
        scheduled = dg.RunsFilter(tags={"dagster/schedule_name": SCHEDULE})
        wait_for(lambda: len(instance.get_run_records(scheduled)) >= 3, 240, "the tick's runs", daemon_log, 2)
        finished = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
        wait_for(lambda: all(r.dagster_run.status in finished for r in instance.get_run_records(scheduled)),
                 360, "the runs to finish", daemon_log, 2)  # fmt: skip
        records = instance.get_run_records(scheduled)
    finally:
        for process in (daemon, grpc):
            if process is not None:
                stop(process)

    runs = {r.dagster_run.tags["source"]: r.dagster_run for r in records}
    assert len(records) == 3 and set(runs) == set(SOURCES)
    assert {run.status for run in runs.values()} == {dg.DagsterRunStatus.SUCCESS}, grpc_log.read_text()[-3000:]
    [day] = {run.tags["dagster/partition"] for run in runs.values()}
    assert in_progress_at_once(records) <= 2  # the `source` tag's concurrency limit

    lake = Lake(lake_uri)
    for source, run in runs.items():
        partition = OBSERVATIONS.partition(snapshot_date=date.fromisoformat(day), source=source)
        rows = lake.row_count(OBSERVATIONS, partition)
        event = instance.get_latest_materialization_event(observations_asset_key(source))
        materialization = event.asset_materialization
        assert (event.run_id, materialization.partition) == (run.run_id, day)
        assert rows and materialization.metadata["dagster/row_count"].value == rows
    assert any((tmp_path / "logs").rglob("*.out")) or any((tmp_path / "logs").rglob("*.err"))  # compute logs kept

    database_url = postgres.url(postgres_home.database)
    objects = objects_under(s3_env, lake_uri)
    assert len(objects) >= 6  # raw and observations of each source
    for secret in (postgres.password, s3_env.secret_key):
        assert rows_containing(database_url, secret) == {"event_logs": 0, "runs": 0}
        assert [key for key, body in objects.items() if secret.encode() in body] == []


def test_a_backfill_on_postgres_stores_its_per_day_materializations_in_bulk(postgres, postgres_home, tmp_path):
    """`DAGSTER_EVENT_BATCH_SIZE` in the environment of the process running the steps: dagster-postgres then
    inserts each step's per-day materializations in one statement (one transaction: one `xmin`). The CLI runs
    on deploy/dagster.yaml's storage, starting its run itself (no daemon here)."""
    (postgres_home.path / "dagster.yaml").write_text(starting_runs_at_once(DEPLOY / "dagster.yaml"))
    env = {**os.environ, "DAGSTER_EVENT_BATCH_SIZE": "200", "TQDM_DISABLE": "1"}
    backfill = [command("llmprices"), "backfill", "--source", "openrouter", "--from-dir", str(DEMO / "openrouter"),
                "--lake", str(tmp_path / "lake")]  # fmt: skip
    done = subprocess.run(backfill, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    connection = psycopg2.connect(postgres.url(postgres_home.database))
    try:
        cursor = connection.cursor()
        cursor.execute(
            "select asset_key, count(*), count(distinct partition), count(distinct xmin::text) from event_logs "
            "where dagster_event_type = 'ASSET_MATERIALIZATION' group by asset_key order by asset_key"
        )
        by_asset = cursor.fetchall()
    finally:
        connection.close()
    # 3 days x 2 assets, each asset's 3 materializations written in one transaction
    assert [(key, count, days, transactions) for key, count, days, transactions in by_asset] == [
        ('["observations", "openrouter"]', 3, 3, 1),
        ('["raw", "openrouter"]', 3, 3, 1),
    ]
    instance = dg.DagsterInstance.from_config(str(postgres_home.path))
    assert instance.get_materialized_partitions(observations_asset_key("openrouter")) == {
        "2025-01-13", "2025-01-14", "2025-01-15"
    }  # fmt: skip
