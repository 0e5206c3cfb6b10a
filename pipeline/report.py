"""Read-only DuckDB queries over the lake that the CLI prints (what a user checks after a run)."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.lake import OBSERVATIONS, QUARANTINE, Lake

#: Quantizations below 16-bit change the product; the seed left them out of price comparisons.
REDUCED_PRECISION = ("fp8", "fp6", "fp4", "int8", "int4")


def _scan(lake: Lake, table: str) -> str:
    return f"read_parquet('{lake.uri(table)}', hive_partitioning = true, union_by_name = true)"


def rows_per_source(lake: Lake) -> pd.DataFrame:
    """Observation and quarantine row counts per day and source."""
    query = f"""
        with obs as (select snapshot_date, source, count(*) as rows from {_scan(lake, OBSERVATIONS)} group by all),
             bad as (select snapshot_date, source, count(*) as quarantined from {_scan(lake, QUARANTINE)} group by all)
        select snapshot_date, source, coalesce(rows, 0) as rows, coalesce(quarantined, 0) as quarantined
        from obs full outer join bad using (snapshot_date, source)
        order by snapshot_date, source
    """
    return duckdb.sql(query).df()


def quarantine_reasons(lake: Lake, limit: int = 8) -> pd.DataFrame:
    query = f"""
        select source, reason, count(*) as rows from {_scan(lake, QUARANTINE)}
        group by all order by rows desc, source limit {limit}
    """
    return duckdb.sql(query).df()


def price_spreads(lake: Lake, day: str, min_providers: int = 3, limit: int = 10) -> pd.DataFrame:
    """Blended-price spread per model across providers on one day: full-precision, paid listings,
    one price per provider (its cheapest), OpenRouter's own resale price left out."""
    quantized = ", ".join(f"'{q}'" for q in REDUCED_PRECISION)
    query = f"""
        with listings as (
            select model, provider, min(blended_usd_per_mtok) as blended
            from {_scan(lake, OBSERVATIONS)}
            where snapshot_date = DATE '{day}' and provider <> 'openrouter' and not is_free
              and coalesce(lower(quantization), '') not in ({quantized})
            group by model, provider
        )
        select model, count(*) as n_providers, round(min(blended), 3) as min,
               round(median(blended), 3) as median, round(max(blended), 3) as max,
               round(max(blended) / nullif(min(blended), 0), 1) as max_over_min,
               arg_min(provider, blended) as cheapest_provider
        from listings group by model having count(*) >= {min_providers}
        order by n_providers desc, model limit {limit}
    """
    return duckdb.sql(query).df()
