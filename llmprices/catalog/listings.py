"""What the catalog assets read of the whole history, a month at a time: each listing once or twice, never
every row, so their memory grows with the listings (thousands) and not with the lake (millions of rows).

- `listing_bounds`: each listing (source, provider, id, repo hint) on the first and the last day it was
  observed. That is all `catalog.catalog_from_observations` reads of a history: first and last days seen, the
  sources, the ids and repos in the order they first appeared.
- `listing_counts`: per listing and canonical model, its rows and first and last day: what the unmatched-model
  table and the coverage figures count (`coverage.unmatched_ids`, `coverage.coverage_by_source`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd

from llmprices.catalog.observed import OBSERVED_COLUMNS
from llmprices.lake.read import by_month, read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS

#: A listing as the catalog tells them apart.
BOUND_KEY = ["source", "provider", "provider_model_id", "model_hint"]
#: A listing as the coverage figures count them.
COUNT_KEY = ["source", "provider", "provider_model_id", "model", "model_matched"]


def listing_bounds(lake: Lake, last_day: date | None = None) -> pd.DataFrame:
    """`OBSERVED_COLUMNS` rows: each listing on its first and its last day up to `last_day` (one row when
    they are the same day), in day order."""
    spans = None
    for month in _months(lake, [*BOUND_KEY, "snapshot_date"], last_day):
        found = month.groupby(BOUND_KEY, dropna=False, sort=False)["snapshot_date"].agg(["min", "max"])
        spans = found if spans is None else _merge_spans(spans, found)
    if spans is None:
        return pd.DataFrame(columns=OBSERVED_COLUMNS)
    spans = spans.reset_index()
    bounds = pd.concat(
        [spans.assign(snapshot_date=spans["min"]), spans.assign(snapshot_date=spans["max"])], ignore_index=True
    ).drop_duplicates([*BOUND_KEY, "snapshot_date"])
    return bounds.sort_values("snapshot_date", kind="stable", ignore_index=True)[OBSERVED_COLUMNS]


def listing_models(bounds: pd.DataFrame, keys: pd.Series, rows: pd.DataFrame) -> pd.Series:
    """The catalog model of each of `rows` (with `BOUND_KEY`), from `bounds` and their models (`keys`, as
    `catalog_from_observations(bounds, ...).keys`): a listing always names the same model."""
    models = bounds[BOUND_KEY].assign(model=keys.to_numpy()).drop_duplicates(BOUND_KEY)
    found = rows[BOUND_KEY].merge(models, on=BOUND_KEY, how="left", validate="many_to_one")
    return pd.Series(found["model"].to_numpy(), index=rows.index, dtype=object)


def count_listings(observations: pd.DataFrame) -> pd.DataFrame:
    """`COUNT_KEY` with `rows`, `first_seen` and `last_seen`, from observation rows."""
    grouped = observations.groupby(COUNT_KEY, dropna=False, sort=False)["snapshot_date"]
    return grouped.agg(rows="size", first_seen="min", last_seen="max").reset_index()


def listing_counts(lake: Lake) -> pd.DataFrame:
    """`count_listings` of every observation in the lake, read a month at a time."""
    counts = [count_listings(month) for month in _months(lake, [*COUNT_KEY, "snapshot_date"], None)]
    if not counts:
        return count_listings(pd.DataFrame(columns=[*COUNT_KEY, "snapshot_date"]))
    merged = pd.concat(counts, ignore_index=True).groupby(COUNT_KEY, dropna=False, sort=False)
    return merged.agg(
        rows=("rows", "sum"), first_seen=("first_seen", "min"), last_seen=("last_seen", "max")
    ).reset_index()


def _merge_spans(spans: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    both = pd.concat([spans, found]).groupby(level=list(range(len(BOUND_KEY))), dropna=False, sort=False)
    return both.agg({"min": "min", "max": "max"})


def _months(lake: Lake, columns: list[str], last_day: date | None) -> Iterator[pd.DataFrame]:
    """The observations' `columns`, a calendar month of landed days at a time, up to `last_day`."""
    days = [date.fromisoformat(d) for d in lake.partition_values(OBSERVATIONS)]
    for month in by_month(day for day in days if last_day is None or day <= last_day):
        yield read_observations(lake, month[0], month[-1], columns=columns)
