"""The expectations package on small real DataFrames: quarantine, blocking checks, warnings, GX bridge."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from expectations import gx_bridge
from expectations.checks import (
    OUTPUT_INPUT_RATIO,
    ROW_COUNT_VS_PREVIOUS,
    SCHEMA_AND_KEYS,
    evaluate_observation_checks,
    observation_check_specs,
)
from expectations.quarantine import split_valid_rows
from llmprices.lake.tables import OBSERVATIONS, QUARANTINE

REPO = Path(__file__).resolve().parent.parent

BETWEEN = "expect_column_values_to_be_between"
NOT_NULL = "expect_column_values_to_not_be_null"
UNIQUE = "expect_compound_columns_to_be_unique"
OBSERVED_AT = pd.Timestamp("2026-11-27T06:00:00Z")
DAY = dt.date(2026, 11, 27)


def observations(n: int, output_factor: float = 4.0) -> pd.DataFrame:
    """`n` valid listings with the contract's columns and the dtypes sources produce."""
    inputs = np.round(0.1 + np.arange(n) % 50 * 0.25, 4)
    outputs = inputs * output_factor
    return pd.DataFrame(
        {
            "observed_at": pd.Series([OBSERVED_AT] * n, dtype="datetime64[us, UTC]"),
            "provider": pd.Series([f"provider-{i % 9}" for i in range(n)], dtype="str"),
            "provider_model_id": pd.Series([f"org/model-{i}" for i in range(n)], dtype="str"),
            "variant": pd.Series(["" if i % 3 else "free" for i in range(n)], dtype="str"),
            "model": pd.Series([f"model-{i}" for i in range(n)], dtype="str"),
            "model_variant": pd.Series([None] * n, dtype="str"),
            "model_matched": np.ones(n, dtype=bool),
            "input_usd_per_mtok": inputs,
            "output_usd_per_mtok": outputs,
            "blended_usd_per_mtok": (3 * inputs + outputs) / 4,
            "context_length": pd.array([131072] * n, dtype="Int64"),
            "quantization": pd.Series(["fp8"] * n, dtype="str"),
            "is_free": np.zeros(n, dtype=bool),
            "price_is_tiered": np.zeros(n, dtype=bool),
            "cache_read_usd_per_mtok": np.full(n, np.nan),
            "latency_ms": np.full(n, 420.0),
            "throughput_tps": np.full(n, 61.5),
            "uptime_pct": np.full(n, 99.9),
            "raw_sha256": pd.Series([f"{i:064x}" for i in range(n)], dtype="str"),
            "model_hint": pd.Series([f"Org/Model-{i}" if i % 2 else None for i in range(n)], dtype="str"),
        }
    )[OBSERVATIONS.schema.names]


def models(quarantined: pd.DataFrame) -> list[str]:
    """The `model` of each quarantined row, read back from its JSON record."""
    return [json.loads(record)["model"] for record in quarantined["record"]]


def results_by_name(results: list[dg.AssetCheckResult]) -> dict[str, dg.AssetCheckResult]:
    return {r.check_name: r for r in results}


def check_day(df: pd.DataFrame, previous: int | None) -> list[dg.AssetCheckResult]:
    """The checks of a one-day run, on its rows as the observations asset passes them (with `snapshot_date`)."""
    rows = df.assign(snapshot_date=DAY)
    return evaluate_observation_checks("observations", rows, pd.Series([len(df)], index=[DAY]), previous)


def check_range(day_counts: list[int], previous: int | None) -> dict[str, dg.AssetCheckResult]:
    """The checks of a run over consecutive days ending at DAY, with `day_counts[i]` listings on day i."""
    days = [DAY - dt.timedelta(days=len(day_counts) - 1 - i) for i in range(len(day_counts))]
    rows = pd.concat([observations(n).assign(snapshot_date=d) for d, n in zip(days, day_counts, strict=True)])
    return evaluate_observation_checks("observations", rows, pd.Series(day_counts, index=days), previous)


# --- quarantine ---------------------------------------------------------------------------------


def test_valid_rows_all_pass():
    df = observations(7)
    valid, quarantined = split_valid_rows(df)
    pd.testing.assert_frame_equal(valid, df)
    assert len(quarantined) == 0
    assert list(quarantined.columns) == QUARANTINE.schema.names


def test_bad_rows_go_to_quarantine_with_reason_and_check():
    df = observations(8)
    df.loc[1, "input_usd_per_mtok"] = -0.5
    df.loc[2, "input_usd_per_mtok"] = 1500.0
    df.loc[3, "provider"] = None
    df.loc[5, ["provider", "provider_model_id", "variant"]] = df.loc[4, ["provider", "provider_model_id", "variant"]]
    df.loc[7, "output_usd_per_mtok"] = 1000.0  # the maximum itself is implausible

    valid, quarantined = split_valid_rows(df)

    assert valid["model"].tolist() == ["model-0", "model-4", "model-6"]
    assert list(quarantined.columns) == QUARANTINE.schema.names
    assert models(quarantined) == ["model-1", "model-2", "model-3", "model-5", "model-7"]
    reasons = dict(zip(models(quarantined), quarantined["reason"], strict=True))
    checks = dict(zip(reasons, quarantined["failed_check"], strict=True))
    assert reasons["model-1"] == "input_usd_per_mtok=-0.5 is outside [0, 1000)"
    assert reasons["model-2"] == "input_usd_per_mtok=1500.0 is outside [0, 1000)"
    assert reasons["model-3"] == "provider is null"
    assert reasons["model-5"] == (
        "duplicate listing key (provider='provider-4', provider_model_id='org/model-4', variant=''); "
        "row 4 with the same key was kept"
    )
    assert reasons["model-7"] == "output_usd_per_mtok=1000.0 is outside [0, 1000)"
    assert checks == {
        "model-1": BETWEEN,
        "model-2": BETWEEN,
        "model-3": NOT_NULL,
        "model-5": UNIQUE,
        "model-7": BETWEEN,
    }


def test_quarantine_record_is_the_original_row_as_json():
    df = observations(3)
    df.loc[2, "input_usd_per_mtok"] = 1500.0
    _, quarantined = split_valid_rows(df)
    record = json.loads(quarantined["record"].iat[0])
    assert record["observed_at"] == "2026-11-27T06:00:00+00:00"
    assert record["input_usd_per_mtok"] == 1500.0
    assert record["context_length"] == 131072
    assert record["cache_read_usd_per_mtok"] is None
    assert record["is_free"] is False
    assert quarantined["raw_sha256"].iat[0] == f"{2:064x}"
    assert quarantined["observed_at"].iat[0] == OBSERVED_AT
    assert str(quarantined["observed_at"].dtype) == "datetime64[us, UTC]"


def test_row_failing_several_expectations_appears_once_with_all_reasons():
    df = observations(3)
    df.loc[1, ["model", "input_usd_per_mtok", "output_usd_per_mtok"]] = [None, 1500.0, -1.0]
    valid, quarantined = split_valid_rows(df)
    assert len(valid) == 2
    assert len(quarantined) == 1
    assert quarantined["reason"].iat[0] == (
        "model is null; input_usd_per_mtok=1500.0 is outside [0, 1000); output_usd_per_mtok=-1.0 is outside [0, 1000)"
    )
    assert quarantined["failed_check"].iat[0] == f"{NOT_NULL}; {BETWEEN}"


def test_missing_price_is_quarantined():
    df = observations(2)
    df.loc[0, "blended_usd_per_mtok"] = np.nan
    valid, quarantined = split_valid_rows(df)
    assert valid["model"].tolist() == ["model-1"]
    assert quarantined["reason"].tolist() == ["blended_usd_per_mtok is null"]


def test_duplicate_group_keeps_the_first_row_that_is_otherwise_valid():
    df = observations(4)
    df.loc[[1, 2, 3], "provider_model_id"] = "org/same"
    df.loc[[1, 2, 3], "provider"] = "p"
    df.loc[[1, 2, 3], "variant"] = ""
    df.loc[1, "input_usd_per_mtok"] = 1500.0  # first member is bad for another reason
    valid, quarantined = split_valid_rows(df)
    assert valid["model"].tolist() == ["model-0", "model-2"]
    reasons = dict(zip(models(quarantined), quarantined["reason"], strict=True))
    duplicate = (
        "duplicate listing key (provider='p', provider_model_id='org/same', variant=''); "
        "row 2 with the same key was kept"
    )
    assert reasons == {"model-1": f"input_usd_per_mtok=1500.0 is outside [0, 1000); {duplicate}", "model-3": duplicate}
    assert quarantined["failed_check"].tolist() == [f"{BETWEEN}; {UNIQUE}", UNIQUE]


def test_ranged_frame_is_unique_per_snapshot_date():
    day1, day2 = observations(3), observations(3)
    day1.insert(0, "snapshot_date", dt.date(2026, 11, 26))
    day2.insert(0, "snapshot_date", dt.date(2026, 11, 27))
    dup = day2.iloc[[0]].assign(model="model-dup")
    df = pd.concat([day1, day2, dup], ignore_index=True)

    valid, quarantined = split_valid_rows(df)

    assert len(valid) == 6  # the same listing on two days is not a duplicate
    assert list(quarantined.columns) == [*QUARANTINE.schema.names, "snapshot_date"]
    assert quarantined["snapshot_date"].tolist() == [dt.date(2026, 11, 27)]
    assert quarantined["reason"].iat[0] == (
        "duplicate listing key (snapshot_date=2026-11-27, provider='provider-0', "
        "provider_model_id='org/model-0', variant='free'); row 3 with the same key was kept"
    )
    assert json.loads(quarantined["record"].iat[0])["snapshot_date"] == "2026-11-27"


def test_empty_frame_is_fast_and_keeps_columns():
    started = time.perf_counter()
    valid, quarantined = split_valid_rows(observations(0))
    assert time.perf_counter() - started < 1.0
    assert list(valid.columns) == OBSERVATIONS.schema.names and len(valid) == 0
    assert list(quarantined.columns) == QUARANTINE.schema.names and len(quarantined) == 0


def test_split_refuses_a_frame_without_key_columns():
    with pytest.raises(ValueError, match=r"\['variant'\] are missing"):
        split_valid_rows(observations(2).drop(columns=["variant"]))


def test_split_refuses_text_prices_instead_of_guessing():
    df = observations(3)
    df["input_usd_per_mtok"] = df["input_usd_per_mtok"].astype("str")
    with pytest.raises(
        RuntimeError, match="expect_column_values_to_be_between.*must either be None or of the same type"
    ):
        split_valid_rows(df)


def test_split_of_120k_rows_costs_per_call_not_per_row():
    df = observations(120_000)
    df.loc[::1000, "input_usd_per_mtok"] = 2000.0
    split_valid_rows(df.head(10))  # GX import and suite set-up are not what is measured
    started = time.perf_counter()
    valid, quarantined = split_valid_rows(df)
    elapsed = time.perf_counter() - started
    print(f"\nsplit_valid_rows on 120,000 rows (120 bad): {elapsed:.2f} s")
    assert (len(valid), len(quarantined)) == (119_880, 120)


# --- blocking and warning checks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "previous", "passed"),
    [
        (100, 100, True),
        (50, 100, True),
        (150, 100, True),
        (40, 100, False),
        (151, 100, False),
        (0, 100, False),
        (0, None, True),
        (37, None, True),
        (5, 0, True),
    ],
)
def test_row_count_vs_previous(rows, previous, passed):
    result = results_by_name(check_day(observations(rows), previous))[ROW_COUNT_VS_PREVIOUS]
    assert result.passed is passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["row_count"].value == rows
    assert (result.metadata["days"].value, result.metadata["failing_days"].value) == (1, 0 if passed else 1)
    if previous:
        assert result.metadata["min_row_count"].value == previous // 2
        assert result.metadata["max_row_count"].value == previous * 3 // 2
        assert result.metadata["previous_row_count"].value == previous


def test_row_count_description_says_what_failed():
    result = results_by_name(check_day(observations(40), 100))[ROW_COUNT_VS_PREVIOUS]
    assert result.description == "40 rows, outside the allowed 50 to 150 (previous partition: 100, tolerance 50%)."
    assert result.metadata["allowed_row_count"].value == "50 to 150"
    assert result.metadata["failed_expectations"].value == [
        "expect_column_pair_values_a_to_be_greater_than_b(row_count,min_row_count)"
    ]


def test_row_count_bounds_are_rounded_inwards():
    result = results_by_name(check_day(observations(2), 3))[ROW_COUNT_VS_PREVIOUS]
    assert result.passed
    assert result.description == "2 rows, within 2 to 4 (previous partition: 3)."
    assert (result.metadata["min_row_count"].value, result.metadata["max_row_count"].value) == (2, 4)


@pytest.mark.parametrize("previous", [None, 0])
def test_row_count_without_a_previous_count_allows_any(previous):
    result = results_by_name(check_day(observations(37), previous))[ROW_COUNT_VS_PREVIOUS]
    assert result.passed
    assert result.description == "37 rows; no previous partition (or only an empty one) to compare with."
    assert result.metadata["allowed_row_count"].value == "any"
    assert "min_row_count" not in result.metadata and "max_row_count" not in result.metadata
    assert ("previous_row_count" in result.metadata) is (previous is not None)


def test_clean_partition_passes_every_check():
    results = check_day(observations(20), 18)
    assert [(r.check_name, r.passed, r.severity) for r in results] == [
        (SCHEMA_AND_KEYS, True, dg.AssetCheckSeverity.ERROR),
        (ROW_COUNT_VS_PREVIOUS, True, dg.AssetCheckSeverity.ERROR),
        (OUTPUT_INPUT_RATIO, True, dg.AssetCheckSeverity.WARN),
    ]
    assert all(r.asset_key == dg.AssetKey("observations") for r in results)


def test_clean_range_passes_every_check():
    results = results_by_name(check_range([20, 12, 8, 11], 18))
    assert {name: r.passed for name, r in results.items()} == {
        SCHEMA_AND_KEYS: True,  # the same listings on several days are not duplicates
        ROW_COUNT_VS_PREVIOUS: True,
        OUTPUT_INPUT_RATIO: True,
    }
    count = results[ROW_COUNT_VS_PREVIOUS]
    assert count.description == "All 4 days within 50% of the day before."
    assert {k: v.value for k, v in count.metadata.items()} == {
        "days": 4,
        "failing_days": 0,
        "row_count": 51,
        "previous_row_count": 18,
        "failed_expectations": [],
        "failing_dates": [],
    }


def test_range_compares_each_day_with_the_last_good_day_before_it():
    # 10 vs 10 (the partition before): good; 4 vs 10: held; 4 vs 10 again (a held day is no baseline); 12 vs 10:
    # good; 0 vs 12: held; 7 vs 12: good (an empty day is no baseline either)
    result = results_by_name(check_range([10, 4, 4, 12, 0, 7], 10))[ROW_COUNT_VS_PREVIOUS]
    assert result.passed is False
    assert result.description == (
        "3 of 6 days outside 50% of the last good day: 2026-11-23: 4 rows vs 10 on the last good day before; "
        "2026-11-24: 4 rows vs 10 on the last good day before; 2026-11-26: 0 rows vs 12 on the last good day before"
    )
    assert (result.metadata["days"].value, result.metadata["failing_days"].value) == (6, 3)
    assert result.metadata["failing_dates"].value == ["2026-11-23", "2026-11-24", "2026-11-26"]
    assert result.metadata["row_count"].value == 37
    assert "allowed_row_count" not in result.metadata  # each day has its own


def test_each_check_names_the_days_it_failed_on():
    days = [DAY - dt.timedelta(days=2 - i) for i in range(3)]
    frames = [observations(10).assign(snapshot_date=day) for day in days]
    frames[1].loc[5, ["provider", "provider_model_id", "variant"]] = frames[1].loc[
        0, ["provider", "provider_model_id", "variant"]
    ]
    frames[2]["output_usd_per_mtok"] = frames[2]["input_usd_per_mtok"] * 100  # every listing's ratio is off
    checks = evaluate_observation_checks("observations", pd.concat(frames), pd.Series([10] * 3, index=days), 10)
    failing = {c.check_name: c.metadata["failing_dates"].value for c in checks}
    assert failing == {SCHEMA_AND_KEYS: [str(days[1])], ROW_COUNT_VS_PREVIOUS: [], OUTPUT_INPUT_RATIO: [str(days[2])]}
    missing = evaluate_observation_checks(
        "observations", pd.concat(frames).drop(columns=["is_free"]), pd.Series([10] * 3, index=days), 10
    )
    assert results_by_name(missing)[SCHEMA_AND_KEYS].metadata["failing_dates"].value == [str(d) for d in days]


def test_range_lists_at_most_five_failing_days():
    result = results_by_name(check_range([100] + [10] * 7, 100))[ROW_COUNT_VS_PREVIOUS]
    assert result.description.startswith("7 of 8 days outside 50% of the last good day: 2026-11-21: 10 rows vs 100")
    assert result.description.count(" rows vs ") == 5
    assert result.metadata["failing_days"].value == 7


def test_missing_column_fails_the_schema_check():
    df = observations(10).drop(columns=["latency_ms", "is_free"])
    result = results_by_name(check_day(df, 10))[SCHEMA_AND_KEYS]
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert result.description == "Schema or key problems: missing columns: is_free, latency_ms."
    failed = result.metadata["failed_expectations"].value
    assert "expect_table_columns_to_match_set" in failed
    assert "expect_column_values_to_be_of_type(is_free)" in failed


def test_missing_key_column_is_reported_once_as_missing():
    df = observations(10).drop(columns=["variant"])
    result = results_by_name(check_day(df, 10))[SCHEMA_AND_KEYS]
    assert result.passed is False
    assert result.description == "Schema or key problems: missing columns: variant."


def test_wrong_types_and_duplicate_keys_fail_the_schema_check():
    df = observations(6)
    df["is_free"] = pd.Series(["false"] * 6, dtype="str")
    df["input_usd_per_mtok"] = df["input_usd_per_mtok"].astype("str")
    df.loc[5, ["provider", "provider_model_id", "variant"]] = df.loc[0, ["provider", "provider_model_id", "variant"]]
    result = results_by_name(check_day(df, 6))[SCHEMA_AND_KEYS]
    assert result.passed is False
    assert result.description == (
        "Schema or key problems: input_usd_per_mtok has type str, expected float64; "
        "is_free has type str, expected bool; 2 rows share a listing key (snapshot_date, provider, provider_model_id, "
        "variant)."
    )
    assert "| 0 | 2026-11-27 | provider-0 | org/model-0 | free |" in result.metadata["failing_examples"].value


def test_ratio_warning_fires_when_outputs_are_100x_inputs():
    df = observations(10, output_factor=100.0)
    df.loc[[0, 1], "output_usd_per_mtok"] = df.loc[[0, 1], "input_usd_per_mtok"] * 3
    result = results_by_name(check_day(df, 10))[OUTPUT_INPUT_RATIO]
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["rows_outside_band"].value == 8
    assert result.metadata["priced_rows"].value == 10
    assert result.description == (
        "8 of 10 priced listings (80.0%) have an output/input ratio outside [0.2, 20]; at most 10% allowed."
    )


def test_ratio_ignores_free_rows_and_tolerates_a_few_outliers():
    df = observations(20)
    df.loc[0, "output_usd_per_mtok"] = df.loc[0, "input_usd_per_mtok"] * 100  # 1 of 10 priced rows: allowed
    df.loc[10:, ["input_usd_per_mtok", "blended_usd_per_mtok"]] = 0.0  # free input: no ratio
    result = results_by_name(check_day(df, 20))[OUTPUT_INPUT_RATIO]
    assert result.passed is True
    assert result.metadata["priced_rows"].value == 10
    assert result.metadata["rows_outside_band"].value == 1


# --- Dagster glue -------------------------------------------------------------------------------


def test_specs_are_blocking_except_the_ratio_warning():
    specs = observation_check_specs("observations")
    assert [(s.name, s.blocking) for s in specs] == [
        (SCHEMA_AND_KEYS, True),
        (ROW_COUNT_VS_PREVIOUS, True),
        (OUTPUT_INPUT_RATIO, False),
    ]
    assert all(s.asset_key == dg.AssetKey("observations") and s.description for s in specs)


def test_dagster_records_the_results_of_an_asset_declaring_the_specs():
    @dg.asset(key="observations", check_specs=observation_check_specs("observations"))
    def observations_asset():
        yield dg.Output(None)
        yield from check_day(observations(40), 100)

    result = dg.materialize([observations_asset], raise_on_error=False)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {name: e.passed for name, e in evaluations.items()} == {
        SCHEMA_AND_KEYS: True,
        ROW_COUNT_VS_PREVIOUS: False,
        OUTPUT_INPUT_RATIO: True,
    }
    assert evaluations[ROW_COUNT_VS_PREVIOUS].severity == dg.AssetCheckSeverity.ERROR
    assert result.success is False  # the blocking check failed the run


# --- GX bridge ----------------------------------------------------------------------------------


def test_bridge_reports_positions_and_reuses_the_suite():
    gxe = gx_bridge.gx().expectations

    df = pd.DataFrame({"price": [1.0, -2.0, 3.0, np.nan]}, index=[10, 20, 30, 40])
    expectations = [
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0),
        gxe.ExpectTableRowCountToEqual(value=4),
    ]
    first = gx_bridge.validate(df, "test_bridge", expectations)
    definition = gx_bridge._definitions["test_bridge"][1]
    second = gx_bridge.validate(df.iloc[:2], "test_bridge", expectations)

    assert gx_bridge._definitions["test_bridge"][1] is definition  # not rebuilt
    assert [(r.expectation_type, r.success, r.unexpected_rows) for r in first.results] == [
        (BETWEEN, False, [1]),
        ("expect_table_row_count_to_equal", True, []),
    ]
    assert second.results[1].observed_value == 2 and second.success is False

    changed = gx_bridge.validate(df, "test_bridge", [gxe.ExpectColumnValuesToNotBeNull(column="price")])
    assert gx_bridge._definitions["test_bridge"][1] is not definition
    assert [(r.success, r.unexpected_rows, r.unexpected_count) for r in changed.results] == [(False, [3], 1)]


def test_bridge_reports_gx_errors_as_failures():
    gxe = gx_bridge.gx().expectations

    outcome = gx_bridge.validate(
        pd.DataFrame({"price": [1.0]}),
        "test_bridge_errors",
        [
            gxe.ExpectColumnValuesToNotBeNull(column="absent"),
            gxe.ExpectColumnValuesToBeOfType(column="absent", type_="str"),
        ],
    )
    assert outcome.success is False
    assert [(r.success, r.exception) for r in outcome.results] == [
        (False, 'Error: The column "absent" in BatchData does not exist.'),
        (False, "list index out of range"),
    ]
