"""A bad day never passes for a good one: real runs over real OpenRouter captures, the lake read back through the
query layer. A day without valid rows is not landed; a day failing a blocking check is held back unseen until a
person accepts it or a good run replaces it."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from assets.keys import observations_asset_key
from expectations.checks import ROW_COUNT_VS_PREVIOUS
from llmprices.lake.query import connect
from llmprices.lake.store import Lake
from pipeline.backfill import plan_backfill, run_backfill
from pipeline.cli import main
from pipeline.homes import prepare_home
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest

D1, D2, D3 = date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 3)


@pytest.fixture(scope="module")
def models(shared_data) -> list[dict]:
    """The 359 models of the real 2025-12-31 capture (351 priced)."""
    return json.loads(gzip.decompress((shared_data / "openrouter-models" / "2025-12-31.json.gz").read_bytes()))["data"]


def write(folder: Path, day: date, body) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{day}.json").write_text(body if isinstance(body, str) else json.dumps({"data": body}))


def ten_times(models: list[dict]) -> list[dict]:
    return [{**m, "id": f"{m['id']}-copy{k}"} for k in range(10) for m in models]


def land(folder: Path, lake: Path, first: date, last: date, instance):
    request = IngestRequest(["openrouter"], first, last, lake_uri=str(lake), archive_dirs={"openrouter": str(folder)})
    return run_ingest(request, InProcessRuns(instance))


def published(lake: Path) -> dict[str, int]:
    rows = connect(str(lake)).sql("select snapshot_date::varchar, count(*) from observations group by 1 order by 1")
    return dict(rows.fetchall())


def held(lake: Path) -> dict[str, tuple[int, str]]:
    sql = "select snapshot_date::varchar, count(*), any_value(held_check) from held_observations group by 1 order by 1"
    return {day: (n, check) for day, n, check in connect(str(lake)).sql(sql).fetchall()}


def failure_messages(result) -> list[str]:
    return [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]


@pytest.mark.parametrize("capture", ['{"data": []}', "<html>503 Service Unavailable</html>"], ids=["empty", "garbage"])
def test_a_day_without_valid_rows_is_not_landed_and_the_next_day_is_compared_with_the_last_good_one(
    models, tmp_path, capture
):
    folder, lake = tmp_path / "captures", tmp_path / "lake"
    write(folder, D1, models)
    write(folder, D2, capture)
    write(folder, D3, models[:19])
    with dg.instance_for_test() as instance:
        assert land(folder, lake, D1, D1, instance).success
        bad = land(folder, lake, D2, D2, instance)
        assert not bad.success
        assert any("1 day(s) without a valid row, not landed (2025-06-02)" in m for m in failure_messages(bad))
        after = land(folder, lake, D3, D3, instance)
    assert not after.success
    [count_check] = [e for e in after.get_asset_check_evaluations() if e.check_name == ROW_COUNT_VS_PREVIOUS]
    assert not count_check.passed
    assert count_check.description == (
        "19 rows, outside the allowed 176 to 526 (previous partition: 351, tolerance 50%)."
    )
    assert published(lake) == {"2025-06-01": 351}
    assert held(lake) == {"2025-06-03": (19, ROW_COUNT_VS_PREVIOUS)}
    assert not (lake / "observations" / "snapshot_date=2025-06-02").exists()


def test_a_resumed_backfill_lands_a_day_whose_capture_was_fixed(models, tmp_path):
    folder, lake_dir = tmp_path / "captures", tmp_path / "lake"
    write(folder, D1, models)
    write(folder, D2, "{truncated")
    lake = Lake(str(lake_dir))
    with dg.instance_for_test() as instance:
        run_backfill(plan_backfill(lake, "openrouter", folder), folder, lake.root_uri, InProcessRuns(instance))
        assert published(lake_dir) == {"2025-06-01": 351}
        write(folder, D2, models)  # the capture is fixed
        resumed = plan_backfill(lake, "openrouter", folder)
        assert resumed.todo == [D2]
        [result] = run_backfill(resumed, folder, lake.root_uri, InProcessRuns(instance))
    assert result.success
    assert published(lake_dir) == {"2025-06-01": 351, "2025-06-02": 351}


def test_a_day_failing_the_row_count_is_held_back_replaced_by_a_good_run_or_accepted(
    models, tmp_path, monkeypatch, capsys
):
    folder, lake = tmp_path / "captures", tmp_path / "lake"
    write(folder, D1, models)
    write(folder, D2, ten_times(models))
    write(folder, D3, ten_times(models))
    home = prepare_home(tmp_path / "home", str(lake))  # the lake's home, as `llmprices` makes it
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = dg.DagsterInstance.from_config(str(home))
    assert land(folder, lake, D1, D1, instance).success
    for day in (D2, D3):
        assert not land(folder, lake, day, day, instance).success
    assert published(lake) == {"2025-06-01": 351}  # neither the query layer nor downstream sees the 10x days
    assert held(lake) == {"2025-06-02": (3510, ROW_COUNT_VS_PREVIOUS), "2025-06-03": (3510, ROW_COUNT_VS_PREVIOUS)}

    write(folder, D2, models)  # the source is fixed: the next good run replaces the held day
    assert land(folder, lake, D2, D2, instance).success
    assert published(lake) == {"2025-06-01": 351, "2025-06-02": 351}
    assert list(held(lake)) == ["2025-06-03"]

    assert main(["accept", "openrouter", "2025-06-03", "--lake", str(lake)]) == 0  # a person judged it right
    assert capsys.readouterr().out.startswith(
        f"openrouter 2025-06-03: published 3510 rows held back by {ROW_COUNT_VS_PREVIOUS}"
    )
    assert published(lake) == {"2025-06-01": 351, "2025-06-02": 351, "2025-06-03": 3510}
    assert held(lake) == {}
    event = instance.get_latest_materialization_event(observations_asset_key("openrouter"))
    assert event.asset_materialization.partition == "2025-06-03"
    assert main(["accept", "openrouter", "2025-06-03", "--lake", str(lake)]) == 2  # nothing held any more


def test_in_one_ranged_run_a_normal_day_after_a_10x_day_is_compared_with_the_normal_one(models, tmp_path):
    folder, lake = tmp_path / "captures", tmp_path / "lake"
    write(folder, D1, models)
    write(folder, D2, ten_times(models))
    write(folder, D3, models[:340])
    with dg.instance_for_test() as instance:
        result = land(folder, lake, D1, D3, instance)
    [count_check] = [e for e in result.get_asset_check_evaluations() if e.check_name == ROW_COUNT_VS_PREVIOUS]
    assert count_check.description == (
        "1 of 3 days outside 50% of the last good day: 2025-06-02: 3510 rows vs 351 on the last good day before"
    )
    assert published(lake) == {"2025-06-01": 351, "2025-06-03": 339}
    assert list(held(lake)) == ["2025-06-02"]
