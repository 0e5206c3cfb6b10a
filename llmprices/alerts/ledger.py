"""Exactly-once alert delivery, with every step recorded in the lake table `alerts/`.

The ledger is an append-only log: `alerts/snapshot_date=D/` holds one row per event of the alerts about day
D's changes, in the order they happened; an alert's state is its last row. The transitions:

    from            on                                             to
    (none)          `deliver` is given the alert                   queued
    queued, failed  a send starts: the intent row                  pending
    pending         the sink returned                              delivered
    pending         the sink raised                                failed (+ error; a later run retries)
    pending         no outcome row: the process died mid-send      in doubt (never resent; reported)
    queued, failed  the alert is past its expiry                   expired (never sent)

- `queued`: known and never attempted. Registering a run's alerts first means a crash part-way through a
  run loses none: the next run (of any day) finds them in the ledger and sends them.
- `pending`: the intent, written *before* sending. The outcome row follows the send. If the process dies
  in between, the alert may or may not have reached the receiver, and nothing can tell. It is then **in
  doubt**: never resent automatically (a duplicate is what users asked not to get) but listed in every
  report until it expires, for an operator to check. The trade-off: a crash in that short window can lose
  one alert; it can never duplicate one. (Receivers that dedupe on the webhook's `Idempotency-Key` or the
  email's Message-ID would make resending safe, but not every sink can.)
- `delivered`, `expired`: final. `failed` (with the sink's secret-free error) is retried on every later
  run until the alert expires: `expire_after` past the start of its `snapshot_date` (UTC), so a sink's long
  outage, or a backfill of old days, never sends stale news; those alerts are recorded `expired` unsent.

Each intent and outcome is its own atomic partition write, so an alert's window of doubt is one send long.
`deliver` must not run concurrently with itself on one lake (two runs could both send a queued alert):
run it in a Dagster pool with a limit of 1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pyarrow as pa

from llmprices.alerts.alert import Alert
from llmprices.alerts.sinks import DeliveryError, Sink
from llmprices.lake.store import Lake
from llmprices.lake.tables import ALERTS

log = logging.getLogger(__name__)

DEFAULT_EXPIRY = timedelta(days=3)

QUEUED, PENDING, DELIVERED, FAILED, EXPIRED = "queued", "pending", "delivered", "failed", "expired"
#: States `deliver` acts on; a `pending` last row at the start of a run means "in doubt".
RETRYABLE = (QUEUED, FAILED)


@dataclass
class DeliveryReport:
    """What one `deliver` call did, by alert id; holds no secret (errors come redacted from the sinks)."""

    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    expired: list[str] = field(default_factory=list)
    in_doubt: list[str] = field(default_factory=list)
    #: alerts given to `deliver` that an earlier run already delivered or gave up on
    already_done: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, object]:
        """Counts and a few failures, for a Dagster materialization."""
        return {
            "delivered": len(self.delivered),
            "failed": len(self.failed),
            "expired": len(self.expired),
            "in_doubt": len(self.in_doubt),
            "already_done": len(self.already_done),
            "errors": "; ".join(f"{k}: {v}" for k, v in list(self.failed.items())[:5]),
            "in_doubt_ids": ", ".join(self.in_doubt[:20]),
        }


def deliver(
    alerts: Iterable[Alert],
    sinks: Mapping[str, Sink],
    lake: Lake,
    now: datetime,
    expire_after: timedelta = DEFAULT_EXPIRY,
) -> DeliveryReport:
    """Send each of `alerts` and every earlier undelivered one at most once, recording every step."""
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    ledger = _Ledger(lake, now)
    report = DeliveryReport()
    given = list({alert.alert_id: alert for alert in alerts}.values())
    report.already_done = [a.alert_id for a in given if ledger.status(a.alert_id) in (DELIVERED, EXPIRED)]
    ledger.record([(a, QUEUED, 0, None) for a in given if ledger.status(a.alert_id) is None])

    expired, due = [], []
    for alert_id in ledger.alert_ids():
        status = ledger.status(alert_id)
        if status not in (PENDING, *RETRYABLE):
            continue
        alert = ledger.alert(alert_id)
        past_expiry = now >= datetime.combine(alert.snapshot_date, time(), UTC) + expire_after
        if status == PENDING and not past_expiry:
            report.in_doubt.append(alert_id)
        elif status in RETRYABLE:
            (expired if past_expiry else due).append(alert)
    ledger.record([(a, EXPIRED, 0, "not delivered before its expiry") for a in expired])
    report.expired = [a.alert_id for a in expired]

    for alert in due:
        attempt = ledger.last_attempt(alert.alert_id) + 1
        ledger.record([(alert, PENDING, attempt, None)])
        outcome, error = _send(alert, sinks.get(alert.sink))
        ledger.record([(alert, outcome, attempt, error)])
        if outcome == DELIVERED:
            report.delivered.append(alert.alert_id)
        else:
            report.failed[alert.alert_id] = error
            log.warning("alert %s to sink %s failed (attempt %d): %s", alert.alert_id, alert.sink, attempt, error)
    if report.in_doubt:
        log.warning(
            "%d alert(s) in doubt (sent or not, unknown; not resent): %s", len(report.in_doubt), report.in_doubt
        )
    return report


def _send(alert: Alert, sink: Sink | None) -> tuple[str, str | None]:
    """(outcome, error) of one send; any exception is a failure, told without secrets."""
    if sink is None:
        return FAILED, f"sink {alert.sink!r} is not configured"
    try:
        sink.send(alert)
    except DeliveryError as exc:
        return FAILED, sink.redact(str(exc))
    except Exception as exc:  # a sink's bug must not stop the others; its text may quote anything
        return FAILED, sink.redact(f"{type(exc).__name__}: {exc}")
    return DELIVERED, None


class _Ledger:
    """The rows of every `alerts/` partition in memory, appended to and written back partition by partition.

    Every partition is read, not just recent ones, so an alert still `failed` from a day long past is
    eventually marked `expired` rather than left looking retryable. It is one small file per day with alerts.
    """

    def __init__(self, lake: Lake, now: datetime):
        self.lake, self.now = lake, now
        self.rows: dict[date, list[dict]] = {}
        for day in lake.partition_values(ALERTS):
            table = lake.read_partition(ALERTS, ALERTS.partition(snapshot_date=day))
            self.rows[date.fromisoformat(day)] = table.to_pylist() if table is not None else []
        self.last: dict[str, dict] = {}
        for day in sorted(self.rows):
            for row in self.rows[day]:
                self.last[row["alert_id"]] = row

    def status(self, alert_id: str) -> str | None:
        row = self.last.get(alert_id)
        return row["status"] if row else None

    def alert(self, alert_id: str) -> Alert:
        return Alert.from_json(self.last[alert_id]["alert"])

    def alert_ids(self) -> list[str]:
        """Every known alert, oldest day first and in the order it was registered."""
        return list(self.last)

    def last_attempt(self, alert_id: str) -> int:
        return self.last[alert_id]["attempt"]

    def record(self, events: list[tuple[Alert, str, int, str | None]]) -> None:
        """Append `(alert, status, attempt, error)` rows, one atomic write per day touched."""
        touched = set()
        for alert, status, attempt, error in events:
            change = alert.change
            row = {
                "alert_id": alert.alert_id,
                "status": status,
                "attempt": attempt,
                "error": error,
                "recorded_at": self.now,
                "rule": alert.rule,
                "sink": alert.sink,
                "change_id": change["change_id"],
                "source": change["source"],
                "kind": change["kind"],
                "model": change["model"],
                "provider": change["provider"],
                "alert": alert.to_json(),
            }
            self.rows.setdefault(alert.snapshot_date, []).append(row)
            self.last[alert.alert_id] = row
            touched.add(alert.snapshot_date)
        for day in sorted(touched):
            rows = pa.Table.from_pylist(self.rows[day], ALERTS.schema)
            self.lake.write_partition(ALERTS, ALERTS.partition(snapshot_date=day), rows)
