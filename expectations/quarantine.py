"""Split a batch of observations into rows that pass the row-level suite and quarantined rows.

Why quarantine instead of failing: one bad listing (a mis-scaled price, a duplicate) should not
hold back a source's other few thousand rows, but it must stay visible with its reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from expectations.gx_bridge import ExpectationOutcome, validate
from expectations.suites import (
    PRICE_COLUMNS,
    REQUIRED_VALUE_COLUMNS,
    SNAPSHOT_DATE,
    key_columns,
    row_expectations,
)
from llmprices.lake.tables import QUARANTINE

UNIQUE = "expect_compound_columns_to_be_unique"


def split_valid_rows(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(valid rows, quarantined rows), both with a fresh RangeIndex.

    Valid rows keep `df`'s columns. Quarantined rows have `QUARANTINE.schema.names` (plus
    `snapshot_date` if `df` has it): `reason` names each failing column and value, joined by
    "; " when a row fails several expectations, `failed_check` the GX expectation type(s), and
    `record` the original row as JSON. Of a group of rows sharing a listing key, the first one
    that passes every other expectation is kept.
    """
    keys = key_columns(df)
    missing = [c for c in dict.fromkeys([*REQUIRED_VALUE_COLUMNS, *PRICE_COLUMNS, *keys]) if c not in df.columns]
    if missing:
        raise ValueError(f"cannot check rows: columns {missing} are missing")
    if df.empty:
        return df.reset_index(drop=True), _quarantine_frame(df, {})

    suite_name = "observation_rows_ranged" if SNAPSHOT_DATE in keys else "observation_rows"
    outcome = validate(df, suite_name, row_expectations(keys))
    broken = [r for r in outcome.results if r.exception]
    if broken:
        raise RuntimeError(
            "row-level expectations could not run: "
            + "; ".join(f"{r.expectation_type}({r.kwargs}): {r.exception}" for r in broken)
        )

    failures: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for result in outcome.failures:
        if result.expectation_type != UNIQUE:
            for row, reason in zip(result.unexpected_rows, _reasons(result, df), strict=True):
                failures[row].append((reason, result.expectation_type))
    for result in outcome.failures:
        if result.expectation_type == UNIQUE:
            _add_duplicates(df, keys, result.unexpected_rows, failures)

    valid = np.ones(len(df), dtype=bool)
    valid[list(failures)] = False
    return df.iloc[valid].reset_index(drop=True), _quarantine_frame(df, failures)


def _add_duplicates(df: pd.DataFrame, keys: list[str], rows: list[int], failures: dict) -> None:
    """GX flags every member of a duplicate group; quarantine all but one per group.

    The kept row is the first one without other failures (else simply the first).
    """
    members = df.iloc[rows][keys].reset_index(drop=True)
    members["_row"] = rows
    members["_bad"] = members["_row"].isin(list(failures))
    members = members.sort_values(["_bad", "_row"], kind="stable")
    members["_kept"] = members.groupby(keys, dropna=False, sort=False)["_row"].transform("first")
    dropped = members[members["_row"] != members["_kept"]]
    values = [dropped[c].tolist() for c in keys]
    for row, kept, *key_values in zip(dropped["_row"].tolist(), dropped["_kept"].tolist(), *values, strict=True):
        key = ", ".join(f"{c}={_show(v)}" for c, v in zip(keys, key_values, strict=True))
        failures[row].append((f"duplicate listing key ({key}); row {kept} with the same key was kept", UNIQUE))


def _show(value: Any) -> str:
    """A value as a reader expects it: 1500.0, 'gpt-4o', None (numpy scalars unwrapped)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "None" if value is None or value is pd.NA or value is pd.NaT else repr(value)


def _reasons(result: ExpectationOutcome, df: pd.DataFrame) -> list[str]:
    """One sentence per failing row, naming the column and its value."""
    column, rows = result.column, result.unexpected_rows
    if result.expectation_type == "expect_column_values_to_not_be_null":
        return [f"{column} is null"] * len(rows)
    values = df[column].iloc[rows].tolist() if column in df.columns else [None] * len(rows)
    if result.expectation_type == "expect_column_values_to_match_regex":
        return [f"{column}={_show(v)} is blank" for v in values]
    if result.expectation_type == "expect_column_values_to_be_between":
        kw = result.kwargs
        low = "(" if kw.get("strict_min") else "["
        high = ")" if kw.get("strict_max") else "]"
        bounds = f"{low}{_bound(kw.get('min_value'), '-inf')}, {_bound(kw.get('max_value'), 'inf')}{high}"
        return [f"{column}={_show(v)} is outside {bounds}" for v in values]
    return [f"{result.expectation_type} failed for {column}={_show(v)}" for v in values]


def _bound(value: float | None, unbounded: str) -> str:
    return unbounded if value is None else f"{value:g}"


def _quarantine_frame(df: pd.DataFrame, failures: dict[int, list[tuple[str, str]]]) -> pd.DataFrame:
    rows = sorted(failures)
    original = df.iloc[rows]
    columns = [*QUARANTINE.schema.names, *([SNAPSHOT_DATE] if SNAPSHOT_DATE in df.columns else [])]
    out = original.reindex(columns=[c for c in columns if c in df.columns]).reset_index(drop=True)
    out["reason"] = pd.Series(["; ".join(r for r, _ in failures[i]) for i in rows], dtype="str")
    out["failed_check"] = pd.Series(["; ".join(dict.fromkeys(c for _, c in failures[i])) for i in rows], dtype="str")
    out["record"] = pd.Series(_records(original), dtype="str")
    return out.reindex(columns=columns)


def _records(rows: pd.DataFrame) -> list[str]:
    """Each row as JSON: nulls as null, dates and timestamps as ISO strings."""
    plain = rows.astype(object).where(rows.notna(), None)
    return [json.dumps(r, default=_json_default) for r in plain.to_dict("records")]


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
