"""Turn parsed listings into rows of the `observations` table and rejections into `quarantine` rows.

All sources share this step, so the blend, the free flag and the canonical model id (resolved by the
catalog's matcher; the normalized id stands in when it is unknown) are computed one way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pandas as pd
import pyarrow as pa

from llmprices.catalog.matcher import resolve
from llmprices.lake.tables import OBSERVATIONS, QUARANTINE, blended_usd_per_mtok
from llmprices.sources.base import Listing, ParsedPayload, Rejection

OBSERVATION_SCHEMA = OBSERVATIONS.schema
QUARANTINE_SCHEMA = QUARANTINE.schema
BLENDED = "blended_usd_per_mtok"
#: The observation columns a listing fills; the blend is computed over whole columns afterwards.
LISTING_SCHEMA = pa.schema([f for f in OBSERVATION_SCHEMA if f.name != BLENDED])


def observations_frame(parsed: Iterable[ParsedPayload]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(observations, parse rejections) for one source and day, typed as the lake schema says."""
    observations, rejected = observations_table(parsed)
    return to_frame(observations), to_frame(rejected)


def observations_table(parsed: Iterable[ParsedPayload]) -> tuple[pa.Table, pa.Table]:
    """(observations, parse rejections) as Arrow tables of the lake schemas.

    Built column by column from tuples: rows of dicts through a DataFrame cost several times more.
    """
    listing_rows, rejection_rows = [], []
    for item in parsed:
        sha, observed_at = item.payload.sha256, item.payload.fetched_at
        listing_rows.extend(_listing_row(listing, observed_at, sha) for listing in item.listings)
        rejection_rows.extend(_rejection_row(rejection, observed_at, sha) for rejection in item.rejections)
    return _with_blend(_table(listing_rows, LISTING_SCHEMA)), _table(rejection_rows, QUARANTINE_SCHEMA)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A lake table as pandas, with nullable integers (a plain int64 column cannot hold a missing value)."""
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def _listing_row(listing: Listing, observed_at, sha: str) -> tuple:
    """One observation in `LISTING_SCHEMA` order."""
    match = resolve(listing.provider_model_id, provider=listing.provider, hint=listing.model_hint)
    is_free = listing.is_free
    if is_free is None:
        is_free = listing.input_usd_per_mtok == 0 and listing.output_usd_per_mtok == 0
    return (
        observed_at,
        listing.provider,
        listing.provider_model_id,
        listing.variant,
        match.model or match.normalized,
        match.model_variant,
        match.model is not None,
        listing.input_usd_per_mtok,
        listing.output_usd_per_mtok,
        listing.context_length,
        listing.quantization,
        is_free,
        listing.price_is_tiered,
        listing.cache_read_usd_per_mtok,
        listing.latency_ms,
        listing.throughput_tps,
        listing.uptime_pct,
        sha,
        listing.model_hint or None,
    )


def _rejection_row(rejection: Rejection, observed_at, sha: str) -> tuple:
    """One quarantine row in `QUARANTINE_SCHEMA` order."""
    record = json.dumps(rejection.record, default=str, sort_keys=True)
    return (
        observed_at,
        rejection.provider,
        rejection.provider_model_id,
        rejection.reason,
        rejection.failed_check,
        record,
        sha,
    )


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    """Rows (tuples in schema order) as a table; NaN becomes null, as it would coming from pandas."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    arrays = [pa.array(values, type=f.type, from_pandas=True) for values, f in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def _with_blend(listings: pa.Table) -> pa.Table:
    """The listings with the seed's 3:1 input:output blend in its column (a missing price gives none)."""
    prices = (listings[name].to_numpy() for name in ("input_usd_per_mtok", "output_usd_per_mtok"))
    blend = pa.array(blended_usd_per_mtok(*prices), pa.float64(), from_pandas=True)
    columns = [blend if name == BLENDED else listings[name] for name in OBSERVATION_SCHEMA.names]
    return pa.Table.from_arrays(columns, schema=OBSERVATION_SCHEMA)
