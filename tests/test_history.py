"""`price_history`: the SCD2 build on hand-built frames, and on real OpenRouter days landed by real runs,
where it must agree with the observations on every day and a ranged rebuild must equal daily runs."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq
import pytest

from assets.warehouse.assets import price_history
from llmprices.lake.query import connect
from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from llmprices.observations.normalize import observations_table
from llmprices.observations.parse import parse_day
from llmprices.sources import openrouter
from llmprices.sources.archive import read_archive_day
from llmprices.warehouse.history import HISTORY_COLUMNS, history_intervals, source_history
from pipeline.resources import LakeResource
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest

D1, D2, D3, D4, D5 = (date(2025, 3, day) for day in range(1, 6))


def observations(rows: list[tuple]) -> pd.DataFrame:
    """(day, source, provider_model_id, input, output[, model]) -> observation rows (model defaults to the id)."""
    frame = pd.DataFrame(
        [(*row, row[2]) if len(row) == 5 else row for row in rows],
        columns=["snapshot_date", "source", "provider_model_id", "input_usd_per_mtok", "output_usd_per_mtok", "model"],
    )
    frame["blended_usd_per_mtok"] = (3 * frame["input_usd_per_mtok"] + frame["output_usd_per_mtok"]) / 4
    return frame.assign(provider="p", variant="")


def intervals(history: pd.DataFrame) -> list[tuple]:
    return [
        (r.source, r.provider_model_id, r.model, r.input_usd_per_mtok, r.valid_from, r.valid_to)
        for r in history.itertuples()
    ]


def test_price_change_delisting_relisting_model_change_and_a_gap_day_of_the_source():
    frame = observations(
        [
            # source a has data on D1, D2, D4, D5: D3 is a gap (not fetched), which ends nothing
            (D1, "a", "x", 1.0, 2.0), (D2, "a", "x", 1.0, 2.0), (D4, "a", "x", 1.0, 2.0), (D5, "a", "x", 1.5, 2.0),
            (D1, "a", "y", 3.0, 3.0), (D4, "a", "y", 3.0, 3.0), (D5, "a", "y", 3.0, 3.0),  # not on D2: relisted
            (D1, "a", "z", 5.0, 5.0), (D2, "a", "z", 5.0, 5.0),  # absent D4, the next day a has data
            (D1, "a", "m", 1.0, 1.0, "m-old"), (D2, "a", "m", 1.0, 1.0, "m-new"),  # re-matched to another model
            (D4, "a", "m", 1.0, 1.0, "m-new"), (D5, "a", "m", 1.0, 1.0, "m-new"),
            # source b has data every day; its listings end on b's days, not a's
            (D1, "b", "x", 1.0, 2.0), (D2, "b", "x", 1.0, 2.0), (D3, "b", "x", 1.0, 2.0),
            (D3, "b", "w", 0.0, 0.0), (D4, "b", "w", 0.0, 0.0), (D5, "b", "w", 0.0, 0.5),
        ]
    )  # fmt: skip
    history = history_intervals(frame.sample(frac=1, random_state=3))  # input order does not matter

    assert list(history.columns) == HISTORY_COLUMNS
    assert intervals(history) == [
        ("a", "m", "m-old", 1.0, D1, D2),
        ("a", "m", "m-new", 1.0, D2, None),
        ("a", "x", "x", 1.0, D1, D5),
        ("a", "x", "x", 1.5, D5, None),
        ("a", "y", "y", 3.0, D1, D2),
        ("a", "y", "y", 3.0, D4, None),
        ("a", "z", "z", 5.0, D1, D4),
        ("b", "w", "w", 0.0, D3, D5),
        ("b", "w", "w", 0.0, D5, None),
        ("b", "x", "x", 1.0, D1, D4),
    ]
    a_x = history[(history["source"] == "a") & (history["provider_model_id"] == "x")]
    assert a_x["blended_usd_per_mtok"].tolist() == [(3 * 1.0 + 2.0) / 4, (3 * 1.5 + 2.0) / 4]


def test_a_listing_repeated_on_one_day_is_refused():
    frame = observations([(D1, "a", "x", 1.0, 2.0), (D1, "a", "x", 1.5, 2.0)])
    with pytest.raises(ValueError, match="repeat a listing on one day"):
        history_intervals(frame)


# Real OpenRouter days with price changes, listings and delistings; 02-07 is left out: a gap for the source.
DAYS = [date(2025, 2, 5), date(2025, 2, 6), date(2025, 2, 8), date(2025, 2, 9), date(2025, 2, 10)]


@pytest.fixture
def captures(shared_data, tmp_path):
    folder = tmp_path / "captures"
    folder.mkdir()
    for day in DAYS:
        (folder / f"{day}.json.gz").symlink_to(shared_data / "openrouter-models" / f"{day}.json.gz")
    return folder


def materialize_history(lake_dir, instance, first: date, last: date) -> dict[str, dict]:
    """The run's metadata of each day."""
    partition = (
        {"partition_key": first.isoformat()}
        if first == last
        else {
            "tags": {"dagster/asset_partition_range_start": str(first), "dagster/asset_partition_range_end": str(last)}
        }
    )
    result = dg.materialize(
        [price_history], resources={"lake": LakeResource(root_uri=str(lake_dir))}, instance=instance, **partition
    )
    assert result.success
    return {m.partition: m.metadata for m in result.asset_materializations_for_node(price_history.op.name)}


def test_history_agrees_with_every_day_and_a_ranged_rebuild_equals_daily_runs(captures, tmp_path):
    ranged, daily = tmp_path / "ranged", tmp_path / "daily"
    with dg.instance_for_test() as instance:
        request = IngestRequest(
            ["openrouter"], DAYS[0], DAYS[-1], lake_uri=str(ranged), archive_dirs={"openrouter": str(captures)}
        )
        assert run_ingest(request, InProcessRuns(instance)).success
        by_day = materialize_history(ranged, instance, DAYS[0], DAYS[-1])
        for day in DAYS:
            request = IngestRequest(
                ["openrouter"], day, day, lake_uri=str(daily), archive_dirs={"openrouter": str(captures)}
            )
            assert run_ingest(request, InProcessRuns(instance)).success
            materialize_history(daily, instance, day, day)
            current = connect(str(daily)).execute(
                f"select (select count(*) from price_history where valid_to is null), "
                f"(select count(*) from observations where snapshot_date = '{day}')"
            )
            [(open_intervals, rows_today)] = current.fetchall()
            assert open_intervals == rows_today > 200  # each daily run brings it up to the day

    file = "history/source=openrouter/part-0.parquet"
    assert pq.read_table(ranged / file).equals(pq.read_table(daily / file))

    con = connect(str(ranged))
    on_each_day = """
        select o.snapshot_date, o.provider, o.provider_model_id, o.variant, o.model,
               o.input_usd_per_mtok, o.output_usd_per_mtok, o.blended_usd_per_mtok from observations o
    """
    valid_each_day = """
        select d.snapshot_date, h.provider, h.provider_model_id, h.variant, h.model,
               h.input_usd_per_mtok, h.output_usd_per_mtok, h.blended_usd_per_mtok
        from (select distinct snapshot_date, source from observations) d
        join price_history h on h.source = d.source and h.valid_from <= d.snapshot_date
                             and (h.valid_to is null or d.snapshot_date < h.valid_to)
    """
    assert con.execute(f"select count(*) from ({on_each_day} except all {valid_each_day})").fetchall() == [(0,)]
    assert con.execute(f"select count(*) from ({valid_each_day} except all {on_each_day})").fetchall() == [(0,)]
    assert con.execute("select count(distinct snapshot_date) from observations").fetchall() == [(len(DAYS),)]

    # independently: an interval per listing on the first day, plus one per (re)listing or price change after
    [(first_rows, later_starts, last_rows)] = con.execute(
        """
        with o as (select *, dense_rank() over (order by snapshot_date) as n from observations)
        select (select count(*) from o where n = 1),
               (select count(*) from o cur left join o prev
                  on prev.n = cur.n - 1 and (prev.provider, prev.provider_model_id, prev.variant)
                                          = (cur.provider, cur.provider_model_id, cur.variant)
                where cur.n > 1 and (prev.provider is null or prev.input_usd_per_mtok <> cur.input_usd_per_mtok
                      or prev.output_usd_per_mtok <> cur.output_usd_per_mtok or prev.model <> cur.model)),
               (select count(*) from o where n = (select max(n) from o))
        """
    ).fetchall()
    history = con.sql("select * from price_history").df()
    assert len(history) == first_rows + later_starts
    assert later_starts > 10 and history["valid_to"].notna().sum() > 10  # these days do move
    assert history["valid_to"].isna().sum() == last_rows
    metadata = by_day[str(DAYS[0])]
    assert metadata["intervals"].value == len(history) and metadata["open_intervals"].value == last_rows
    assert metadata["intervals_opened_in_run"].value == len(history)  # the run covered every day
    # and each day shows what moved on it
    assert len(by_day) == (DAYS[-1] - DAYS[0]).days + 1  # a day without data is in the range too: nothing moved
    assert (by_day["2025-02-07"]["intervals_opened"].value, by_day["2025-02-07"]["intervals_closed"].value) == (0, 0)
    assert metadata["intervals_opened"].value == first_rows and metadata["intervals_closed"].value == 0
    assert sum(m["intervals_opened"].value for m in by_day.values()) == len(history)
    assert sum(m["intervals_closed"].value for m in by_day.values()) == history["valid_to"].notna().sum()


def land(lake: Lake, frame: pd.DataFrame) -> None:
    """Observation rows (at least the history columns) as the lake's daily partitions."""
    filled = frame.assign(
        observed_at=pd.Timestamp("2025-03-01", tz="UTC"), model_variant=None, model_matched=True, context_length=None,
        quantization=None, is_free=False, price_is_tiered=False, cache_read_usd_per_mtok=None, latency_ms=None,
        throughput_tps=None, uptime_pct=None, raw_sha256="x", model_hint=None, offer_kind="marketplace",
        deprecation_date=None, input_usd_per_mchar=None, output_usd_per_mchar=None, router_id_share=None,
    )  # fmt: skip
    for (day, source), rows in filled.groupby(["snapshot_date", "source"]):
        partition = OBSERVATIONS.partition(snapshot_date=day, source=source)
        lake.write_partition(OBSERVATIONS, partition, OBSERVATIONS.from_frame(rows))


def test_the_history_read_from_the_lake_in_chunks_of_days_equals_one_pass(tmp_path):
    frame = observations(
        [
            (D1, "a", "x", 1.0, 2.0), (D2, "a", "x", 1.0, 2.0), (D4, "a", "x", 1.0, 2.0), (D5, "a", "x", 1.5, 2.0),
            (D1, "a", "y", 3.0, 3.0), (D4, "a", "y", 3.0, 3.0), (D5, "a", "y", 3.0, 3.0),
            (D1, "a", "z", 5.0, 5.0), (D2, "a", "z", 5.0, 5.0),
            (D1, "a", "m", 1.0, 1.0, "m-old"), (D2, "a", "m", 1.0, 1.0, "m-new"), (D4, "a", "m", 1.0, 1.0, "m-new"),
        ]
    )  # fmt: skip
    lake = Lake(str(tmp_path / "lake"))
    land(lake, frame)
    one_pass = history_intervals(frame)
    for chunk_rows in (1, 3, 5, 10**6):  # a day per chunk, chunks ending mid-interval, everything at once
        assert intervals(source_history(lake, "a", chunk_rows)) == intervals(one_pass), chunk_rows
    assert source_history(lake, "b").empty and list(source_history(lake, "b").columns) == HISTORY_COLUMNS


def test_the_chunked_history_of_real_days_equals_one_pass_over_them(shared_data, tmp_path):
    """20 real OpenRouter days (some prices move, models come and go, a few days are gaps), 2 to 3 days a chunk."""
    lake = Lake(str(tmp_path / "lake"))
    days = [date(2025, 2, day) for day in range(1, 25)]
    landed = []
    for day in days:
        capture = shared_data / "openrouter-models" / f"{day}.json.gz"
        if not capture.exists():
            continue
        parsed, _ = parse_day(openrouter.SOURCE, read_archive_day(capture.parent, day, "models.json"), day)
        table, _ = observations_table(parsed)
        lake.write_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source="openrouter"), table)
        landed.append(day)
    assert len(landed) >= 15
    one_pass = history_intervals(read_observations(lake))
    chunked = source_history(lake, "openrouter", chunk_rows=700)
    assert len(one_pass) > 250 and one_pass["valid_to"].notna().sum() > 20  # prices moved, models came and went
    pd.testing.assert_frame_equal(chunked, one_pass)
