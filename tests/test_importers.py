"""History importers on real payloads: a git repository's history of a file, the Wayback Machine (a local
server speaking its CDX API), and `llmprices backfill --git` as a user runs it."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from llmprices.http import HttpClient
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from llmprices.sources.importers import Capture, last_capture_per_day
from llmprices.sources.importers.git_history import GitHistory
from llmprices.sources.importers.wayback import WaybackHistory
from pipeline.backfill import plan_backfill, run_backfill, stage_import
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest

REPO = Path(__file__).resolve().parent.parent
FILE = "data/output.json"
D1, D2, D4, D5 = date(2025, 2, 1), date(2025, 2, 2), date(2025, 2, 4), date(2025, 2, 5)  # 2025-02-03: no commit


def payload(shared_data: Path, day: str) -> bytes:
    return gzip.decompress((shared_data / "openrouter-models" / f"{day}.json.gz").read_bytes())


def priced(shared_data: Path, day: str) -> int:
    """Models of the day's capture with both prices (the rest are quarantined: routers' "-1")."""
    models = json.loads(payload(shared_data, day))["data"]
    return sum(1 for m in models if m["pricing"]["prompt"] != "-1" and m["pricing"]["completion"] != "-1")


def git(repo: Path, *args: str, when: str | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env.update({"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})
    if when:
        env.update({"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo: Path, when: str, files: dict[str, bytes | None], message: str = "capture") -> str:
    for name, body in files.items():
        path = repo / name
        if body is None:
            git(repo, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD")


def history_repo(tmp_path: Path, shared_data: Path) -> tuple[Path, dict[date, str]]:
    """Captures of 4 days; the 2nd has two commits (the later wins), the 3rd none; the 4th's commit is
    stamped in UTC+2 just after midnight (so it is the 4th in UTC); then a commit touching another file
    and one deleting the file (no capture that day)."""
    repo = tmp_path / "openrouterlist"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = {D1: commit(repo, "2025-02-01T09:00:00+00:00", {FILE: payload(shared_data, "2025-02-01")})}
    commit(repo, "2025-02-02T08:00:00+00:00", {FILE: payload(shared_data, "2025-01-20")}, "morning")
    shas[D2] = commit(repo, "2025-02-02T20:00:00+00:00", {FILE: payload(shared_data, "2025-02-02")}, "evening")
    shas[D4] = commit(repo, "2025-02-05T00:30:00+02:00", {FILE: payload(shared_data, "2025-02-04")})
    shas[D5] = commit(repo, "2025-02-05T21:00:00+00:00", {FILE: payload(shared_data, "2025-02-05")})
    commit(repo, "2025-02-06T10:00:00+00:00", {"README.md": b"captures of /api/v1/models\n"}, "docs")
    commit(repo, "2025-02-07T10:00:00+00:00", {FILE: None}, "stop capturing")
    return repo, shas


def folder_of(shared_data: Path, tmp_path: Path, days: list[date]) -> Path:
    folder = tmp_path / "captures"
    folder.mkdir()
    for day in days:
        name = f"{day.isoformat()}.json.gz"
        (folder / name).symlink_to(shared_data / "openrouter-models" / name)
    return folder


def event_log(instance: dg.DagsterInstance) -> dict:
    """What the UI shows of the runs: materialized days and materialization records per asset, checks."""
    shown = {}
    for key in (dg.AssetKey(["raw", "openrouter"]), dg.AssetKey(["observations", "openrouter"])):
        records = instance.fetch_materializations(key, limit=100).records
        shown[key.to_user_string()] = (
            sorted(instance.get_materialized_partitions(key)),
            sorted(r.partition_key for r in records),
        )
    [run] = instance.get_runs()
    checks = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    shown["checks"] = sorted(
        (e.dagster_event.event_specific_data.check_name, e.dagster_event.event_specific_data.passed) for e in checks
    )
    return shown


def observations(lake_dir: Path):
    scan = f"read_parquet('{lake_dir}/observations/**/*.parquet', hive_partitioning=true)"
    return duckdb.sql(f"select * exclude (observed_at), observed_at from {scan} order by all").df()


def test_last_capture_per_day_keeps_the_latest_of_each_utc_day():
    def capture(at: str, key: str) -> Capture:
        moment = datetime.fromisoformat(at).astimezone(UTC)
        return Capture(moment.date(), moment, url=key, key=key)

    picked = last_capture_per_day(
        [capture("2025-02-02T20:00:00+00:00", "late"), capture("2025-02-02T08:00:00+00:00", "early"),
         capture("2025-02-01T23:30:00-02:00", "next-day-in-utc"), capture("2025-02-01T12:00:00+00:00", "only")]
    )  # fmt: skip
    assert [(c.day.isoformat(), c.key) for c in picked] == [("2025-02-01", "only"), ("2025-02-02", "late")]


def test_git_history_lands_the_last_commit_of_each_day_like_the_folder_importer(shared_data, tmp_path):
    repo, shas = history_repo(tmp_path, shared_data)
    with GitHistory(repo, FILE) as history:
        captures = history.captures()
        assert [(c.day, c.info["commit"]) for c in captures] == sorted(shas.items())
        assert captures[2].captured_at == datetime(2025, 2, 4, 22, 30, tzinfo=UTC)

        lake = Lake(str(tmp_path / "git-lake"))
        staging = tmp_path / "staging"
        staging.mkdir()
        with dg.instance_for_test() as instance, dg.instance_for_test() as plain_instance:
            plan, report = stage_import(history, lake, "openrouter", staging)
            assert report.staged == [D1, D2, D4, D5] and not report.failed
            assert plan.spans == [(D1, D5)]
            assert (staging / "2025-02-02.json").read_bytes() == payload(shared_data, "2025-02-02")
            [result] = run_backfill(plan, staging, lake.root_uri, InProcessRuns(instance))  # planned as one range
            assert result.success

            # the folder importer, through a plain run (planned day by day) for comparison
            folder = folder_of(shared_data, tmp_path, [D1, D2, D4, D5])
            folder_plan = plan_backfill(Lake(str(tmp_path / "folder-lake")), "openrouter", folder)
            assert folder_plan.spans == plan.spans
            request = IngestRequest(["openrouter"], D1, D5, str(tmp_path / "folder-lake"), {"openrouter": str(folder)})
            assert run_ingest(request, InProcessRuns(plain_instance)).success
            assert event_log(instance) == event_log(plain_instance)

    from_git, from_folder = observations(tmp_path / "git-lake"), observations(tmp_path / "folder-lake")
    assert len(from_git) > 4 * 200
    columns = [c for c in from_git.columns if c != "observed_at"]
    assert from_git[columns].equals(from_folder[columns])
    # raw/ keeps where and when each capture was taken: the commit, at its time
    manifest, [raw] = lake.read_raw("openrouter", D2)
    assert raw.url == f"{repo.resolve().as_uri()}@{shas[D2]}:{FILE}"
    assert raw.fetched_at == datetime(2025, 2, 2, 20, 0, tzinfo=UTC)
    assert raw.body == payload(shared_data, "2025-02-02")
    stamped = set(from_git.loc[from_git["snapshot_date"].astype(str) == "2025-02-02", "observed_at"])
    assert stamped == {datetime(2025, 2, 2, 20, 0, tzinfo=UTC)}

    # resume: nothing left to stage or run
    with GitHistory(repo, FILE) as history:
        plan, report = stage_import(history, lake, "openrouter", tmp_path / "staging")
    assert plan.todo == [] and report.staged == []


def test_git_history_clones_a_url_without_blobs_and_fetches_only_the_chosen_ones(shared_data, tmp_path):
    repo, shas = history_repo(tmp_path, shared_data)
    git(repo, "config", "uploadpack.allowFilter", "true")
    git(repo, "config", "uploadpack.allowAnySHA1InWant", "true")
    staging = tmp_path / "staging"
    staging.mkdir()
    with GitHistory(repo.resolve().as_uri(), FILE, workdir=tmp_path) as history:
        captures = history.captures()
        assert [c.day for c in captures] == [D1, D2, D4, D5]
        assert history._config("remote.origin.promisor") == "true"  # a partial clone
        report = history.stage(captures[1:3], staging)
        clone = Path(history.git_dir)
    assert report.staged == [D2, D4] and not report.failed
    assert (staging / "2025-02-04.json").read_bytes() == payload(shared_data, "2025-02-04")
    assert json.loads((staging / "2025-02-04.meta.json").read_text())["commit"] == shas[D4]
    assert not clone.exists()  # the temporary clone is gone


def test_git_history_day_with_a_broken_payload_fails_alone(shared_data, tmp_path):
    repo = tmp_path / "history"
    repo.mkdir()
    git(repo, "init", "-q")
    commit(repo, "2025-02-01T09:00:00+00:00", {FILE: payload(shared_data, "2025-02-01")})
    commit(repo, "2025-02-02T09:00:00+00:00", {FILE: b'{"data": [{"id": "truncated'})
    commit(repo, "2025-02-04T09:00:00+00:00", {FILE: payload(shared_data, "2025-02-04")})
    lake = Lake(str(tmp_path / "lake"))
    staging = tmp_path / "staging"
    staging.mkdir()
    with GitHistory(repo, FILE) as history, dg.instance_for_test() as instance:
        plan, _ = stage_import(history, lake, "openrouter", staging)
        [result] = run_backfill(plan, staging, lake.root_uri, InProcessRuns(instance))
    assert not result.success  # reported ...
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "could not be read" in failure.step_failure_data.error.message

    def rows(table: str, where: str = "true") -> dict[str, int]:
        scan = f"read_parquet('{tmp_path}/lake/{table}/**/*.parquet', hive_partitioning=true)"
        sql = f"select snapshot_date::varchar, count(*) from {scan} where {where} group by all order by 1"
        return dict(duckdb.sql(sql).fetchall())

    landed = {day: priced(shared_data, day) for day in ("2025-02-01", "2025-02-04")}
    assert rows("observations") == landed  # ... and the other days landed
    assert rows("quarantine", "failed_check = 'payload'") == {"2025-02-02": 1}  # kept whole, with why


def cdx_rows(base: str, url: str, captures: list[tuple[str, str]]) -> bytes:
    header = ["timestamp", "original", "statuscode", "mimetype", "digest"]
    return json.dumps([header, *([ts, url, status, "application/json", "D"] for ts, status in captures)]).encode()


def test_wayback_lands_the_last_capture_of_each_day_and_reports_a_failed_one(
    shared_data, tmp_path, http_server, monkeypatch
):
    url = "https://openrouter.ai/api/v1/models"
    monkeypatch.setenv("WAYBACK_API_BASE", http_server.base_url)
    captures = [
        ("20250201063000", "200"),
        ("20250201211500", "200"),  # the day's last: it wins
        ("20250201230000", "503"),  # not a 200 capture: ignored
        ("20250202120000", "200"),  # its capture fails
        ("20250204090000", "200"),
    ]
    http_server.add("/cdx/search/cdx", cdx_rows(http_server.base_url, url, captures))
    http_server.add(f"/web/20250201063000id_/{url}", payload(shared_data, "2025-01-20"))
    http_server.add(f"/web/20250201211500id_/{url}", payload(shared_data, "2025-02-01"))
    http_server.add(f"/web/20250204090000id_/{url}", payload(shared_data, "2025-02-04"))
    failing = http_server.add(f"/web/20250202120000id_/{url}", b"gone", status=404)

    lake = Lake(str(tmp_path / "lake"))
    staging = tmp_path / "staging"
    staging.mkdir()
    with dg.instance_for_test() as instance, WaybackHistory(url, HttpClient(max_retries=0)) as history:
        plan, report = stage_import(history, lake, "openrouter", staging)
        assert report.staged == [D1, D4]
        assert list(report.failed) == [D2] and failing in report.failed[D2] and "404" in report.failed[D2]
        assert plan.todo == [D1, D4]
        [result] = run_backfill(plan, staging, lake.root_uri, InProcessRuns(instance))
        assert result.success
        assert lake.days_with_partition(OBSERVATIONS, "openrouter") == {D1, D4}
        _, [raw] = lake.read_raw("openrouter", D1)
        assert raw.url == f"{http_server.base_url}/web/20250201211500id_/{url}"
        assert raw.fetched_at == datetime(2025, 2, 1, 21, 15, tzinfo=UTC)
        assert raw.body == payload(shared_data, "2025-02-01")
        assert f"/web/20250201063000id_/{url}" not in http_server.paths_requested()  # only the day's last

        # resume: the failed day is the only one left, and lands once the capture can be read
        http_server.add(f"/web/20250202120000id_/{url}", payload(shared_data, "2025-02-02"))
        plan, report = stage_import(history, lake, "openrouter", tmp_path / "staging")
        assert plan.todo == [D2] and report.staged == [D2]
        [result] = run_backfill(plan, staging, lake.root_uri, InProcessRuns(instance))
        assert result.success
    assert lake.days_with_partition(OBSERVATIONS, "openrouter") == {D1, D2, D4}


def test_cli_backfill_from_git_lands_then_resumes(shared_data, tmp_path):
    repo = tmp_path / "history"
    repo.mkdir()
    git(repo, "init", "-q")
    commit(repo, "2025-02-01T09:00:00+00:00", {FILE: payload(shared_data, "2025-02-01")})
    commit(repo, "2025-02-02T09:00:00+00:00", {FILE: payload(shared_data, "2025-02-02")})
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PRICE_LAKE_URI")}

    def llmprices(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "pipeline.cli", "backfill", "--source", "openrouter", *args]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)

    done = llmprices("--git", str(repo), "--path", FILE, "--lake", "lake")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 captured day(s), 0 already in the lake, 2 to land in 1 run(s)" in done.stdout
    assert "succeeded" in done.stdout and "FAILED" not in done.stdout
    assert Lake(str(tmp_path / "lake")).days_with_partition(OBSERVATIONS, "openrouter") == {D1, D2}

    commit(repo, "2025-02-04T09:00:00+00:00", {FILE: payload(shared_data, "2025-02-04")})
    again = llmprices("--git", str(repo), "--path", FILE, "--lake", "lake")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "3 captured day(s), 2 already in the lake, 1 to land in 1 run(s)" in again.stdout
    assert Lake(str(tmp_path / "lake")).days_with_partition(OBSERVATIONS, "openrouter") == {D1, D2, D4}

    typo = llmprices("--git", str(repo), "--path", "data/outptu.json", "--lake", "lake")
    assert typo.returncode == 1 and "no captures found" in typo.stderr
    missing_path = llmprices("--git", str(repo), "--lake", "lake")
    assert missing_path.returncode == 2 and "--path" in missing_path.stderr
    not_a_repo = llmprices("--git", str(tmp_path), "--path", FILE, "--lake", "lake")
    assert not_a_repo.returncode == 2 and "not a git repository" in not_a_repo.stderr.lower()


def test_cli_backfill_from_the_wayback_machine_reports_a_failed_capture(shared_data, tmp_path, http_server):
    url = "https://openrouter.ai/api/v1/models"
    captures = [("20250201211500", "200"), ("20250202120000", "200")]
    http_server.add("/cdx/search/cdx", cdx_rows(http_server.base_url, url, captures))
    http_server.add(f"/web/20250201211500id_/{url}", payload(shared_data, "2025-02-01"))
    http_server.add(f"/web/20250202120000id_/{url}", b"gone", status=404)
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PRICE_LAKE_URI")}
    env["WAYBACK_API_BASE"] = http_server.base_url
    command = [sys.executable, "-m", "pipeline.cli", "backfill", "--source", "openrouter", "--wayback", url]
    done = subprocess.run(
        [*command, "--lake", "lake"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 1, done.stdout + done.stderr  # a capture is missing ...
    assert "2025-02-02: capture not fetched, left for the next run" in done.stderr and "404" in done.stderr
    assert "succeeded" in done.stdout  # ... the other day's run went through
    assert Lake(str(tmp_path / "lake")).days_with_partition(OBSERVATIONS, "openrouter") == {D1}
    assert any(path.startswith("/cdx/search/cdx?url=") for path in http_server.paths_requested())


@pytest.mark.parametrize("path", ["prices/data.yaml", "bin/tool"])
def test_git_history_refuses_files_the_archive_cannot_read(tmp_path, path):
    with pytest.raises(ValueError, match="can be imported"):
        GitHistory(tmp_path, path)
