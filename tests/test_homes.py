"""One Dagster home per lake: where the CLI keeps a lake's runs, and its refusal to mix two lakes in one home."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import cli_env

from pipeline.homes import LAKE_RECORD, HomeMismatch, home_for_lake, lake_identity


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A user's shell in an empty folder, without DAGSTER_HOME."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return tmp_path


def test_each_lake_gets_its_own_home_under_dagster_home(shell):
    demo, other = home_for_lake("demo-lake"), home_for_lake("other-lake")
    assert demo.parent == other.parent == shell / ".dagster_home" and demo != other
    assert demo.name.startswith("demo-lake-") and other.name.startswith("other-lake-")
    assert home_for_lake(str(shell / "demo-lake")) == home_for_lake("./demo-lake") == demo  # one lake, however named
    assert home_for_lake(f"file://{shell}/demo-lake") == demo
    assert home_for_lake("s3://bucket/prices") != home_for_lake("s3://other/prices")
    assert json.loads((demo / LAKE_RECORD).read_text()) == {"lake": str(shell / "demo-lake")}


def test_a_home_the_cli_makes_starts_runs_at_once_and_has_no_pop_up(shell):
    home = home_for_lake("demo-lake")
    settings = (home / "dagster.yaml").read_text()
    assert "class: DefaultRunCoordinator" in settings  # launched runs start without a daemon
    assert "enabled: false" in settings  # no telemetry
    assert (home / ".nux" / "nux.yaml").read_text() == "seen: 1\n"  # no "join the community" over the UI
    workspace = (home / "workspace.yaml").read_text()
    assert "module_name: pipeline.definitions" in workspace and "location_name: llm-price-observatory" in workspace


def test_dagster_home_belongs_to_one_lake(shell, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(shell / "home"))
    assert home_for_lake("demo-lake") == shell / "home"  # a home without a lake takes the first one used
    assert home_for_lake(str(shell / "demo-lake")) == shell / "home"
    with pytest.raises(HomeMismatch) as refused:
        home_for_lake("other-lake")
    assert str(refused.value) == (
        f"Dagster home {shell / 'home'} holds the runs of lake {shell / 'demo-lake'}, not {shell / 'other-lake'}. "
        "Use that lake, or choose another home for this one: unset DAGSTER_HOME (each lake then gets its own under "
        "./.dagster_home/), or set DAGSTER_HOME to an empty folder."
    )


def test_the_cli_refuses_to_mix_lakes_in_one_home_and_says_how_to_choose(shell):
    home = home_for_lake("demo-lake")
    env = {**cli_env(), "DAGSTER_HOME": str(home)}
    for command in (["run", "--source", "openrouter"], ["ui"]):
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *command, "--lake", "other-lake"], cwd=shell, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"holds the runs of lake {lake_identity('demo-lake')}, not {shell / 'other-lake'}" in done.stderr
        assert "unset DAGSTER_HOME" in done.stderr and "Traceback" not in done.stderr
    assert not (shell / "other-lake").exists()  # nothing ran


def test_a_home_that_queues_runs_for_a_daemon_is_refused_without_a_ui(shell):
    home = shell / "home"  # a user's home from before: Dagster's default run coordinator queues runs
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--source", "openrouter", "--lake", "lake"], cwd=shell,
        env={**cli_env(), "DAGSTER_HOME": str(home)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"Dagster home {home} queues runs for a daemon" in done.stderr
    assert f"start `llmprices ui --lake {shell / 'lake'}` in another shell" in done.stderr
    assert not (home / "webserver.log").exists()  # refused before starting anything
