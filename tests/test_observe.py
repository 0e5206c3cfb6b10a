"""`land_days` on a lake with real raw payloads: a range parsed in workers, partitions written per day."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from assets.sources.landing import land_days
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS, QUARANTINE
from llmprices.observations.normalize import observations_frame
from llmprices.observations.parse import PARALLEL_FROM_DAYS, parse_days, parse_stored_days
from llmprices.payloads import RawPayload
from llmprices.sources.archive import read_archive_day

SOURCE = "openrouter"


@pytest.fixture
def captured_days(shared_data) -> list[date]:
    """The first captured days of the OpenRouter archive, enough for a range parsed in workers."""
    files = sorted((shared_data / "openrouter-models").glob("*.json.gz"))[: PARALLEL_FROM_DAYS + 4]
    return [date.fromisoformat(f.name.removesuffix(".json.gz")) for f in files]


def lake_with_raw(shared_data, tmp_path, days: list[date]) -> Lake:
    lake = Lake(str(tmp_path / "lake"))
    for day in days:
        lake.write_raw(SOURCE, day, read_archive_day(shared_data / "openrouter-models", day, "models.json"))
    return lake


def models_payload(day: date, models: list[dict]) -> RawPayload:
    fetched_at = pd.Timestamp(day, tz="UTC").to_pydatetime()
    return RawPayload(
        "models.json", "https://openrouter.ai/api/v1/models", 200, fetched_at, json.dumps({"data": models}).encode()
    )


def model(model_id: str, prompt: str = "0.000001") -> dict:
    return {"id": model_id, "pricing": {"prompt": prompt, "completion": "0.000002"}}


def rows_of(frame: pd.DataFrame, day: date, columns: list[str]) -> pd.DataFrame:
    return frame[frame["snapshot_date"] == day][columns].reset_index(drop=True)


def test_a_range_parsed_in_workers_gives_the_rows_of_a_parse_in_process(shared_data, tmp_path, captured_days):
    lake = lake_with_raw(shared_data, tmp_path, captured_days)
    gap = captured_days[-1] + timedelta(days=1)

    in_workers = parse_days(lake, SOURCE, [*captured_days, gap])
    in_process = parse_stored_days(lake.root_uri, SOURCE, [*captured_days, gap])

    assert in_workers.observations.equals(in_process.observations)
    assert in_workers.rejected.equals(in_process.rejected)
    assert in_workers.days == in_process.days == captured_days
    assert (
        in_workers.missing_days
        == in_process.missing_days
        == [f"{gap}: no raw payload (materialize raw/{SOURCE} for it)"]
    )
    assert in_workers.payloads == in_process.payloads == len(captured_days)


def test_each_day_of_a_range_gets_exactly_its_own_rows(shared_data, tmp_path, captured_days):
    lake = lake_with_raw(shared_data, tmp_path, captured_days)

    landed = land_days(lake, SOURCE, captured_days)

    assert landed.day_counts.index.tolist() == captured_days
    for day in captured_days:
        written = lake.read_partition(
            OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source=SOURCE)
        ).to_pandas()
        expected = rows_of(landed.observations, day, OBSERVATIONS.schema.names)
        pd.testing.assert_frame_equal(written, expected, check_dtype=False)
        assert len(written) == landed.day_counts[day] > 0
        quarantined = lake.read_partition(QUARANTINE, OBSERVATIONS.partition(snapshot_date=day, source=SOURCE))
        expected_bad = rows_of(landed.quarantined, day, QUARANTINE.schema.names)
        if quarantined is None:
            assert expected_bad.empty
        else:
            pd.testing.assert_frame_equal(quarantined.to_pandas(), expected_bad, check_dtype=False)


def test_a_day_without_bad_rows_writes_no_quarantine_partition_unless_it_clears_a_stale_one(tmp_path):
    lake, day, clean_day = Lake(str(tmp_path / "lake")), date(2025, 3, 1), date(2025, 3, 2)
    lake.write_raw(SOURCE, day, [models_payload(day, [model("a/x"), model("a/dynamic", prompt="-1")])])
    lake.write_raw(SOURCE, clean_day, [models_payload(clean_day, [model("a/x")])])

    land_days(lake, SOURCE, [day, clean_day])
    assert lake.row_count(QUARANTINE, OBSERVATIONS.partition(snapshot_date=day, source=SOURCE)) == 1
    assert lake.row_count(QUARANTINE, OBSERVATIONS.partition(snapshot_date=clean_day, source=SOURCE)) is None
    assert lake.row_count(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=clean_day, source=SOURCE)) == 1

    lake.write_raw(SOURCE, day, [models_payload(day, [model("a/x")])])  # the dynamic price is gone
    landed = land_days(lake, SOURCE, [day])
    assert landed.quarantined.empty
    assert lake.row_count(QUARANTINE, OBSERVATIONS.partition(snapshot_date=day, source=SOURCE)) == 0


def test_nothing_parsed_is_still_typed_as_the_lake_schema():
    observations, rejected = observations_frame([])
    assert observations.empty and rejected.empty
    assert observations.columns.tolist() == OBSERVATIONS.schema.names
    assert str(observations["context_length"].dtype) == "Int64"
    assert str(observations["observed_at"].dtype) == "datetime64[us, UTC]"
    assert rejected.columns.tolist() == QUARANTINE.schema.names
