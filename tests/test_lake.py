"""The lake on a local folder, on fsspec's memory://, and on an S3-compatible server on 127.0.0.1 (moto, found
through the AWS_* variables as a real store is): the same code, the same results."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa
import pytest

from llmprices.lake.store import CompactionManifest, Lake
from llmprices.lake.tables import COMPACTED_OBSERVATIONS, OBSERVATIONS, SPREADS
from llmprices.payloads import RawPayload


@pytest.fixture(params=["local", "memory", "s3"])
def lake(request, tmp_path) -> Lake:
    if request.param == "s3":
        return Lake(f"s3://{request.getfixturevalue('s3_env').bucket}/lake-{uuid.uuid4().hex}")
    return Lake(str(tmp_path / "lake") if request.param == "local" else f"memory://lake-{uuid.uuid4().hex}")


def test_a_partition_is_replaced_whole_and_its_neighbours_are_untouched(lake):
    first, second = (
        OBSERVATIONS.partition(snapshot_date=date(2025, 1, 1), source="openrouter"),
        OBSERVATIONS.partition(snapshot_date=date(2025, 1, 2), source="openrouter"),
    )
    lake.write_partition(OBSERVATIONS, first, pa.table({"price": [1.0, 2.0, 3.0]}))
    lake.write_partition(OBSERVATIONS, second, pa.table({"price": [9.0]}))
    lake.write_partition(OBSERVATIONS, first, pa.table({"price": [4.0]}))

    assert lake.read_partition(OBSERVATIONS, first).column("price").to_pylist() == [4.0]
    assert lake.read_partition(OBSERVATIONS, second).column("price").to_pylist() == [9.0]
    assert lake.row_count(OBSERVATIONS, first) == 1
    assert lake.days_with_partition(OBSERVATIONS, "openrouter") == {date(2025, 1, 1), date(2025, 1, 2)}
    assert (
        lake.read_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=date(2025, 1, 1), source="litellm"))
        is None
    )


def test_raw_payloads_come_back_byte_for_byte_with_their_manifest(lake):
    fetched_at = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
    payloads = [
        RawPayload("models.json", "https://example.org/api/v1/models", 200, fetched_at, b'{"data": []}'),
        RawPayload("endpoints/meta-llama/llama-3.1-8b.json", "https://example.org/e", 200, fetched_at, b"\x00\xffbin"),
    ]
    lake.write_raw("openrouter_endpoints", date(2025, 1, 1), payloads)
    manifest, read = lake.read_raw("openrouter_endpoints", date(2025, 1, 1))
    assert [p.body for p in read] == [p.body for p in payloads]
    assert [e["sha256"] for e in manifest.payloads] == [p.sha256 for p in payloads]
    assert manifest.payloads[1]["bytes"] == 5 and read[0].fetched_at == fetched_at

    lake.write_raw("openrouter_endpoints", date(2025, 1, 1), payloads[:1])  # re-fetch: replaced
    assert [p.name for p in lake.read_raw("openrouter_endpoints", date(2025, 1, 1))[1]] == ["models.json"]


def test_payload_names_cannot_escape_their_partition(lake):
    evil = RawPayload("../../observations/x.json", "u", 200, datetime.now(UTC), b"{}")
    with pytest.raises(ValueError, match="unsafe payload name"):
        lake.write_raw("openrouter", date(2025, 1, 1), [evil])


def test_a_compaction_manifest_round_trips_at_its_fixed_path_and_a_missing_one_means_not_compacted(lake):
    version, superseded, at = "20250301T090000Z-0123abcd.parquet", "20250201T090000Z-4567cdef.parquet", "2025-03-01"
    months = {"2025-01": {"snapshot_date=2025-01-31/source=openrouter/part-0.parquet": [1234, 1738310400000000000]}}
    manifest = CompactionManifest("2025", version, 42, at, months, {superseded: at})
    assert lake.read_compaction_manifest("2025") is None and lake.compaction_manifests() == []

    lake.write_compaction_manifest(manifest)
    lake.fs.create_dir(lake.compacted_dir("2026"))  # a year whose first compaction has not switched yet
    assert lake.read_compaction_manifest("2025") == manifest
    assert lake.compaction_manifests() == [manifest]
    with lake.fs.open_input_stream(f"{lake.path(COMPACTED_OBSERVATIONS)}/year=2025/manifest.json") as stream:
        on_disk = stream.read()  # the format existing lakes hold: every field, keys sorted
    expected = {"compacted_at": at, "file": version, "months": months, "retired": {superseded: at}, "rows": 42}
    assert on_disk == json.dumps(expected | {"year": "2025"}, indent=1, sort_keys=True).encode()


def test_a_range_of_days_is_written_a_partition_per_day_an_empty_one_too(lake):
    days = [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)]
    rows = pd.DataFrame(
        {"snapshot_date": [days[2], days[0], days[2]], "model": ["c", "a", "d"], "n_providers": [3, 1, 4]}
    )
    rows = rows.reindex(columns=["snapshot_date", *SPREADS.schema.names])  # the other columns null
    by_day = SPREADS.from_frame_by_day(rows, days)
    assert {day: table["model"].to_pylist() for day, table in by_day.items()} == {
        days[0]: ["a"], days[1]: [], days[2]: ["c", "d"]
    }  # fmt: skip
    assert all(table.schema == SPREADS.schema for table in by_day.values())
    lake.write_partitions(SPREADS, {SPREADS.partition(snapshot_date=day): table for day, table in by_day.items()})
    assert [lake.row_count(SPREADS, SPREADS.partition(snapshot_date=day)) for day in days] == [1, 0, 2]
