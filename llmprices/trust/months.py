"""The trust rules and the reconciliation over a run's days, a month at a time: each month's observations (and a
lead-in) judged with the facts of the listings' whole history (`history`), so a run over a year holds a month of
observations in memory, never the lake, and flags each day as one pass over the whole history would.

The lead-in is the earliest capture a judged day still reads: each source's last capture a first judged day is
priced from (a capture stands for `carry_days`), the router captures those rows' copies are matched with
(`copy_lookback_days`), and the same again for the market those carried rows are judged against. Sources
captured daily need none; genai-prices, captured on a quarter of the days, needs up to 27 days (twice
`carry_days` and `copy_lookback_days` once)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from llmprices.lake.read import by_month, read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from llmprices.trust.config import TrustConfig
from llmprices.trust.copies import ROUTER_LIST_SOURCES
from llmprices.trust.flags import flag_observations, open_weight_models
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
    captures = {
        source: sorted(lake.days_with_rows(OBSERVATIONS, source))
        for source in lake.sources_with_partitions(OBSERVATIONS)
    }
    for month_days in by_month(days):
        first, last = month_days[0], month_days[-1]
        window = read_observations(lake, window_start(first, captures, config), last)
        flagged = flag_observations(window, catalog, config, history=history)
        judged = flagged[flagged["snapshot_date"].between(pd.Timestamp(first), pd.Timestamp(last))]
        yield JudgedMonth(month_days, judged, reconcile(flagged, pd.date_range(first, last), config))


def window_start(first: date, captures: dict[str, list[date]], config: TrustConfig) -> date:
    """The earliest day whose rows can change the flags or prices of `first` and the days after it, given each
    source's capture days (ascending): at most 2 x `carry_days` + `copy_lookback_days` before `first`."""
    sources, routers = list(captures), [source for source in captures if source in ROUTER_LIST_SOURCES]
    priced_from = _earliest(first, sources, captures, config.carry_days)  # captures a judged day still stands on
    judged_against = _earliest(priced_from, sources, captures, config.carry_days)  # the market those rows face
    copies_of = _earliest(priced_from, routers, captures, config.copy_lookback_days)
    market_copies_of = _earliest(judged_against, routers, captures, config.copy_lookback_days)
    return min(copies_of, market_copies_of)


def _earliest(day: date, sources: list[str], captures: dict[str, list[date]], within: int) -> date:
    """`day`, or the earliest of the sources' last captures on or before it, if at most `within` days before."""
    earliest = day
    for source in sources:
        days = captures[source]
        at = bisect_right(days, day)
        if at and (day - days[at - 1]).days <= within:
            earliest = min(earliest, days[at - 1])
    return earliest
