"""Dagster asset of price alerts: `alert_deliveries`, the rules applied to a day's `price_changes` and sent
exactly once through the core's ledger (`llmprices.alerts.ledger`).

It follows `price_changes` by declarative automation (see `pipeline/sensors.py`): today's deliveries follow
today's changes whenever a source lands.
"""

from datetime import UTC, date, datetime

import dagster as dg
import pandas as pd

from assets.keys import ALERT_DELIVERIES, ALERTS_GROUP, NEW_MODELS, PRICE_CHANGES
from assets.partitions import DAILY_PARTITIONS, partition_days
from llmprices.alerts.alert import Alert
from llmprices.alerts.ledger import DeliveryReport, deliver
from llmprices.alerts.rules import AlertConfigError, alerts_for
from llmprices.lake.read import read_day_source_table
from llmprices.lake.tables import ALERTS, CHANGES
from llmprices.lake.tables import NEW_MODELS as NEW_MODELS_TABLE
from llmprices.warehouse.changes import NEW_MODEL, new_model_changes

ALL_DELIVERED = "all_alerts_delivered"
NOT_CONFIGURED = "no alert rules configured"


@dg.asset(
    key=ALERT_DELIVERIES,
    deps=[PRICE_CHANGES, NEW_MODELS],
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=dg.AutomationCondition.eager(),
    pool="alerts",
    group_name=ALERTS_GROUP,
    kinds={"parquet"},
    required_resource_keys={"lake", "alerts"},
    check_specs=[
        dg.AssetCheckSpec(
            ALL_DELIVERED,
            asset=ALERT_DELIVERIES,
            description="Every alert due was delivered: none failed (retried on later runs) or in doubt.",
        )
    ],
)
def alert_deliveries(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The day's `price_changes` and `new_models` (kind `new_model`) matched against the alert rules
    (`PRICE_ALERTS_FILE`) and sent to their sinks exactly once: an alert already delivered is never resent, and
    one that failed (on this or any earlier run) is retried until it expires. Every attempt is recorded in the
    lake (`alerts/`). Runs in the pool
    `alerts`, which must be limited to 1 (`dagster instance concurrency set alerts 1`): two concurrent
    deliveries could both send a queued alert."""
    alerts = context.resources.alerts
    try:
        config = alerts.load()
    except AlertConfigError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    days = partition_days(context)
    if config is None:
        context.log.info(f"{NOT_CONFIGURED} (set PRICE_ALERTS_FILE): nothing sent")
        return dg.MaterializeResult(
            metadata={"status": NOT_CONFIGURED},
            check_results=[dg.AssetCheckResult(check_name=ALL_DELIVERED, passed=True, description=NOT_CONFIGURED)],
        )

    store = context.resources.lake.lake()
    changes = read_day_source_table(store, CHANGES, days[0], days[-1])
    new = read_day_source_table(store, NEW_MODELS_TABLE, days[0], days[-1])
    if len(new):
        changes = pd.concat([changes, new_model_changes(new)], ignore_index=True)
    matched = alerts_for(changes.sort_values(["snapshot_date", "source"], kind="stable"), config.rules)
    report = deliver(matched, config.sinks, store, datetime.now(UTC), config.expire_after)
    if report.failed:
        context.log.warning(f"{len(report.failed)} alert(s) not delivered, retried on later runs: {report.metadata()}")
    for day in days:
        context.add_asset_metadata(_day_metadata(day, changes, matched, report), partition_key=day.isoformat())
    return dg.MaterializeResult(
        metadata={
            "status": f"rules from {alerts.rules_file}",
            "run_changes": len(changes) - len(new),
            "run_new_models": len(new),
            "run_alerts_matched": len(matched),
            **{f"run_{name}": value for name, value in report.metadata().items()},
            "ledger_path": store.path(ALERTS),
        },
        check_results=[_delivery_check(report)],
    )


def _day_metadata(day: date, changes: pd.DataFrame, matched: list[Alert], report: DeliveryReport) -> dict:
    """The day's price changes, new models and alerts, and what became of those alerts in this run (the run's
    totals also count earlier days' alerts it retried)."""
    ids = {alert.alert_id for alert in matched if alert.snapshot_date == day}
    of_day = changes[changes["snapshot_date"] == day]
    new = of_day["kind"].eq(NEW_MODEL)
    return {
        "changes": int((~new).sum()),
        "new_models": int(new.sum()),
        "alerts_matched": len(ids),
        "delivered": len(ids.intersection(report.delivered)),
        "failed": len(ids.intersection(report.failed)),
        "expired": len(ids.intersection(report.expired)),
        "already_done": len(ids.intersection(report.already_done)),
    }


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


ALERT_ASSETS = [alert_deliveries]
