"""What the analytics assets read from the lake: the catalog and the reconciled provider prices."""

from __future__ import annotations

from datetime import date

import pandas as pd

from llmprices.catalog.catalog import load_curated
from llmprices.lake.read import read_day_source_table
from llmprices.lake.store import Lake
from llmprices.lake.tables import CATALOG, PROVIDER_PRICES


def catalog_of(lake: Lake) -> tuple[pd.DataFrame, str]:
    """The materialized `model_catalog`, else the curated table shipped with the code (said in metadata)."""
    table = lake.read_partition(CATALOG, ())
    if table is not None:
        return table.to_pandas(), f"lake table {CATALOG.name}/ (model_catalog)"
    return load_curated(), "curated llmprices/catalog/models.csv: model_catalog is not materialized yet"


def provider_prices_between(lake: Lake, first: date | None = None, last: date | None = None) -> pd.DataFrame:
    """The `provider_prices` rows of the days from `first` to `last` (default: all), with `snapshot_date`."""
    return read_day_source_table(lake, PROVIDER_PRICES, first, last)
