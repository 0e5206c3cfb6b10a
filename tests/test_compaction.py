"""Compaction of observations and the query layer over it: the same rows as the daily files, stale months
served from their daily files, and readers that see the old or the new files while compactions swap."""

from __future__ import annotations

import gzip
import json
import shutil
import threading
import time
from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest

from assets.warehouse.assets import compacted_observations
from llmprices.lake.compaction import COMPACTED_SCHEMA, compact_months, plan_reads
from llmprices.lake.query import connect
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from pipeline.resources import LakeResource
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest

DAYS = [date(2025, 1, 30), date(2025, 1, 31), date(2025, 2, 1), date(2025, 2, 2)]
REWRITTEN = date(2025, 1, 31)


@pytest.fixture(scope="module")
def landed(shared_data, tmp_path_factory):
    """Four real OpenRouter days over a month boundary, landed by one real run (copied for each test)."""
    root = tmp_path_factory.mktemp("landed")
    captures = root / "captures"
    captures.mkdir()
    for day in DAYS:
        (captures / f"{day}.json.gz").symlink_to(shared_data / "openrouter-models" / f"{day}.json.gz")
    request = IngestRequest(
        ["openrouter"], DAYS[0], DAYS[-1], lake_uri=str(root / "lake"), archive_dirs={"openrouter": str(captures)}
    )
    with dg.instance_for_test() as instance:
        assert run_ingest(request, InProcessRuns(instance)).success
    return root


@pytest.fixture
def lake_dir(landed, tmp_path):
    shutil.copytree(landed / "lake", tmp_path / "lake")
    return tmp_path / "lake"


def daily_rows(lake_dir):
    """Every observation as users read the daily files, in the query layer's column order."""
    scan = (
        f"read_parquet('{lake_dir}/observations/**/*.parquet', hive_partitioning = true, "
        "hive_types = {'snapshot_date': DATE, 'source': VARCHAR})"
    )
    return duckdb.sql(f"select {', '.join(COMPACTED_SCHEMA.names)} from {scan} order by all").to_arrow_table()


def layer_rows(lake_dir):
    return connect(str(lake_dir)).sql("select * from observations order by all").to_arrow_table()


def counts_by_day(lake_dir) -> dict[str, int]:
    con = connect(str(lake_dir))
    return dict(con.execute("select snapshot_date::varchar, count(*) from observations group by 1").fetchall())


def materialize_compaction(lake_dir, first_month: str, last_month: str | None = None) -> dict:
    partition = (
        {"partition_key": f"{first_month}-01"}
        if last_month is None
        else {
            "tags": {
                "dagster/asset_partition_range_start": f"{first_month}-01",
                "dagster/asset_partition_range_end": f"{last_month}-01",
            }
        }
    )
    result = dg.materialize(
        [compacted_observations], resources={"lake": LakeResource(root_uri=str(lake_dir))}, **partition
    )
    assert result.success
    return result.asset_materializations_for_node(compacted_observations.op.name)[0].metadata


def versions(lake_dir) -> list[str]:
    return sorted(p.name for p in (lake_dir / "compacted" / "observations" / "year=2025").glob("*.parquet"))


def test_compacted_months_read_exactly_like_the_daily_files(lake_dir):
    lake = Lake(str(lake_dir))
    expected = daily_rows(lake_dir)
    assert expected.num_rows > 800

    metadata = materialize_compaction(lake_dir, "2025-01")
    plan = plan_reads(lake)
    assert plan.compacted_months == ["2025-01"] and plan.stale_months == []
    assert [p.rsplit("/", 3)[1] for p in plan.daily] == ["snapshot_date=2025-02-01", "snapshot_date=2025-02-02"]
    january = sum(n for day, n in counts_by_day(lake_dir).items() if day.startswith("2025-01"))
    assert metadata["dagster/row_count"].value == january
    assert layer_rows(lake_dir).equals(expected)

    materialize_compaction(lake_dir, "2025-01", "2025-02")  # a ranged run: one new version of the year
    plan = plan_reads(lake)
    assert plan.compacted_months == ["2025-01", "2025-02"] and plan.daily == [] and len(plan.compacted) == 1
    assert layer_rows(lake_dir).equals(expected)
    assert len(versions(lake_dir)) == 2  # the superseded version is kept for readers during GRACE

    [done] = compact_months(lake, ["2025-02"], grace=timedelta(0))
    assert done.months == ["2025-01", "2025-02"] and done.refreshed == ["2025-02"]  # January carried over
    assert done.deleted_versions == 2 and versions(lake_dir) == [done.path.rsplit("/", 1)[1]]
    assert layer_rows(lake_dir).equals(expected)


def test_a_rematerialized_day_makes_its_month_stale_until_it_is_compacted_again(landed, lake_dir, tmp_path):
    lake = Lake(str(lake_dir))
    compact_months(lake, ["2025-01", "2025-02"])
    models = json.loads(gzip.decompress((landed / "captures" / f"{REWRITTEN}.json.gz").read_bytes()))["data"]
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    (fewer / f"{REWRITTEN}.json").write_text(json.dumps({"data": models[:300]}))
    request = IngestRequest(
        ["openrouter"], REWRITTEN, REWRITTEN, lake_uri=str(lake_dir), archive_dirs={"openrouter": str(fewer)}
    )
    with dg.instance_for_test() as instance:
        assert run_ingest(request, InProcessRuns(instance)).success

    plan = plan_reads(lake)
    assert plan.stale_months == ["2025-01"] and plan.compacted_months == ["2025-02"]
    assert plan.partly_fresh == {f"{lake.compacted_dir('2025')}/{versions(lake_dir)[-1]}": ["2025-02"]}
    assert len(plan.daily) == 2  # January's two days, from the daily files
    priced = sum(1 for m in models[:300] if "-1" not in (m["pricing"]["prompt"], m["pricing"]["completion"]))
    assert counts_by_day(lake_dir)[str(REWRITTEN)] == priced < 300
    assert layer_rows(lake_dir).equals(daily_rows(lake_dir))

    metadata = materialize_compaction(lake_dir, "2025-01")
    [row] = metadata["years"].value.splitlines()
    assert row.startswith("- **2025**: months 2025-01, 2025-02; refreshed from daily files 2025-01;")  # January
    # re-read, February carried over
    assert metadata["stale_months"].value == "none"
    assert plan_reads(lake).compacted_months == ["2025-01", "2025-02"]
    assert counts_by_day(lake_dir)[str(REWRITTEN)] == priced
    assert layer_rows(lake_dir).equals(daily_rows(lake_dir))


def test_readers_see_the_old_or_the_new_files_while_compactions_swap(lake_dir):
    lake = Lake(str(lake_dir))
    old_total = sum(counts_by_day(lake_dir).values())
    partition = OBSERVATIONS.partition(snapshot_date=REWRITTEN, source="openrouter")
    day = lake.read_partition(OBSERVATIONS, partition)
    new_total = old_total - day.num_rows + day.num_rows // 2

    seen: list[tuple[int, int]] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                seen.extend(connect(str(lake_dir)).execute(
                    "select count(*), count(distinct snapshot_date) from observations"
                ).fetchall())  # fmt: skip
            except Exception as exc:  # reported by the main thread
                errors.append(exc)
                return

    def after_reads(step):
        target = len(seen) + 2  # let the reader plan and query around each swap
        step()
        for _ in range(600):
            if len(seen) >= target or errors:
                return
            time.sleep(0.05)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        after_reads(lambda: None)
        after_reads(lambda: compact_months(lake, ["2025-01"]))  # daily files -> compacted January
        after_reads(lambda: compact_months(lake, ["2025-01", "2025-02"]))  # -> a version with both months
        after_reads(lambda: lake.write_partition(OBSERVATIONS, partition, day.slice(0, day.num_rows // 2)))
        for months in (["2025-01"], ["2025-02"], ["2025-01", "2025-02"], ["2025-02"]):
            after_reads(lambda months=months: compact_months(lake, months))  # version -> version
    finally:
        stop.set()
        thread.join()

    assert errors == []
    assert {days for _, days in seen} == {len(DAYS)}
    totals = [total for total, _ in seen]
    assert set(totals) == {old_total, new_total}  # never both a month's versions or daily files, nor neither
    first_new = totals.index(new_total)
    assert set(totals[first_new:]) == {new_total}  # and never the old rows once the new ones were seen
    assert plan_reads(lake).compacted_months == ["2025-01", "2025-02"]


def test_a_connection_keeps_reading_a_superseded_version_during_the_grace_period(lake_dir):
    lake = Lake(str(lake_dir))
    compact_months(lake, ["2025-01", "2025-02"])
    before = connect(str(lake_dir))
    total = before.execute("select count(*) from observations").fetchall()
    compact_months(lake, ["2025-01"])
    assert before.execute("select count(*) from observations").fetchall() == total
    compact_months(lake, ["2025-01"], grace=timedelta(0))  # what the grace period protects it from
    with pytest.raises(duckdb.IOException):
        before.execute("select count(*) from observations").fetchall()
    assert connect(str(lake_dir)).execute("select count(*) from observations").fetchall() == total


def test_the_query_layer_reads_an_fsspec_lake(lake_dir):
    local, remote = Lake(str(lake_dir)), Lake("memory://compaction-test-lake")
    for day in DAYS:
        partition = OBSERVATIONS.partition(snapshot_date=day, source="openrouter")
        remote.write_partition(OBSERVATIONS, partition, local.read_partition(OBSERVATIONS, partition))
    compact_months(remote, ["2025-01"])
    assert plan_reads(remote).compacted_months == ["2025-01"]
    assert (
        connect(remote.root_uri)
        .sql("select * from observations order by all")
        .to_arrow_table()
        .equals(daily_rows(lake_dir))
    )
