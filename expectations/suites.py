"""The expectations on price observations, as lists of GX expectation objects.

Three levels, because they lead to different actions: row-level failures send single rows to
quarantine, table-level failures block the partition (downstream assets do not run), and
warnings only flag something odd for a human. GX is imported inside the functions (slow import).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from expectations.gx_bridge import gx
from llmprices.lake.tables import LISTING_KEY, MAX_PLAUSIBLE_USD_PER_MTOK, OBSERVATIONS

SNAPSHOT_DATE = "snapshot_date"
#: Columns that must be filled for a row to be usable at all.
REQUIRED_VALUE_COLUMNS = [*LISTING_KEY, "model"]
#: Of those, the ones that must also say something (`variant` is "" for most listings).
NON_BLANK_COLUMNS = ["provider", "provider_model_id", "model"]
PRICE_COLUMNS = ["input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"]
BOOL_COLUMNS = ["is_free", "price_is_tiered", "model_matched"]

#: Row count may move by this fraction from the previous partition before the check blocks.
ROW_COUNT_TOLERANCE = 0.5

#: output/input price ratios outside this band are suspicious (a swapped or mis-scaled price).
RATIO_COLUMN = "output_input_ratio"
RATIO_MIN = 0.2
RATIO_MAX = 20.0
#: Share of priced rows (input > 0) that must fall in the band.
RATIO_MOSTLY = 0.9


def key_columns(df: pd.DataFrame) -> list[str]:
    """The listing key, per day: a ranged (backfill) frame carries `snapshot_date`."""
    return [SNAPSHOT_DATE, *LISTING_KEY] if SNAPSHOT_DATE in df.columns else list(LISTING_KEY)


def row_expectations(keys: list[str]) -> list:
    """Per-row rules; a failing row goes to quarantine, the rest of the batch carries on."""
    gxe = gx().expectations

    return [
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in REQUIRED_VALUE_COLUMNS),
        # An empty id would key a listing no one can name; GX skips nulls here (reported above).
        *(gxe.ExpectColumnValuesToMatchRegex(column=c, regex=r"\S") for c in NON_BLANK_COLUMNS),
        # A missing price would pass the range check below (GX skips nulls in it).
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in PRICE_COLUMNS),
        *(
            gxe.ExpectColumnValuesToBeBetween(
                column=c, min_value=0.0, max_value=MAX_PLAUSIBLE_USD_PER_MTOK, strict_max=True
            )
            for c in PRICE_COLUMNS
        ),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=keys),
    ]


def schema_and_key_expectations(keys: list[str]) -> list:
    """Blocking: the partition has the contract's columns and types, and a clean key."""
    gxe = gx().expectations

    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=OBSERVATIONS.schema.names, exact_match=False),
        # Pandas-3 strings: `type_="str"` works; ExpectColumnValuesToBeInTypeList does not.
        *(gxe.ExpectColumnValuesToBeOfType(column=c, type_="str") for c in REQUIRED_VALUE_COLUMNS),
        *(gxe.ExpectColumnValuesToBeOfType(column=c, type_="float64") for c in PRICE_COLUMNS),
        *(gxe.ExpectColumnValuesToBeOfType(column=c, type_="bool") for c in BOOL_COLUMNS),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in keys),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=keys),
    ]


def row_count_bounds(previous_row_count: int | None) -> dict[str, int | None]:
    """The row counts allowed after `previous_row_count`: +-50%, rounded inwards.

    No previous partition (None), or an empty one, gives nothing to compare with: any count
    passes. Otherwise the minimum is at least 1, so an empty partition after a full one fails.
    """
    if not previous_row_count:
        return {"min_row_count": 0, "max_row_count": None}
    return {
        "min_row_count": math.ceil(previous_row_count * (1 - ROW_COUNT_TOLERANCE)),
        "max_row_count": math.floor(previous_row_count * (1 + ROW_COUNT_TOLERANCE)),
    }


def daily_row_count_expectations() -> list:
    """Blocking: every day's row count within its own bounds, in one GX call over a frame of per-day
    counts (`daily_row_counts`; bounds null = no previous), for one day as for a whole range."""
    gxe = gx().expectations

    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="row_count", column_B="min_row_count", or_equal=True, ignore_row_if="either_value_is_missing"
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="max_row_count", column_B="row_count", or_equal=True, ignore_row_if="either_value_is_missing"
        ),
    ]


def daily_row_counts(counts: pd.Series, previous_row_count: int | None) -> pd.DataFrame:
    """Per-day counts (a Series indexed by day, in order), each day's bounds from the last day before it that
    will be published: the first day is compared with `previous_row_count` (the last published partition before
    the range), a later one with the last day of the range within its own bounds and not empty. A day held back
    or left out is never a baseline: after a 10x day, the normal day that follows is compared with normal."""
    previous, bounds, baseline = [], [], previous_row_count
    for count in counts.tolist():
        allowed = row_count_bounds(baseline)
        previous.append(baseline)
        bounds.append(allowed)
        low, high = allowed["min_row_count"], allowed["max_row_count"]
        if count and (high is None or low <= count <= high):
            baseline = count
    return pd.DataFrame(
        {
            SNAPSHOT_DATE: counts.index,
            "row_count": counts.to_numpy(dtype="float64"),
            "previous_row_count": pd.array(previous, dtype="Float64"),
            "min_row_count": [b["min_row_count"] if b["max_row_count"] is not None else np.nan for b in bounds],
            "max_row_count": [b["max_row_count"] if b["max_row_count"] is not None else np.nan for b in bounds],
        }
    )


def ratio_expectations() -> list:
    """Warning: output prices are usually a small multiple of input prices."""
    gxe = gx().expectations

    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=RATIO_COLUMN, min_value=RATIO_MIN, max_value=RATIO_MAX, mostly=RATIO_MOSTLY
        )
    ]


def with_output_input_ratio(df: pd.DataFrame) -> pd.DataFrame:
    """`df` plus the ratio column; null where input <= 0, and GX skips nulls (also in `mostly`)."""
    inputs = pd.to_numeric(df["input_usd_per_mtok"], errors="coerce").astype("float64")
    outputs = pd.to_numeric(df["output_usd_per_mtok"], errors="coerce").astype("float64")
    ratio = (outputs / inputs.where(inputs > 0)).replace([np.inf, -np.inf], np.nan)
    return df.assign(**{RATIO_COLUMN: ratio})
