"""Dagster assets of the warehouse tables: every listing's price intervals (`price_history`), the day-to-day
changes alerts are made of (`price_changes`), and yearly compacted observations for the query layer."""

from datetime import date

import dagster as dg
import pandas as pd

from assets.automation import AFTER_ANY_SOURCE_LANDS
from assets.keys import ALL_OBSERVATIONS, COMPACTED_OBSERVATIONS, PRICE_CHANGES, PRICE_HISTORY, WAREHOUSE_GROUP
from assets.metadata import rows_md
from assets.partitions import DAILY_PARTITIONS, MONTHLY_PARTITIONS, partition_days
from expectations.checks import ROW_COUNT_VS_PREVIOUS
from expectations.suites import row_count_bounds
from llmprices.lake.compaction import compact_months, plan_reads
from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import CHANGES, HISTORY, OBSERVATIONS
from llmprices.lake.tables import COMPACTED_OBSERVATIONS as COMPACTED_OBSERVATIONS_TABLE
from llmprices.warehouse.changes import (
    CHANGE_COLUMNS,
    CHEAPEST_PROVIDER_CHANGED,
    KINDS,
    PRICE_CHANGED,
    changes_between,
    changes_table,
    previous_day_with_data,
)
from llmprices.warehouse.history import history_by_day, history_intervals, history_summary, history_table

#: Moves shown in a `price_changes` materialization.
BIGGEST_MOVES = 10


@dg.asset(
    key=PRICE_HISTORY,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=ALL_OBSERVATIONS,
    group_name=WAREHOUSE_GROUP,
    kinds={"pandas", "parquet"},
    required_resource_keys={"lake"},
)
def price_history(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Every listing's price intervals (`valid_from`, `valid_to`: null while current), rebuilt from all
    observations up to the latest day in the lake whatever days the run covers, so a daily run keeps it
    current and a backfill rebuilds it exactly. Lake: `history/source=S/part-0.parquet`."""
    lake = context.resources.lake.lake()
    history = history_intervals(read_observations(lake))
    by_source = dict(tuple(history.groupby("source", sort=False)))
    for source in sorted(set(by_source) | set(lake.partition_values(HISTORY))):  # a source without rows: emptied
        rows = by_source.get(source, history.iloc[:0])
        lake.write_partition(HISTORY, HISTORY.partition(source=source), history_table(rows))
    days = partition_days(context)
    for day, figures in history_by_day(history, days).iterrows():  # each day what moved on it
        context.add_asset_metadata({name: int(value) for name, value in figures.items()}, partition_key=day.isoformat())
    summary = history_summary(history, days)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": len(history), **summary, "lake_path": lake.path(HISTORY)}
    )


@dg.asset(
    key=PRICE_CHANGES,
    deps=ALL_OBSERVATIONS,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=AFTER_ANY_SOURCE_LANDS,
    group_name=WAREHOUSE_GROUP,
    kinds={"pandas", "parquet"},
    required_resource_keys={"lake"},
)
def price_changes(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """What changed in each source since the previous day that has data for it (sources miss days; the
    day compared with is in every row and in the metadata): one row per price change, new listing,
    delisting and change of a model's cheapest provider. Lake: `changes/snapshot_date=D/source=S/`. A source
    with no rows on a day gets an empty partition, so re-materializing never leaves stale changes behind;
    so does a source whose row count broke the `row_count_vs_previous` bounds (its changes are held back,
    not alerted: a broken scrape would read as everything delisted)."""
    lake = context.resources.lake.lake()
    days = partition_days(context)
    total = 0
    for day in days:  # in order, one day at a time
        frames, compared_with, held_back = [], {}, {}
        for source in _sources_of_day(lake, day):
            changes, previous_date, held = _write_changes(lake, source, day)
            frames += [changes] if len(changes) else []
            compared_with[source] = previous_date.isoformat() if previous_date else None
            if held:
                held_back[source] = held
                context.log.warning(f"changes of {source} on {day} held back: {held}")
        changes = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CHANGE_COLUMNS)
        context.add_asset_metadata(_changes_metadata(changes, compared_with, held_back), partition_key=day.isoformat())
        total += len(changes)
    return dg.MaterializeResult(metadata={"run_days": len(days), "run_changes": total, "path": lake.path(CHANGES)})


def _changes_metadata(changes: pd.DataFrame, compared_with: dict, held_back: dict) -> dict:
    """A day's changes: how many of each kind, per source, the day each source was compared with, the sources
    held back, and the biggest moves."""
    counts = changes.groupby(["source", "kind"]).size().unstack(fill_value=0).reindex(columns=list(KINDS), fill_value=0)
    return {
        "dagster/row_count": len(changes),
        **{kind: int(counts[kind].sum()) for kind in KINDS},
        "changes_by_source": dg.MetadataValue.md(counts.to_markdown() if len(counts) else "no changes"),
        "compared_with": dg.MetadataValue.json(compared_with),
        "held_back": dg.MetadataValue.json(held_back),
        "biggest_moves": dg.MetadataValue.md(_biggest_moves(changes)),
    }


def _sources_of_day(lake: Lake, day: date) -> list[str]:
    """Sources with observations that day, and those with a `changes/` partition of it to replace."""
    of_day = (("snapshot_date", day.isoformat()),)
    return sorted(set(lake.partition_values(OBSERVATIONS, of_day)) | set(lake.partition_values(CHANGES, of_day)))


def _write_changes(lake: Lake, source: str, day: date) -> tuple[pd.DataFrame, date | None, str | None]:
    """Write and return the changes of `source` on `day`, the day compared with (None: no rows that day,
    or no earlier day with rows), and why they were held back, if they were."""
    current = lake.read_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source=source))
    current = (OBSERVATIONS.schema.empty_table() if current is None else current).to_pandas()
    previous_date = previous_day_with_data(lake, source, day) if len(current) else None
    previous = None
    if previous_date:
        partition = OBSERVATIONS.partition(snapshot_date=previous_date, source=source)
        previous = lake.read_partition(OBSERVATIONS, partition).to_pandas()
    held = None
    if previous is not None and not _plausible(len(current), len(previous)):
        held, previous = f"{len(current)} rows after {len(previous)} on {previous_date} ({ROW_COUNT_VS_PREVIOUS})", None
    changes = changes_between(current, previous, day, previous_date, source=source)
    lake.write_partition(CHANGES, CHANGES.partition(snapshot_date=day, source=source), changes_table(changes))
    return changes, previous_date, held


def _plausible(rows: int, previous_rows: int) -> bool:
    """Within the bounds of the blocking `row_count_vs_previous` check. That check stops downstream assets only
    in its own run, and these run in another one, so the rule is applied again here."""
    bounds = row_count_bounds(previous_rows)
    return bounds["min_row_count"] <= rows <= bounds["max_row_count"]


def _biggest_moves(changes: pd.DataFrame) -> str:
    moves = changes[changes["kind"].isin([PRICE_CHANGED, CHEAPEST_PROVIDER_CHANGED])]
    if moves.empty:
        return "no price moves"
    top = moves.loc[moves["relative_change"].abs().sort_values(ascending=False).index[:BIGGEST_MOVES]]
    table = pd.DataFrame(
        {
            "source": top["source"],
            "kind": top["kind"],
            "listing": top["provider_model_id"] + top["variant"].map(lambda v: f" ({v})" if v else ""),
            "provider": top["provider"],
            "blended before": top["old_blended_usd_per_mtok"].map("${:.4g}".format),
            "blended after": top["new_blended_usd_per_mtok"].map("${:.4g}".format),
            "change": top["relative_change"].map("{:+.1%}".format),
        }
    )
    return table.to_markdown(index=False)


@dg.asset(
    key=COMPACTED_OBSERVATIONS,
    partitions_def=MONTHLY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=ALL_OBSERVATIONS,
    group_name=WAREHOUSE_GROUP,
    kinds={"parquet"},
    required_resource_keys={"lake"},
)
def compacted_observations(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The month's observations of every source, compacted into its year's parquet file, which the query
    layer (`llmprices.lake.query`) reads instead of the daily files of every month that has not changed since.
    Lake: `compacted/observations/year=YYYY/` (versioned files and the manifest naming the current one)."""
    lake = context.resources.lake.lake()
    done = compact_months(lake, [key[:7] for key in context.partition_keys])
    plan = plan_reads(lake)
    years = pd.DataFrame(
        {
            "year": [c.year for c in done],
            "months": [", ".join(c.months) for c in done],
            "refreshed from daily files": [", ".join(c.refreshed) for c in done],
            "rows": [c.rows for c in done],
            "file": [c.path.rsplit("/", 1)[-1] if c.path else "no daily files" for c in done],
        }
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(c.rows for c in done),
            "years": rows_md(years),
            "lake_path": lake.path(COMPACTED_OBSERVATIONS_TABLE),
            "deleted_old_versions": sum(c.deleted_versions for c in done),
            "compacted_months": len(plan.compacted_months),
            "stale_months": ", ".join(plan.stale_months) or "none",
        }
    )


WAREHOUSE_ASSETS = [price_history, price_changes, compacted_observations]
