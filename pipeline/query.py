"""Read-only SQL over the lake from Python: `connect(lake_uri)` gives a DuckDB connection with a view
per table, `observations`, `quarantine` and `price_history`.

`observations` reads each month from its compacted file while that is fresh and from the daily files
otherwise (`assets.compaction.plan_reads`), so every day's rows come from exactly one place. Which files
those are is fixed when `connect` is called: the connection sees the lake as it was then (reconnect to
see new days; a compacted file it names is kept at least `GRACE` after being superseded). The other two
views find their files at every query.
"""

from collections.abc import Callable
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs

from assets.compaction import COMPACTED_SCHEMA, plan_reads
from assets.history import HISTORY, HISTORY_SCHEMA
from assets.schema import QUARANTINE_SCHEMA
from assets.warehouse import DAY_SOURCE_PARTITIONING
from pipeline.lake import QUARANTINE, Lake

_DAY_SOURCE_HIVE = ", hive_partitioning = true, hive_types = {'snapshot_date': DATE, 'source': VARCHAR}"
_SOURCE_HIVE = ", hive_partitioning = true, hive_types = {'source': VARCHAR}"
QUARANTINE_VIEW_SCHEMA = pa.schema([*QUARANTINE_SCHEMA, *DAY_SOURCE_PARTITIONING.schema])
HISTORY_VIEW_SCHEMA = pa.schema([pa.field("source", pa.string()), *HISTORY_SCHEMA])


def connect(lake_uri: str, use_compacted: bool = True) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection whose views read the lake at `lake_uri` (a folder or an fsspec URI);
    `use_compacted=False` reads the daily files only (to check or time the compaction against them)."""
    lake = Lake(lake_uri)
    con = duckdb.connect()
    con.execute("set parquet_metadata_cache = true")  # compacted files never change; others are re-validated
    located = _locator(con, lake)
    plan = plan_reads(lake, use_compacted)
    scans = [_scan(located, plan.compacted)] if plan.compacted else []
    scans += [f"{_scan(located, [path])} where {_in_months(months)}" for path, months in plan.partly_fresh.items()]
    scans += [_scan(located, plan.daily, _DAY_SOURCE_HIVE)] if plan.daily else []
    _view(con, "observations", COMPACTED_SCHEMA, scans)
    _view(con, "quarantine", QUARANTINE_VIEW_SCHEMA, _glob_scan(lake, located, QUARANTINE, "**", _DAY_SOURCE_HIVE))
    _view(con, "price_history", HISTORY_VIEW_SCHEMA, _glob_scan(lake, located, HISTORY, "*", _SOURCE_HIVE))
    return con


def _view(con: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema, scans: list[str]) -> None:
    """A view of `schema`'s columns over the scans (`read_parquet(...)`, maybe with a `where`) stacked; with
    none (no file yet), an empty view with those columns and types."""
    if scans:
        columns = ", ".join(schema.names)
        body = " union all ".join(f"select {columns} from {scan}" for scan in scans)
    else:
        empty = con.from_arrow(schema.empty_table())
        body = "select " + ", ".join(f"null::{t} as {c}" for c, t in zip(empty.columns, empty.types, strict=True))
        body += " limit 0"
    con.execute(f"create view {name} as {body}")


def _scan(located: Callable[[str], str], paths: list[str], options: str = "") -> str:
    listed = ", ".join("'" + located(path).replace("'", "''") + "'" for path in paths)
    return f"read_parquet([{listed}]{options})"


def _in_months(months: list[str]) -> str:
    return f"strftime(snapshot_date, '%Y-%m') in ({', '.join(repr(month) for month in months)})"


def _glob_scan(lake: Lake, located: Callable[[str], str], table: str, levels: str, options: str) -> list[str]:
    """A scan of a table's files by glob (found anew at every query), or none while it has no file."""
    root = lake.path(table)
    if lake.fs.get_file_info(root).type == pafs.FileType.NotFound:
        return []
    infos = lake.fs.get_file_info(pafs.FileSelector(root, recursive=True))
    if not any(i.type == pafs.FileType.File and i.path.endswith(".parquet") for i in infos):
        return []
    return [_scan(located, [f"{root}/{levels}/*.parquet"], options)]


def _locator(con: duckdb.DuckDBPyConnection, lake: Lake) -> Callable[[str], str]:
    """Lake paths as DuckDB opens them: as they are on a local disk, else through the URI's fsspec filesystem."""
    if isinstance(lake.fs, pafs.LocalFileSystem):
        return lambda path: path
    import fsspec

    scheme = urlparse(lake.root_uri).scheme
    filesystem, _ = fsspec.core.url_to_fs(lake.root_uri)
    con.register_filesystem(filesystem)
    return lambda path: f"{scheme}://{path.lstrip('/')}"
