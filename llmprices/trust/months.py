"""The trust rules and the reconciliation over a run's days, a month at a time: each month's observations (and a
lead-in) judged with the facts of the listings' whole history (`history`), so a run over a year holds a month of
observations in memory, never the lake, and flags each day as one pass over the whole history would."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

import pandas as pd

from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.trust.config import TrustConfig
from llmprices.trust.flags import flag_observations, lead_in_days, open_weight_models
from llmprices.trust.history import gather_history
from llmprices.trust.reconcile import reconcile


@dataclass(frozen=True)
class JudgedMonth:
    #: the run's days in this month
    days: list[date]
    #: the observations of those days with their flags (`flags.flag_observations`)
    flagged: pd.DataFrame
    #: one price per provider, model, variant and day (`reconcile.reconcile`)
    reconciled: pd.DataFrame


def judged_months(
    lake: Lake, days: Sequence[date], catalog: pd.DataFrame, config: TrustConfig
) -> Iterator[JudgedMonth]:
    """The run's `days`, judged and reconciled a calendar month at a time, in order."""
    history = gather_history(lake, open_weight_models(catalog), config)
    for _, month in groupby(sorted(days), key=lambda day: (day.year, day.month)):
        month_days = list(month)
        first, last = month_days[0], month_days[-1]
        window = read_observations(lake, first - timedelta(days=lead_in_days(config)), last)
        flagged = flag_observations(window, catalog, config, history=history)
        judged = flagged[flagged["snapshot_date"].between(pd.Timestamp(first), pd.Timestamp(last))]
        yield JudgedMonth(month_days, judged, reconcile(flagged, pd.date_range(first, last), config))
