"""Real ingest runs against hostile servers on 127.0.0.1: a source that hangs fails alone at its deadline, a
refused key is said once and never stored."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import REPO_ROOT, hang

from pipeline.runner import IngestRequest, InProcessRuns, run_ingest


def today() -> date:
    """Today in UTC when asked, not when the module was imported: a suite may run across midnight."""
    return datetime.now(UTC).date()
KEY = "aa-live-4c1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f"


def step_failures(result) -> dict[str, str]:
    return {e.step_key: e.step_failure_data.error.message for e in result.all_events if e.is_step_failure}


def step_retries(result) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def rows_by_source(lake: Path) -> dict[str, int]:
    scan = f"read_parquet('{lake}/observations/**/*.parquet', hive_partitioning = true)"
    return dict(duckdb.sql(f"select source, count(*) from {scan} group by all").fetchall())


def test_a_hanging_source_fails_alone_at_its_deadline_and_the_other_lands(
    socket_server, http_server, shared_data, tmp_path
):
    hanging = socket_server(hang)
    http_server.add_file("/hf/models", shared_data / "samples" / "huggingface_models.json")
    request = IngestRequest(
        ["openrouter", "huggingface"], today(), today(), lake_uri=str(tmp_path),
        resource_config={
            "http": {"fetch_deadline_s": 2},
            "openrouter_source": {"api_base": f"{hanging.base_url}/api/v1"},
            "huggingface_source": {"api_base": f"{http_server.base_url}/hf"},
        },
    )  # fmt: skip
    with dg.instance_for_test() as instance:
        result = run_ingest(request, InProcessRuns(instance))
    assert not result.success
    failures = step_failures(result)
    assert list(failures) == ["raw__openrouter"]
    message = failures["raw__openrouter"].strip()
    assert f"openrouter: http://{hanging.host_port}/api/v1/models: no complete answer" in message
    assert "would pass the 2 s fetch deadline (PRICE_FETCH_DEADLINE_S)" in message and "\n" not in message
    assert step_retries(result) == []  # the deadline is the whole fetch's: the step is not run again
    assert rows_by_source(tmp_path) == {"huggingface": 6}


def test_a_refused_key_fails_once_says_check_the_key_and_is_stored_nowhere(
    http_server, tmp_path, monkeypatch, capfd
):
    monkeypatch.setenv("TEST_AA_KEY", KEY)
    http_server.add("/aa/data/llms/models", f'{{"error": "invalid API key {KEY}"}}', status=401)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    request = IngestRequest(
        ["artificialanalysis"], today(), today(), lake_uri=str(tmp_path / "lake"),
        resource_config={
            "artificialanalysis_source": {"api_base": f"{http_server.base_url}/aa", "api_key": {"env": "TEST_AA_KEY"}}
        },
    )  # fmt: skip
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        result = run_ingest(request, InProcessRuns(instance))
    assert not result.success
    message = step_failures(result)["raw__artificialanalysis"]
    assert "answered HTTP 401: the credentials were refused, check the key" in message
    assert len(http_server.requests) == 1 and step_retries(result) == []

    assert http_server.requests[0][1]["x-api-key"] == KEY  # it was sent, as a header
    stored = [p for p in [*home.rglob("*"), *(tmp_path / "lake").rglob("*")] if p.is_file()]
    assert stored, "the instance and the lake wrote nothing to look in"
    assert [p for p in stored if KEY.encode() in p.read_bytes()] == []
    out, err = capfd.readouterr()
    assert KEY not in out and KEY not in err


@pytest.mark.parametrize("status", [403])
def test_forbidden_is_not_retried_either(http_server, tmp_path, monkeypatch, status):
    monkeypatch.setenv("TEST_AA_KEY", KEY)
    http_server.add("/aa/data/llms/models", "forbidden", status=status)
    request = IngestRequest(
        ["artificialanalysis"], today(), today(), lake_uri=str(tmp_path),
        resource_config={
            "artificialanalysis_source": {"api_base": f"{http_server.base_url}/aa", "api_key": {"env": "TEST_AA_KEY"}}
        },
    )  # fmt: skip
    with dg.instance_for_test() as instance:
        result = run_ingest(request, InProcessRuns(instance))
    assert f"answered HTTP {status}: the credentials were refused, check the key" in step_failures(result)[
        "raw__artificialanalysis"
    ]
    assert len(http_server.requests) == 1


def test_the_cli_takes_the_deadline_from_price_fetch_deadline_s(socket_server, tmp_path):
    hanging = socket_server(hang)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "OPENROUTER_API_BASE": f"{hanging.base_url}/api/v1",
        "PRICE_FETCH_DEADLINE_S": "2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--source", "openrouter", "--lake", str(tmp_path / "lake")],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"openrouter: http://{hanging.host_port}/api/v1/models: no complete answer" in done.stdout
    assert "would pass the 2 s fetch deadline (PRICE_FETCH_DEADLINE_S)" in done.stdout
