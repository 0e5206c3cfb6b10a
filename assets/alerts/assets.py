"""Dagster assets of price alerts: `price_changes` (the `changes/` table) and `alert_deliveries` (the rules
applied to a day's changes, sent exactly once through `ledger.deliver`).

Both are daily-partitioned and follow their upstream by declarative automation (see `pipeline/sensors.py`):
today's changes are recomputed whenever a source lands today's observations, and the deliveries follow.
"""

from datetime import UTC, date, datetime

import dagster as dg
import pandas as pd
from pydantic import Field

from assets.alerts.ledger import ALERTS, DeliveryReport, deliver
from assets.alerts.rules import AlertConfig, AlertConfigError, alerts_for, load_config
from assets.changes import (
    CHANGE_COLUMNS,
    CHANGE_SCHEMA,
    CHANGES,
    CHEAPEST_PROVIDER_CHANGED,
    KINDS,
    PRICE_CHANGED,
    changes_partition,
    changes_table,
    previous_day_with_data,
)
from assets.changes import price_changes as diff_days
from assets.ingest import all_observations_keys
from assets.partitions import DAILY_PARTITIONS, partition_days
from assets.schema import OBSERVATION_SCHEMA
from assets.sources.base import env_default
from assets.warehouse import read_day_source_table
from expectations.checks import ROW_COUNT_VS_PREVIOUS
from expectations.suites import row_count_bounds
from pipeline.lake import OBSERVATIONS, Lake, observation_partition
from pipeline.resources import LakeResource

ALERTS_GROUP = "alerts"
PRICE_CHANGES = dg.AssetKey("price_changes")
ALERT_DELIVERIES = dg.AssetKey("alert_deliveries")
ALL_DELIVERED = "all_alerts_delivered"
NOT_CONFIGURED = "no alert rules configured"
BIGGEST_MOVES = 10

#: Sources land independently (one run each, and some never do), so today's changes are recomputed after
#: each one lands, without waiting for the missing ones. Older days are recomputed only when asked for.
AFTER_ANY_SOURCE_LANDS = (
    dg.AutomationCondition.in_latest_time_window()
    & dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after any source lands today")


class AlertsResource(dg.ConfigurableResource):
    """The alert rules file users edit (env `PRICE_ALERTS_FILE`; see `assets/alerts/example_rules.yaml`).
    Empty means alerts are off: nothing is sent, and `alert_deliveries` says so."""

    rules_file: str = Field(default_factory=env_default("PRICE_ALERTS_FILE", ""))

    def load(self) -> AlertConfig | None:
        return load_config(self.rules_file) if self.rules_file else None


@dg.asset(
    key=PRICE_CHANGES,
    deps=all_observations_keys(),
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=AFTER_ANY_SOURCE_LANDS,
    group_name=ALERTS_GROUP,
    kinds={"pandas", "parquet"},
)
def price_changes(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """What changed in each source since the previous day that has data for it (sources miss days; the
    day compared with is in every row and in the metadata): one row per price change, new listing,
    delisting and change of a model's cheapest provider. Lake: `changes/snapshot_date=D/source=S/`. A source
    with no rows on a day gets an empty partition, so re-materializing never leaves stale changes behind;
    so does a source whose row count broke the `row_count_vs_previous` bounds (its changes are held back,
    not alerted: a broken scrape would read as everything delisted)."""
    store = lake.lake()
    frames, compared_with, held_back = [], {}, {}
    for day in partition_days(context):  # in order, one day at a time
        compared_with[day.isoformat()] = {}
        for source in _sources_of_day(store, day):
            changes, previous_date, held = _write_changes(store, source, day)
            frames += [changes] if len(changes) else []
            compared_with[day.isoformat()][source] = previous_date.isoformat() if previous_date else None
            if held:
                held_back[f"{day}/{source}"] = held
                context.log.warning(f"changes of {source} on {day} held back: {held}")
    changes = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CHANGE_COLUMNS)
    counts = changes.groupby(["source", "kind"]).size().unstack(fill_value=0).reindex(columns=list(KINDS), fill_value=0)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(changes),
            **{kind: int(counts[kind].sum()) for kind in KINDS},
            "changes_by_source": dg.MetadataValue.md(counts.to_markdown() if len(counts) else "no changes"),
            "compared_with": dg.MetadataValue.json(compared_with),
            "held_back": dg.MetadataValue.json(held_back),
            "biggest_moves": dg.MetadataValue.md(_biggest_moves(changes)),
            "path": store.path(CHANGES),
        }
    )


def _sources_of_day(lake: Lake, day: date) -> list[str]:
    """Sources with observations that day, and those with a `changes/` partition of it to replace."""
    of_day = (("snapshot_date", day.isoformat()),)
    return sorted(set(lake.partition_values(OBSERVATIONS, of_day)) | set(lake.partition_values(CHANGES, of_day)))


def _write_changes(lake: Lake, source: str, day: date) -> tuple[pd.DataFrame, date | None, str | None]:
    """Write and return the changes of `source` on `day`, the day compared with (None: no rows that day,
    or no earlier day with rows), and why they were held back, if they were."""
    current = lake.read_partition(OBSERVATIONS, observation_partition(source, day))
    current = (OBSERVATION_SCHEMA.empty_table() if current is None else current).to_pandas()
    previous_date = previous_day_with_data(lake, source, day) if len(current) else None
    previous = None
    if previous_date:
        previous = lake.read_partition(OBSERVATIONS, observation_partition(source, previous_date)).to_pandas()
    held = None
    if previous is not None and not _plausible(len(current), len(previous)):
        held, previous = f"{len(current)} rows after {len(previous)} on {previous_date} ({ROW_COUNT_VS_PREVIOUS})", None
    changes = diff_days(current, previous, day, previous_date, source=source)
    lake.write_partition(CHANGES, changes_partition(source, day), changes_table(changes))
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
            "day": top["snapshot_date"].astype(str),
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
    key=ALERT_DELIVERIES,
    deps=[PRICE_CHANGES],
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=dg.AutomationCondition.eager(),
    pool="alerts",
    group_name=ALERTS_GROUP,
    kinds={"parquet"},
    check_specs=[
        dg.AssetCheckSpec(
            ALL_DELIVERED,
            asset=ALERT_DELIVERIES,
            description="Every alert due was delivered: none failed (retried on later runs) or in doubt.",
        )
    ],
)
def alert_deliveries(
    context: dg.AssetExecutionContext, lake: LakeResource, alerts: AlertsResource
) -> dg.MaterializeResult:
    """The day's `price_changes` matched against the alert rules (`PRICE_ALERTS_FILE`) and sent to their
    sinks exactly once: an alert already delivered is never resent, and one that failed (on this or any
    earlier run) is retried until it expires. Every attempt is recorded in the lake (`alerts/`). Runs in the pool
    `alerts`, which must be limited to 1 (`dagster instance concurrency set alerts 1`): two concurrent
    deliveries could both send a queued alert."""
    try:
        config = alerts.load()
    except AlertConfigError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    if config is None:
        context.log.info(f"{NOT_CONFIGURED} (set PRICE_ALERTS_FILE): nothing sent")
        return dg.MaterializeResult(
            metadata={"status": NOT_CONFIGURED},
            check_results=[dg.AssetCheckResult(check_name=ALL_DELIVERED, passed=True, description=NOT_CONFIGURED)],
        )

    store = lake.lake()
    days = partition_days(context)
    changes = read_day_source_table(store, CHANGES, CHANGE_SCHEMA, days[0], days[-1])
    matched = alerts_for(changes.sort_values(["snapshot_date", "source"], kind="stable"), config.rules)
    report = deliver(matched, config.sinks, store, datetime.now(UTC), config.expire_after)
    if report.failed:
        context.log.warning(f"{len(report.failed)} alert(s) not delivered, retried on later runs: {report.metadata()}")
    return dg.MaterializeResult(
        metadata={
            "status": f"rules from {alerts.rules_file}",
            "changes": len(changes),
            "alerts_matched": len(matched),
            **report.metadata(),
            "ledger_path": store.path(ALERTS),
        },
        check_results=[_delivery_check(report)],
    )


def _delivery_check(report: DeliveryReport) -> dg.AssetCheckResult:
    problems = [f"{len(report.failed)} failed (retried on later runs)"] if report.failed else []
    if report.in_doubt:
        problems.append(f"{len(report.in_doubt)} in doubt (a run died mid-send; not resent, check the receiver)")
    return dg.AssetCheckResult(
        check_name=ALL_DELIVERED,
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(problems) or f"{len(report.delivered)} delivered, none pending",
        metadata={"failed": len(report.failed), "in_doubt": len(report.in_doubt)},
    )


ALERT_ASSETS = [price_changes, alert_deliveries]
