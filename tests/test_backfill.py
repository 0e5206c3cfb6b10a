"""Backfills from a folder of real captures: one run over the range, resumable, gaps reported."""

from __future__ import annotations

import gzip
import json
from datetime import date

import dagster as dg
import duckdb
import pyarrow as pa

from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from pipeline.backfill import plan_backfill, run_backfill
from pipeline.runner import InProcessRuns

DAYS = ["2025-02-01", "2025-02-02", "2025-02-04", "2025-02-05"]  # the 3rd has no capture


def captures(shared_data, tmp_path, days):
    folder = tmp_path / "captures"
    folder.mkdir(exist_ok=True)
    for day in days:
        (folder / f"{day}.json.gz").symlink_to(shared_data / "openrouter-models" / f"{day}.json.gz")
    return folder


def models_priced(shared_data, day: str) -> int:
    models = json.loads(gzip.decompress((shared_data / "openrouter-models" / f"{day}.json.gz").read_bytes()))["data"]
    return sum(1 for m in models if m["pricing"]["prompt"] != "-1" and m["pricing"]["completion"] != "-1")


def landed(lake_dir) -> dict[str, int]:
    rows = duckdb.sql(
        f"select snapshot_date::varchar as d, count(*) as n from read_parquet('{lake_dir}/observations/**/*.parquet', "
        "hive_partitioning=true) group by all order by 1"
    ).fetchall()
    return dict(rows)


def test_backfill_is_one_run_over_gaps_then_resumes_only_new_days(shared_data, tmp_path):
    folder = captures(shared_data, tmp_path, DAYS[:3])
    lake = Lake(str(tmp_path / "lake"))
    plan = plan_backfill(lake, "openrouter", folder)
    assert plan.spans == [(date(2025, 2, 1), date(2025, 2, 4))]
    progress = []
    with dg.instance_for_test() as instance:
        [result] = run_backfill(plan, folder, lake.root_uri, InProcessRuns(instance), progress.append)
        assert result.success
        assert landed(tmp_path / "lake") == {d: models_priced(shared_data, d) for d in DAYS[:3]}
        assert progress[-1] == 3

        captures(shared_data, tmp_path, DAYS[3:])
        resumed = plan_backfill(lake, "openrouter", folder)
        assert resumed.todo == [date(2025, 2, 5)] and resumed.spans == [(date(2025, 2, 5), date(2025, 2, 5))]
        run_backfill(resumed, folder, lake.root_uri, InProcessRuns(instance))
        assert landed(tmp_path / "lake") == {d: models_priced(shared_data, d) for d in DAYS}

        forced = plan_backfill(lake, "openrouter", folder, force=True)
        assert forced.todo == [date.fromisoformat(d) for d in DAYS] and len(forced.spans) == 1


def test_resume_splits_around_days_already_landed(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    folder = tmp_path / "captures"
    folder.mkdir()
    for day in ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"]:
        (folder / f"{day}.json").write_text('{"data": []}')
    lake.write_partition(
        OBSERVATIONS, OBSERVATIONS.partition(snapshot_date="2025-03-02", source="openrouter"), pa.table({"x": [1]})
    )
    plan = plan_backfill(lake, "openrouter", folder)
    assert plan.spans == [(date(2025, 3, 1), date(2025, 3, 1)), (date(2025, 3, 3), date(2025, 3, 4))]
