"""Dagster asset checks on a partition of price observations, evaluated with GX.

The observations asset declares `observation_check_specs(...)` as its `check_specs`, evaluates
`evaluate_observation_checks(...)` on the rows of a day or a range before writing them, holds back the days a
blocking check failed on (`holds`: they are not published) and yields the results. The two blocking checks also
stop downstream assets; the ratio check only warns a human.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg
import pandas as pd

from expectations.gx_bridge import ExpectationOutcome, validate
from expectations.suites import (
    PRICE_COLUMNS,
    RATIO_COLUMN,
    RATIO_MAX,
    RATIO_MIN,
    RATIO_MOSTLY,
    ROW_COUNT_TOLERANCE,
    SNAPSHOT_DATE,
    daily_row_count_expectations,
    daily_row_counts,
    key_columns,
    ratio_expectations,
    schema_and_key_expectations,
    with_output_input_ratio,
)
from llmprices.observations.write import Hold

SCHEMA_AND_KEYS = "schema_and_keys"
ROW_COUNT_VS_PREVIOUS = "row_count_vs_previous"
OUTPUT_INPUT_RATIO = "output_input_ratio"

#: Failing rows (or days) shown in a check's metadata, enough to start debugging.
MAX_EXAMPLES = 5
#: Metadata of each check: the days (ISO dates) it failed on; a failed blocking check holds them back.
FAILING_DATES = "failing_dates"
_TOLERANCE = f"{ROW_COUNT_TOLERANCE:.0%}"

AssetKeyLike = dg.AssetKey | str | Sequence[str]


def observation_check_specs(asset_key: AssetKeyLike) -> list[dg.AssetCheckSpec]:
    """The checks the observations asset declares, with the text users read in the UI."""
    return [
        dg.AssetCheckSpec(
            SCHEMA_AND_KEYS,
            asset=asset_key,
            blocking=True,
            description="Every contract column is present with its type (prices float64, "
            "flags bool, keys str), and each listing (provider, provider_model_id, variant) "
            "appears once per day with no part of its key missing.",
        ),
        dg.AssetCheckSpec(
            ROW_COUNT_VS_PREVIOUS,
            asset=asset_key,
            blocking=True,
            description=f"The number of listings is within {_TOLERANCE} of the previous partition's "
            "(a collapse usually means a broken scrape, a jump a changed page). Passes when "
            "there is no previous partition.",
        ),
        dg.AssetCheckSpec(
            OUTPUT_INPUT_RATIO,
            asset=asset_key,
            blocking=False,
            description=f"At least {RATIO_MOSTLY:.0%} of priced listings (input price > 0) have "
            f"an output/input price ratio between {RATIO_MIN:g} and {RATIO_MAX:g}; outside it, "
            "prices may be swapped or in the wrong unit. Warning only.",
        ),
    ]


def evaluate_observation_checks(
    asset_key: AssetKeyLike, df: pd.DataFrame, day_counts: pd.Series, previous_row_count: int | None
) -> list[dg.AssetCheckResult]:
    """The three checks over the rows a run wrote, one day or a whole range, in two GX calls whatever the
    number of days: schema, keys (unique per day if `df` carries `snapshot_date`) and ratio over all rows,
    row counts over a frame of per-day counts. One day is a range of one, so both read the same way.

    `day_counts` is the rows written per day, in day order, including days with none;
    `previous_row_count` is the partition's before the first day (None if there is none).
    """
    keys = key_columns(df)
    schema, ratio = schema_and_key_expectations(keys), ratio_expectations()
    has_prices = all(c in df.columns for c in PRICE_COLUMNS[:2])
    frame = with_output_input_ratio(df) if has_prices else df.assign(**{RATIO_COLUMN: float("nan")})
    name = "observation_rows_by_day" if SNAPSHOT_DATE in keys else "observation_rows"
    outcome = validate(frame, name, [*schema, *ratio]).results
    counts = daily_row_counts(day_counts, previous_row_count)
    count_outcome = validate(counts, "observation_daily_row_counts", daily_row_count_expectations()).results
    asset_key = dg.AssetKey.from_coercible(asset_key)
    return [
        _schema_result(asset_key, frame, outcome[: len(schema)], keys, list(day_counts.index)),
        _row_count_result(asset_key, counts, count_outcome),
        _ratio_result(asset_key, frame, outcome[len(schema)], has_prices),
    ]


def holds(results: list[dg.AssetCheckResult]) -> dict[date, Hold]:
    """The days a failed blocking check found wrong, with the check(s) and what they said: days not to publish."""
    found: dict[date, list[dg.AssetCheckResult]] = {}
    for result in results:
        if result.passed or result.severity != dg.AssetCheckSeverity.ERROR:
            continue
        for day in result.metadata[FAILING_DATES].data:
            found.setdefault(date.fromisoformat(day), []).append(result)
    return {
        day: Hold(", ".join(r.check_name for r in failed), " ".join(r.description or "" for r in failed))
        for day, failed in found.items()
    }


def _row_count_result(key, counts: pd.DataFrame, results: list[ExpectationOutcome]) -> dg.AssetCheckResult:
    """One result for any number of days: a single day shows its allowed range, a range how many days
    failed and the first few of them."""
    failing = counts.iloc[sorted({i for r in results for i in r.unexpected_rows})]
    passed = all(r.success for r in results)
    metadata = {"days": len(counts), "failing_days": len(failing), "row_count": int(counts["row_count"].sum()),
                FAILING_DATES: _json_dates(failing[SNAPSHOT_DATE])}  # fmt: skip
    previous = counts["previous_row_count"].iat[0]  # the partition before the first day
    if not pd.isna(previous):
        metadata["previous_row_count"] = int(previous)
    if len(counts) == 1:
        metadata |= _allowed_range(counts.iloc[0])
        description = _one_day_description(counts.iloc[0], metadata["allowed_row_count"], passed)
    else:
        description = _range_description(counts, failing, passed)
    metadata["failed_expectations"] = dg.MetadataValue.json([_name(r) for r in results if not r.success])
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=ROW_COUNT_VS_PREVIOUS,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )


def _allowed_range(day) -> dict:
    """A day's bounds as users read them: "any" when there is no previous count to compare with."""
    if pd.isna(day.max_row_count):
        return {"allowed_row_count": "any"}
    low, high = int(day.min_row_count), int(day.max_row_count)
    return {"allowed_row_count": f"{low} to {high}", "min_row_count": low, "max_row_count": high}


def _one_day_description(day, allowed: str, passed: bool) -> str:
    rows = int(day.row_count)
    if allowed == "any":
        return f"{rows} rows; no previous partition (or only an empty one) to compare with."
    previous = int(day.previous_row_count)
    if passed:
        return f"{rows} rows, within {allowed} (previous partition: {previous})."
    return f"{rows} rows, outside the allowed {allowed} (previous partition: {previous}, tolerance {_TOLERANCE})."


def _range_description(counts: pd.DataFrame, failing: pd.DataFrame, passed: bool) -> str:
    if passed:
        return f"All {len(counts)} days within {_TOLERANCE} of the day before."
    lines = [
        f"{row.snapshot_date}: {int(row.row_count)} rows vs {int(row.previous_row_count)} on the last good day before"
        for row in failing.head(MAX_EXAMPLES).itertuples()
    ]
    return f"{len(failing)} of {len(counts)} days outside {_TOLERANCE} of the last good day: " + "; ".join(lines)


def _schema_result(key, df, results: list[ExpectationOutcome], keys, days: list) -> dg.AssetCheckResult:
    """Failing rows block their days; a table-level failure (a column missing or of the wrong type) every day."""
    problems, failed, examples, everything = [], [], [], False
    for r in results:
        if r.success:
            continue
        failed.append(_name(r))
        column = r.column
        targets = [column] if column else r.kwargs.get("column_list", [])
        everything = everything or not r.unexpected_rows
        if r.expectation_type == "expect_table_columns_to_match_set":
            missing = r.details.get("details", {}).get("mismatched", {}).get("missing", [])
            problems.append(f"missing columns: {', '.join(missing)}")
        elif r.exception and any(c not in df.columns for c in targets):
            continue  # already reported as a missing column
        elif r.exception:
            problems.append(f"{_name(r)} could not run: {r.exception}")
        elif r.expectation_type == "expect_column_values_to_be_of_type":
            problems.append(f"{column} has type {r.observed_value}, expected {r.kwargs['type_']}")
        elif r.expectation_type == "expect_column_values_to_not_be_null":
            problems.append(f"{r.unexpected_count} rows have no {column}")
            examples += r.unexpected_rows
        else:
            problems.append(f"{r.unexpected_count} rows share a listing key ({', '.join(keys)})")
            examples += r.unexpected_rows
    passed = not failed
    blocked = days if everything or SNAPSHOT_DATE not in df.columns else df[SNAPSHOT_DATE].iloc[sorted(set(examples))]
    metadata = {
        "row_count": len(df),
        "failed_expectations": dg.MetadataValue.json(failed),
        FAILING_DATES: _json_dates(blocked if failed else []),
    }
    if examples:
        metadata["failing_examples"] = _examples_md(df, examples, keys)
    description = (
        f"All contract columns present with their types; listing key filled and unique ({len(df)} rows)."
        if passed
        else "Schema or key problems: " + "; ".join(problems) + "."
    )
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=SCHEMA_AND_KEYS,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )


def _ratio_result(key, df, r: ExpectationOutcome, has_prices: bool) -> dg.AssetCheckResult:
    priced = int(df[RATIO_COLUMN].notna().sum())
    outside = r.unexpected_count or 0
    share = outside / priced if priced else 0.0
    band = f"[{RATIO_MIN:g}, {RATIO_MAX:g}]"
    metadata = {
        "priced_rows": priced,
        "rows_outside_band": outside,
        "share_outside_band": dg.MetadataValue.float(round(share, 4)),
        "allowed_share_outside": dg.MetadataValue.float(round(1 - RATIO_MOSTLY, 4)),
        "failed_expectations": dg.MetadataValue.json([] if r.success else [_name(r)]),
        FAILING_DATES: _json_dates(_days_outside_band(df, r.unexpected_rows) if has_prices else df.get(SNAPSHOT_DATE)),
    }
    if outside:
        metadata["failing_examples"] = _examples_md(df, r.unexpected_rows, [RATIO_COLUMN, *PRICE_COLUMNS[:2]])
    passed = r.success and has_prices
    if not has_prices:
        description = "Cannot compute the output/input ratio: price columns are missing."
    elif r.exception:
        description = f"Ratio check could not run: {r.exception}"
    else:
        description = (
            f"{outside} of {priced} priced listings ({share:.1%}) have an output/input "
            f"ratio outside {band}; at most {1 - RATIO_MOSTLY:.0%} allowed."
        )
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=OUTPUT_INPUT_RATIO,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )


def _days_outside_band(df: pd.DataFrame, rows: list[int]) -> pd.Series:
    """The days on which more of the priced listings than allowed have a ratio outside the band."""
    if SNAPSHOT_DATE not in df.columns:
        return pd.Series()
    days = df[SNAPSHOT_DATE]
    outside = days.iloc[sorted(set(rows))].value_counts()
    priced = days[df[RATIO_COLUMN].notna()].value_counts()
    share = outside.reindex(priced.index, fill_value=0) / priced
    return pd.Series(share[share > 1 - RATIO_MOSTLY].index)


def _json_dates(days) -> dg.MetadataValue:
    """The days (of a ranged run) a check failed on, sorted, as ISO dates: each day's metadata says whether it
    passed, and a failed blocking check holds these days back."""
    days = [] if days is None else days
    return dg.MetadataValue.json(sorted({pd.Timestamp(day).date().isoformat() for day in days}))


def _name(r: ExpectationOutcome) -> str:
    """The expectation and its columns: the two row-count bounds differ only in their column pair."""
    pair = [r.kwargs[k] for k in ("column_A", "column_B") if k in r.kwargs]
    target = r.kwargs.get("column") or ",".join(r.kwargs.get("column_list") or pair)
    return f"{r.expectation_type}({target})" if target else r.expectation_type


def _examples_md(df: pd.DataFrame, rows: list[int], columns: list[str]) -> dg.MetadataValue:
    """A few failing rows as a markdown table: listing key first, then the columns at stake."""
    shown = list(dict.fromkeys(c for c in [*key_columns(df), *columns] if c in df.columns))
    sample = sorted(set(rows))[:MAX_EXAMPLES]
    lines = ["| row | " + " | ".join(shown) + " |", "|---" * (len(shown) + 1) + "|"]
    for i in sample:
        cells = [_cell(df[c].iat[i]) for c in shown]
        lines.append(f"| {i} | " + " | ".join(cells) + " |")
    if len(set(rows)) > len(sample):
        lines.append(f"\n{len(set(rows)) - len(sample)} more rows not shown.")
    return dg.MetadataValue.md("\n".join(lines))


def _cell(value) -> str:
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|")
