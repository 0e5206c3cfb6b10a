"""Real Dagster runs of the ingest assets: live fetch over HTTP on 127.0.0.1, archives, the lake read back by DuckDB."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.keys import observations_asset_key
from assets.sources.freshness import FRESH_WITHIN_36H
from expectations.checks import OUTPUT_INPUT_RATIO, ROW_COUNT_VS_PREVIOUS, SCHEMA_AND_KEYS
from llmprices.lake.store import Lake
from llmprices.sources import ALL_SOURCES
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest


def today() -> date:
    """Today in UTC when asked, not when the module was imported: a suite may run across midnight."""
    return datetime.now(UTC).date()


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def openrouter_payload(shared_data: Path, day: str) -> bytes:
    return gzip.decompress((shared_data / "openrouter-models" / f"{day}.json.gz").read_bytes())


def query(lake_dir: Path, table: str, sql: str):
    scan = f"read_parquet('{lake_dir}/{table}/**/*.parquet', hive_partitioning = true)"
    return duckdb.sql(sql.replace("{table}", scan)).df()


def live_openrouter(http_server, body: bytes, lake_dir: Path, instance, day: date | None = None):
    http_server.add("/api/v1/models", body)
    day = day or today()
    request = IngestRequest(
        ["openrouter"],
        day,
        day,
        lake_uri=str(lake_dir),
        resource_config={"openrouter_source": {"api_base": f"{http_server.base_url}/api/v1"}},
    )
    return run_ingest(request, InProcessRuns(instance))


def test_definitions_load_with_two_assets_and_the_quality_checks_per_source():
    from pipeline.definitions import defs

    dg.Definitions.validate_loadable(defs)  # as the code server loads them for the UI

    repository = defs.get_repository_def()
    keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    for spec in ALL_SOURCES:
        assert {f"raw/{spec.name}", f"observations/{spec.name}"} <= keys
        checks = {c.name for c in repository.asset_graph.get_check_keys_for_assets({observations_asset_key(spec.name)})}
        freshness = {FRESH_WITHIN_36H} if spec.live else set()
        assert checks == {SCHEMA_AND_KEYS, ROW_COUNT_VS_PREVIOUS, OUTPUT_INPUT_RATIO} | freshness


def test_live_openrouter_day_lands_exact_prices_and_quarantines_dynamic_ones(
    shared_data, http_server, tmp_path, instance
):
    body = openrouter_payload(shared_data, "2025-12-31")
    models = json.loads(body)["data"]
    result = live_openrouter(http_server, body, tmp_path, instance)
    assert result.success
    assert [p for p, _ in http_server.requests] == ["/api/v1/models"]
    assert "llm-price-observatory" in http_server.requests[0][1]["User-Agent"]

    rows = query(tmp_path, "observations", "select * from {table}")
    priced = [m for m in models if m["pricing"]["prompt"] != "-1" and m["pricing"]["completion"] != "-1"]
    assert len(rows) == len(priced) == 351
    assert set(rows["snapshot_date"].astype(str)) == {today().isoformat()}
    by_id = rows.set_index("provider_model_id")
    for model in priced:
        row = by_id.loc[model["id"]]
        assert row["input_usd_per_mtok"] == float(Decimal(model["pricing"]["prompt"]) * 10**6)
        assert row["output_usd_per_mtok"] == float(Decimal(model["pricing"]["completion"]) * 10**6)
    assert by_id.loc["bytedance-seed/seed-1.6-flash", "input_usd_per_mtok"] == 0.075
    assert by_id.loc["bytedance-seed/seed-1.6-flash", "blended_usd_per_mtok"] == pytest.approx((3 * 0.075 + 0.3) / 4)
    free = rows[rows["is_free"]]
    assert len(free) == 35 and (free["blended_usd_per_mtok"] == 0).all()

    quarantined = query(tmp_path, "quarantine", "select * from {table}")
    assert sorted(quarantined["provider_model_id"]) == sorted(m["id"] for m in models if m not in priced)
    assert all("-1 marks a dynamic/variable price" in reason for reason in quarantined["reason"])
    assert json.loads(quarantined["record"][0])["pricing"]["prompt"] == "-1"

    manifest = Lake(str(tmp_path)).read_raw_manifest("openrouter", today())
    [entry] = manifest.payloads
    assert entry["url"] == f"{http_server.base_url}/api/v1/models" and entry["http_status"] == 200
    assert entry["bytes"] == len(body)
    assert rows["raw_sha256"].unique().tolist() == [entry["sha256"]]
    stored = tmp_path / "raw" / "source=openrouter" / f"snapshot_date={today()}" / entry["file"]
    assert stored.read_bytes() == body

    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks[SCHEMA_AND_KEYS].passed and checks[ROW_COUNT_VS_PREVIOUS].passed


def test_rematerializing_a_day_replaces_only_that_partition(shared_data, http_server, tmp_path, instance):
    yesterday_dir = tmp_path / "captures"
    yesterday_dir.mkdir()
    yesterday = today() - timedelta(days=1)
    (yesterday_dir / f"{yesterday}.json").write_bytes(openrouter_payload(shared_data, "2025-12-30"))
    archived = run_ingest(
        IngestRequest(
            ["openrouter"],
            yesterday,
            yesterday,
            lake_uri=str(tmp_path / "lake"),
            archive_dirs={"openrouter": str(yesterday_dir)},
        ),
        InProcessRuns(instance),
    )
    assert archived.success

    full = json.loads(openrouter_payload(shared_data, "2025-12-31"))
    assert live_openrouter(http_server, json.dumps(full).encode(), tmp_path / "lake", instance).success
    fewer = {"data": full["data"][:300]}  # within +-50%: the check passes, the partition is replaced
    assert live_openrouter(http_server, json.dumps(fewer).encode(), tmp_path / "lake", instance).success

    counts = query(
        tmp_path / "lake", "observations", "select snapshot_date, count(*) as n from {table} group by all order by 1"
    )
    expected_yesterday = sum(
        1 for m in json.loads(openrouter_payload(shared_data, "2025-12-30"))["data"] if m["pricing"]["prompt"] != "-1"
    )
    assert counts["n"].tolist() == [expected_yesterday, sum(1 for m in fewer["data"] if m["pricing"]["prompt"] != "-1")]
    files = sorted(
        p.name for p in (tmp_path / "lake" / "observations" / f"snapshot_date={today()}").rglob("*") if p.is_file()
    )
    assert files == ["part-0.parquet"]


def test_a_parser_that_suddenly_yields_few_rows_fails_the_blocking_row_count_check(tmp_path, instance):
    captures = tmp_path / "captures"
    captures.mkdir()
    models = json.loads((Path(__file__).parent.parent / "pipeline/demo_data/openrouter/2025-01-13.json").read_text())
    (captures / "2025-01-13.json").write_text(json.dumps(models))
    (captures / "2025-01-14.json").write_text(json.dumps({"data": models["data"][:4]}))
    request = IngestRequest(
        ["openrouter"],
        date(2025, 1, 13),
        date(2025, 1, 14),
        lake_uri=str(tmp_path / "lake"),
        archive_dirs={"openrouter": str(captures)},
    )
    result = run_ingest(request, InProcessRuns(instance))
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    failed = checks[ROW_COUNT_VS_PREVIOUS]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert "2025-01-14" in failed.description and failed.metadata["failing_dates"].value == ["2025-01-14"]
    assert checks[SCHEMA_AND_KEYS].passed
    days = metadata_by_day(instance, observations_asset_key("openrouter"))  # each day says how its checks went
    assert days["2025-01-14"]["check/row_count_vs_previous"] == "failed"
    assert days["2025-01-13"]["check/row_count_vs_previous"] == "passed"
    assert days["2025-01-14"]["previous_partition_rows"] == days["2025-01-13"]["dagster/row_count"] == 14
    assert days["2025-01-14"]["check/schema_and_keys"] == "passed"


def metadata_by_day(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, dict]:
    """The latest materialization of each partition of `key`: its metadata, as the UI shows a partition."""
    records = instance.fetch_materializations(key, limit=1000).records  # newest first
    by_day: dict[str, dict] = {}
    for record in records:
        metadata = record.asset_materialization.metadata
        by_day.setdefault(record.partition_key, {k: v.value for k, v in metadata.items()})
    return by_day


def test_each_day_of_a_ranged_ingest_carries_its_own_counts(tmp_path, instance):
    demo = Path(__file__).parent.parent / "pipeline/demo_data/openrouter"
    captures = tmp_path / "captures"
    captures.mkdir()
    for day in ("2025-01-13", "2025-01-15"):  # the 14th has no capture: the run bridges it
        (captures / f"{day}.json").write_bytes((demo / f"{day}.json").read_bytes())
    request = IngestRequest(["openrouter"], date(2025, 1, 13), date(2025, 1, 15), str(tmp_path / "lake"),
                            {"openrouter": str(captures)})  # fmt: skip
    assert run_ingest(request, InProcessRuns(instance)).success

    rows = query(
        tmp_path / "lake", "observations", "select snapshot_date::varchar d, count(*) n from {table} group by 1"
    )
    quarantined = query(tmp_path / "lake", "quarantine", "select snapshot_date::varchar d, reason from {table}")
    days = metadata_by_day(instance, observations_asset_key("openrouter"))
    assert sorted(days) == ["2025-01-13", "2025-01-14", "2025-01-15"]
    assert {d: days[d]["dagster/row_count"] for d in ("2025-01-13", "2025-01-15")} == dict(rows.values.tolist())
    assert days["2025-01-13"]["dagster/row_count"] != days["2025-01-15"]["dagster/row_count"]  # 14 and 15 rows
    for day in ("2025-01-13", "2025-01-15"):
        reasons = quarantined[quarantined["d"] == day]["reason"]
        assert days[day]["quarantined_rows"] == len(reasons) == 1
        assert reasons.iloc[0] in days[day]["quarantine_reasons"]
        assert days[day]["run_days"] == 2 and days[day]["check/schema_and_keys"] == "passed"
    assert "dagster/row_count" not in days["2025-01-14"]  # nothing landed that day, and it says so
    assert days["2025-01-14"]["raw_payloads"].startswith("none, bridged by the run")

    raw = metadata_by_day(instance, dg.AssetKey(["raw", "openrouter"]))
    assert raw["2025-01-15"]["bytes"] == (demo / "2025-01-15.json").stat().st_size
    assert raw["2025-01-14"]["capture"].startswith("none, bridged by the run: no capture for 2025-01-14")


def test_a_past_day_is_not_fetched_live(http_server, tmp_path, instance):
    result = live_openrouter(http_server, b'{"data": []}', tmp_path, instance, day=date(2025, 1, 1))
    assert not result.success
    assert http_server.requests == []
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "would label today's prices with a past date" in failure.step_failure_data.error.message


def test_a_source_serving_garbage_fails_alone_and_loses_nothing(shared_data, http_server, tmp_path, instance):
    garbage = b"<html><body>502 Bad Gateway (cached)</body></html>"
    http_server.add("/api/v1/models", garbage)
    http_server.add_file("/hf/models", shared_data / "samples" / "huggingface_models.json")
    request = IngestRequest(
        ["openrouter", "huggingface"], today(), today(), lake_uri=str(tmp_path),
        resource_config={
            "openrouter_source": {"api_base": f"{http_server.base_url}/api/v1"},
            "huggingface_source": {"api_base": f"{http_server.base_url}/hf"},
        },
    )  # fmt: skip
    result = run_ingest(request, InProcessRuns(instance))
    assert not result.success

    failed_steps = [e.step_key for e in result.all_events if e.is_step_failure]
    assert failed_steps == ["observations__openrouter"]
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "1 payload(s) could not be read" in failure.step_failure_data.error.message

    landed = query(tmp_path, "observations", "select source, count(*) as n from {table} group by all")
    assert landed.set_index("source")["n"].to_dict() == {"huggingface": 6}
    _, [kept] = Lake(str(tmp_path)).read_raw("openrouter", today())
    assert kept.name == "models.json" and kept.body == garbage
    quarantined = query(tmp_path, "quarantine", "select * from {table} where source = 'openrouter'")
    assert quarantined["failed_check"].tolist() == ["payload"]
    assert quarantined["reason"][0].startswith("models.json is not JSON")
    assert quarantined["record"][0] == json.dumps(garbage.decode())
