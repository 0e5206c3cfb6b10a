"""What each day of an observations run shows in the UI: its own counts and how its checks went.

A ranged run (a backfill) records one materialization per day, each with the run's `MaterializeResult`
metadata; `context.add_asset_metadata(..., partition_key=day)` gives a day its own values over those. So the
result keeps the facts of the run as a whole (named `run_...`), and every count is the day's.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import pandas as pd

from assets.sources.landing import LandedRange
from expectations.checks import FAILING_DATES, OUTPUT_INPUT_RATIO
from expectations.suites import SNAPSHOT_DATE, daily_row_counts
from llmprices.lake.store import RawManifest

#: Reasons listed per day, most frequent first.
MAX_REASONS = 8
#: URLs listed per day.
MAX_URLS = 10


def add_raw_day_metadata(
    context: dg.AssetExecutionContext, landed: list[RawManifest], no_capture: list[tuple[date, str]]
) -> None:
    """Each archived day's payloads; a day the run bridged (no capture) says so."""
    for manifest in landed:
        entries = manifest.payloads
        metadata = {
            "payloads": len(entries),
            "bytes": sum(e["bytes"] for e in entries),
            "urls": dg.MetadataValue.md("\n".join(f"- `{e['url']}`" for e in entries[:MAX_URLS])),
            "sha256": entries[0]["sha256"] if len(entries) == 1 else f"{len(entries)} payloads",
        }
        context.add_asset_metadata(metadata, partition_key=manifest.snapshot_date.isoformat())
    for day, why in no_capture:
        context.add_asset_metadata({"capture": f"none, bridged by the run: {why}"}, partition_key=day.isoformat())


def add_day_metadata(
    context: dg.AssetExecutionContext,
    landed: LandedRange,
    checks: list[dg.AssetCheckResult],
    previous_row_count: int | None,
    held: list[date],
) -> None:
    """Set each day's own metadata on its materialization; a day without raw payloads (bridged by the run) says so,
    and so does a day a blocking check held back (its rows are not published)."""
    held_days = {day.isoformat() for day in held}
    for day, metadata in observations_day_metadata(landed, checks, previous_row_count).items():
        if day in held_days:  # its rows are in held/observations/, not published
            metadata |= {
                "dagster/row_count": 0,
                "held_back_rows": metadata["dagster/row_count"],
                "published": "no: held back by a failed blocking check (`llmprices accept` publishes it)",
            }
        context.add_asset_metadata(metadata, partition_key=day)
    for missing in landed.missing_days:  # "<day>: why"
        day, why = missing.split(": ", 1)
        context.add_asset_metadata({"raw_payloads": f"none, bridged by the run: {why}"}, partition_key=day)


def observations_day_metadata(
    landed: LandedRange, checks: list[dg.AssetCheckResult], previous_row_count: int | None
) -> dict[str, dict]:
    """Per day (ISO date): rows, quarantined rows and why, providers, models, the share of rows with a
    canonical model, the previous day's rows, and each check's outcome on that day."""
    valid, quarantined = landed.observations, landed.quarantined
    valid_days = valid[SNAPSHOT_DATE].astype(str)
    quarantined_days = quarantined[SNAPSHOT_DATE].astype(str)
    counts = daily_row_counts(landed.day_counts, previous_row_count)
    failing = {check.check_name: set(check.metadata[FAILING_DATES].value) for check in checks}
    metadata = {}
    for day, previous in zip(counts[SNAPSHOT_DATE].astype(str), counts["previous_row_count"], strict=True):
        rows = valid[valid_days == day]
        reasons = quarantined.loc[quarantined_days == day, "reason"].value_counts().head(MAX_REASONS)
        metadata[day] = {
            "dagster/row_count": len(rows),
            "quarantined_rows": int((quarantined_days == day).sum()),
            "quarantine_reasons": dg.MetadataValue.md(
                reasons.rename_axis("reason").reset_index(name="rows").to_markdown(index=False)
                if len(reasons)
                else "none"
            ),
            "providers": int(rows["provider"].nunique()),
            "models": int(rows["model"].nunique()),
            "model_coverage": dg.MetadataValue.float(
                round(float(rows["model_matched"].mean()), 4) if len(rows) else 0.0
            ),
            "previous_partition_rows": None if pd.isna(previous) else int(previous),
            **{f"check/{name}": _outcome(name, day in days) for name, days in failing.items()},
        }
    return metadata


def _outcome(check: str, failed: bool) -> str:
    if not failed:
        return "passed"
    return "warned" if check == OUTPUT_INPUT_RATIO else "failed"
