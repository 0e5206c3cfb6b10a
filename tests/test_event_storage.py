"""The batching event log records exactly what Dagster's sqlite one does, in fewer transactions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
from dagster_shared.check import CheckError

from assets.ingest import observations_asset_key, raw_asset_key
from pipeline.backfill import plan_backfill, run_backfill
from pipeline.event_storage import BatchingSqliteEventLogStorage
from pipeline.lake import Lake

DEMO_OPENROUTER = Path(__file__).resolve().parent.parent / "pipeline" / "demo_data" / "openrouter"
KEYS = [raw_asset_key("openrouter"), observations_asset_key("openrouter")]


def batching_instance(tmp_path: Path):
    storage = {
        "module": "pipeline.event_storage",
        "class": "BatchingSqliteEventLogStorage",
        "config": {"base_dir": str(tmp_path / "events")},
    }
    return dg.instance_for_test(overrides={"event_log_storage": storage})


def backfill_demo_days(instance: dg.DagsterInstance, lake_dir: Path) -> dg.ExecuteInProcessResult:
    lake = Lake(str(lake_dir))
    [result] = run_backfill(
        plan_backfill(lake, "openrouter", DEMO_OPENROUTER), DEMO_OPENROUTER, lake.root_uri, instance
    )
    assert result.success
    return result


def event_types(events) -> Counter:
    return Counter(e.dagster_event.event_type_value for e in events if e.dagster_event)


def recorded(instance: dg.DagsterInstance, run_id: str) -> dict:
    """What a user sees of a run in the instance: materialized days, their metadata, every event type."""
    seen = {"events": event_types(instance.all_logs(run_id))}
    for key in KEYS:
        records = instance.fetch_materializations(key, limit=100).records
        seen[key.to_user_string()] = {
            "partitions": instance.get_materialized_partitions(key),
            "latest": instance.get_latest_materialization_event(key).dagster_event.partition,
            "metadata": sorted((r.partition_key, sorted(r.asset_materialization.metadata)) for r in records),
        }
    return seen


def test_a_range_run_records_the_same_as_dagsters_sqlite_log_in_batches(tmp_path):
    with dg.instance_for_test() as plain:
        expected = recorded(plain, backfill_demo_days(plain, tmp_path / "plain").run_id)
    with batching_instance(tmp_path) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, BatchingSqliteEventLogStorage)
        batches = []
        store_batch = storage.store_event_batch
        storage.store_event_batch = lambda events: (batches.append(event_types(events)), store_batch(events))
        got = recorded(instance, backfill_demo_days(instance, tmp_path / "batched").run_id)

    assert got == expected
    assert expected["observations/openrouter"]["partitions"] == {"2025-01-13", "2025-01-14", "2025-01-15"}
    assert expected["observations/openrouter"]["latest"] == "2025-01-15"
    # the three days of each asset handed over as one batch (the run's planned events came as one too)
    assert [b for b in batches if "ASSET_MATERIALIZATION" in b] == [{"ASSET_MATERIALIZATION": 3}] * 2


def test_a_batch_that_fails_is_rolled_back_whole(tmp_path):
    with dg.instance_for_test() as plain:
        run_id = backfill_demo_days(plain, tmp_path / "lake").run_id
        materializations = [
            e for e in plain.all_logs(run_id) if e.dagster_event and e.dagster_event.is_step_materialization
        ]
    storage = BatchingSqliteEventLogStorage(str(tmp_path / "events"))

    with pytest.raises(CheckError, match="not a EventLogEntry"):
        storage.store_event_batch([*materializations, "not an event"])
    assert storage.get_materialized_partitions(KEYS[0]) == set()
    assert storage.get_logs_for_run(run_id) == []

    storage.store_event_batch(materializations)
    assert storage.get_materialized_partitions(KEYS[0]) == {"2025-01-13", "2025-01-14", "2025-01-15"}
    assert len(storage.get_logs_for_run(run_id)) == len(materializations)
