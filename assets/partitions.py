"""Partitions of the pipeline: one per UTC day, and helpers to walk a run's days."""

from __future__ import annotations

import warnings
from datetime import date

import dagster as dg

# Single-run backfills are how a year of history lands in one run; the parameter is marked beta.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

#: From before the first day of the shared OpenRouter history; `end_offset=1` includes today.
DAILY_PARTITIONS = dg.DailyPartitionsDefinition(start_date="2024-09-01", end_offset=1)


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """Every day a run covers: one for a daily run, the whole range for a single-run backfill."""
    return [date.fromisoformat(key) for key in context.partition_keys]


#: One per calendar month, same start. `end_offset=0`: the newest partition is the last *complete* month,
#: so a month is fitted once all its days are in (the monthly schedule refits it on the 1st).
MONTHLY_PARTITIONS = dg.MonthlyPartitionsDefinition(start_date="2024-09-01", end_offset=0)
