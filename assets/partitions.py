"""Partitions of the pipeline: one per UTC day and one per month, and the days a run covers."""

from __future__ import annotations

from datetime import date

import dagster as dg

#: From before the first day of the shared OpenRouter history; `end_offset=1` includes today.
DAILY_PARTITIONS = dg.DailyPartitionsDefinition(start_date="2024-09-01", end_offset=1)

#: One per calendar month, same start. `end_offset=0`: the newest partition is the last *complete* month,
#: so a month is fitted once all its days are in (the monthly schedule refits it on the 1st).
MONTHLY_PARTITIONS = dg.MonthlyPartitionsDefinition(start_date="2024-09-01", end_offset=0)


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """Every day a run covers: one for a daily run, the whole range for a single-run backfill."""
    return [date.fromisoformat(key) for key in context.partition_keys]
