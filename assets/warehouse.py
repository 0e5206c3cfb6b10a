"""Read lake tables back as typed frames, for the assets downstream of observations.

Goes through pyarrow datasets with an explicit hive schema, so `snapshot_date` is a date (not a
string) and the same code reads a local folder or an object store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from assets.schema import OBSERVATION_SCHEMA
from pipeline.lake import OBSERVATIONS, Lake

#: The hive columns of tables laid out as <table>/snapshot_date=D/source=S/.
DAY_SOURCE_PARTITIONING = ds.partitioning(
    pa.schema([("snapshot_date", pa.date32()), ("source", pa.string())]), flavor="hive"
)


def read_day_source_table(
    lake: Lake,
    table: str,
    schema: pa.Schema,
    first_day: date | None = None,
    last_day: date | None = None,
    sources: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of a snapshot_date/source-partitioned table, with both hive columns, filtered by day and source."""
    full_schema = pa.schema([*schema, *DAY_SOURCE_PARTITIONING.schema])
    if not lake.partition_values(table):
        return full_schema.empty_table().to_pandas()
    dataset = ds.dataset(
        lake.path(table), filesystem=lake.fs, format="parquet", partitioning=DAY_SOURCE_PARTITIONING,
        schema=full_schema, exclude_invalid_files=False,
    )  # fmt: skip
    condition = None
    for clause in (
        ds.field("snapshot_date") >= first_day if first_day else None,
        ds.field("snapshot_date") <= last_day if last_day else None,
        ds.field("source").isin(list(sources)) if sources else None,
    ):
        if clause is not None:
            condition = clause if condition is None else condition & clause
    return dataset.to_table(filter=condition).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def read_observations(
    lake: Lake, first_day: date | None = None, last_day: date | None = None, sources: Sequence[str] | None = None
) -> pd.DataFrame:
    """Observations of the given days (inclusive) and sources, with `snapshot_date` and `source`."""
    return read_day_source_table(lake, OBSERVATIONS, OBSERVATION_SCHEMA, first_day, last_day, sources)
