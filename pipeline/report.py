"""What the CLI prints after a run: read-only queries over the lake's SQL views (`llmprices.lake.query`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from llmprices.lake.query import connect
from llmprices.lake.store import Lake


def rows_per_source(lake: Lake) -> pd.DataFrame:
    """Observation and quarantine row counts per day and source."""
    query = """
        with obs as (select snapshot_date, source, count(*) as rows from observations group by all),
             bad as (select snapshot_date, source, count(*) as quarantined from quarantine group by all)
        select snapshot_date, source, coalesce(rows, 0) as rows, coalesce(quarantined, 0) as quarantined
        from obs full outer join bad using (snapshot_date, source)
        order by snapshot_date, source
    """
    return connect(lake.root_uri).sql(query).df()


def quarantine_reasons(lake: Lake, limit: int = 8) -> pd.DataFrame:
    query = "select source, reason, count(*) as rows from quarantine group by all order by rows desc, source limit ?"
    return connect(lake.root_uri).execute(query, [limit]).df()


def spreads_on(lake: Lake, day: str, min_providers: int = 3, limit: int = 10) -> pd.DataFrame:
    """The `daily_spreads` rows of one day for models with at least `min_providers` providers."""
    query = """
        select model, n_providers, round(min, 3) as min, round(median, 3) as median, round(max, 3) as max,
               round(max_over_min, 1) as max_over_min, cheapest_provider
        from spreads where snapshot_date = ? and n_providers >= ?
        order by n_providers desc, model limit ?
    """
    return connect(lake.root_uri).execute(query, [date.fromisoformat(day), min_providers, limit]).df()


def min_price_trend(lake: Lake, month: str) -> pd.DataFrame:
    """The month's minimum-price trend: fixed cost, variable cost per 10B parameters, R², 10T price."""
    query = """
        select n_models, round(intercept, 4) as fixed_cost, round(variable_cost_per_10b, 4) as per_10b_params,
               round(r2, 3) as r2, round(price_10t, 2) as price_10t_model, models
        from trends_min_price_fit where month = ?
    """
    return connect(lake.root_uri).execute(query, [month]).df()


def changes_on(lake: Lake, day: str) -> pd.DataFrame:
    """Price changes found on one day, per source and kind, with the day each source was compared with."""
    query = """
        select source, previous_date, kind, count(*) as changes
        from changes where snapshot_date = ? group by all order by source, kind
    """
    return connect(lake.root_uri).execute(query, [date.fromisoformat(day)]).df()


def landed(lake: Lake, sources: Sequence[str], days: Sequence[date]) -> pd.DataFrame:
    """Per source, over these days: the days with data, observation rows and quarantined records."""
    query = """
        with obs as (select source, snapshot_date, count(*) as rows from observations
                     where list_contains($sources, source) and list_contains($days, snapshot_date) group by all),
             bad as (select source, snapshot_date, count(*) as quarantined from quarantine
                     where list_contains($sources, source) and list_contains($days, snapshot_date) group by all)
        select source, count(*) as days, sum(coalesce(rows, 0))::bigint as rows,
               sum(coalesce(quarantined, 0))::bigint as quarantined
        from obs full outer join bad using (source, snapshot_date) group by source order by source
    """
    return connect(lake.root_uri).execute(query, {"sources": list(sources), "days": list(days)}).df()


def quarantined(lake: Lake, sources: Sequence[str], days: Sequence[date], limit: int = 10) -> pd.DataFrame:
    """Why records of these sources and days were quarantined: the most frequent reasons, with their counts."""
    query = """
        select source, reason, count(*) as rows from quarantine
        where list_contains($sources, source) and list_contains($days, snapshot_date)
        group by all order by rows desc, source, reason limit $limit
    """
    return connect(lake.root_uri).execute(query, {"sources": list(sources), "days": list(days), "limit": limit}).df()
