"""Read-only SQL over the lake: `connect(lake_uri)` gives a connection with one view per table of the
registry (`llmprices.lake.tables`): `observations`, `quarantine`, `price_history`, `changes`, `spreads`,
`provider_prices`, `trends_<name>`, `catalog`, ...

`observations` reads each month from its compacted file while that is fresh and from the daily files
otherwise (`llmprices.lake.compaction.plan_reads`), so every day's rows come from exactly one place. Which
files those are is fixed when `connect` is called: the connection sees the lake as it was then (reconnect to
see new days; a compacted file it names is kept at least `GRACE` after being superseded). The other views
find their files at every query.

Read-only, twice over. The connection runs queries only (`SELECT`, `WITH`, `FROM ...`, `VALUES`, `DESCRIBE`,
`SHOW`, `SUMMARIZE`): any other statement (DDL, `INSERT`/`UPDATE`/`DELETE`, `COPY`, `EXPORT`, `ATTACH`,
`INSTALL`/`LOAD`, `SET`, `PRAGMA`, `CALL`, `EXPLAIN ANALYZE` which runs its statement) is refused before DuckDB
sees it, and results come back as rows, never as a relation that could be written out. Underneath, DuckDB
itself may read only the lake's folder (`enable_external_access = false` with `allowed_directories`), installs
and loads no extension, and its configuration is locked (`lock_configuration`), so no query can lift that.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs

from llmprices.lake.compaction import plan_reads
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS, TABLES, Table


class RefusedStatement(ValueError):
    """A statement the lake's SQL does not run: it is read-only, queries only."""


#: What a lake connection runs: queries (DuckDB parses DESCRIBE, SHOW, SUMMARIZE and VALUES as SELECT too).
QUERY_STATEMENTS = frozenset({duckdb.StatementType.SELECT})


class LakeResult:
    """The rows of one query, as DuckDB gives them (`fetchall`, `df`, ...)."""

    def __init__(self, relation: duckdb.DuckDBPyRelation):
        self._relation = relation

    @property
    def columns(self) -> list[str]:
        return self._relation.columns

    def fetchall(self) -> list[tuple]:
        return self._relation.fetchall()

    def fetchone(self) -> tuple | None:
        return self._relation.fetchone()

    def df(self):
        """The rows as a pandas DataFrame."""
        return self._relation.df()

    def to_arrow_table(self) -> pa.Table:
        return self._relation.to_arrow_table()


class LakeConnection:
    """Read-only SQL over the lake's views (see the module docstring); `sql` and `execute` are the same."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con

    def sql(self, query: str, params: list | dict | None = None) -> LakeResult:
        """Run one query (or several; the last one's rows come back), with `?` or `$name` parameters."""
        refused = [statement for statement in duckdb.extract_statements(query)
                   if statement.type not in QUERY_STATEMENTS]  # fmt: skip
        if refused:
            first = refused[0]  # INSTALL parses as a LOAD statement: name what the user wrote
            kind = first.query.split()[0].upper() if first.type == duckdb.StatementType.LOAD else first.type.name
            raise RefusedStatement(
                f"the lake is read-only: {kind.replace('_', ' ')} statements are refused; "
                "only queries run (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE)"
            )
        return LakeResult(self._con.sql(query, params=params))

    execute = sql

    def views(self) -> list[str]:
        """The lake tables this connection can query, by view name."""
        return [name for (name,) in self._con.execute("select view_name from duckdb_views() where not internal "
                                                      "order by 1").fetchall()]  # fmt: skip

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> LakeConnection:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def connect(lake_uri: str, use_compacted: bool = True) -> LakeConnection:
    """A read-only connection whose views read the lake at `lake_uri` (a folder or an fsspec URI);
    `use_compacted=False` reads the daily files only (to check or time the compaction against them)."""
    lake = Lake(lake_uri)
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute("set parquet_metadata_cache = true")  # compacted files never change; others are re-validated
    located = _locator(con, lake)
    plan = plan_reads(lake, use_compacted)
    scans = [_scan(located, plan.compacted)] if plan.compacted else []
    scans += [f"{_scan(located, [path])} where {_in_months(months)}" for path, months in plan.partly_fresh.items()]
    scans += [_scan(located, plan.daily, _hive_options(OBSERVATIONS))] if plan.daily else []
    _view(con, OBSERVATIONS.view_name, OBSERVATIONS.full_schema, scans)
    for table in TABLES.values():
        if table is not OBSERVATIONS:
            _view(con, table.view_name, table.full_schema, _glob_scan(lake, located, table))
    _lock(con, _readable_prefix(lake))
    return LakeConnection(con)


def _readable_prefix(lake: Lake) -> str:
    """What DuckDB may read: the lake's folder; for a lake behind fsspec, that filesystem (DuckDB matches a
    folder of a registered filesystem against its own spelling of the URI, which differs from fsspec's)."""
    if isinstance(lake.fs, pafs.LocalFileSystem):
        return lake.root.rstrip("/") + "/"
    return f"{urlparse(lake.root_uri).scheme}://"


def _lock(con: duckdb.DuckDBPyConnection, readable: str) -> None:
    """From now on DuckDB reads only under `readable` (the views' files) and no setting can change."""
    quoted = readable.replace("'", "''")
    con.execute(f"set allowed_directories = ['{quoted}']")
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")


def _view(con: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema, scans: list[str]) -> None:
    """A view of `schema`'s columns over the scans (`read_parquet(...)`, maybe with a `where`) stacked; with
    none (no file yet), an empty view with those columns and types."""
    if scans:
        columns = ", ".join(f'"{name}"' for name in schema.names)
        body = " union all ".join(f"select {columns} from {scan}" for scan in scans)
    else:
        empty = con.from_arrow(schema.empty_table())
        body = "select " + ", ".join(f'null::{t} as "{c}"' for c, t in zip(empty.columns, empty.types, strict=True))
        body += " limit 0"
    con.execute(f'create view "{name}" as {body}')


def _scan(located: Callable[[str], str], paths: list[str], options: str = "") -> str:
    """A read of the files; by column name, so partitions written before a column was added read it as null."""
    listed = ", ".join("'" + located(path).replace("'", "''") + "'" for path in paths)
    return f"read_parquet([{listed}], union_by_name = true{options})"


def _hive_options(table: Table) -> str:
    if not table.partition_by:
        return ""
    types = ", ".join(f"'{field.name}': {_SQL_TYPES[field.type]}" for field in table.hive_schema)
    return f", hive_partitioning = true, hive_types = {{{types}}}"


_SQL_TYPES = {pa.date32(): "DATE", pa.string(): "VARCHAR"}


def _in_months(months: list[str]) -> str:
    return f"strftime(snapshot_date, '%Y-%m') in ({', '.join(repr(month) for month in months)})"


def _glob_scan(lake: Lake, located: Callable[[str], str], table: Table) -> list[str]:
    """A scan of a table's files by glob (found anew at every query), or none while it has no file."""
    root = lake.path(table)
    if lake.fs.get_file_info(root).type == pafs.FileType.NotFound:
        return []
    infos = lake.fs.get_file_info(pafs.FileSelector(root, recursive=True))
    if not any(i.type == pafs.FileType.File and i.path.endswith(".parquet") for i in infos):
        return []
    levels = "".join("*/" for _ in table.partition_by)
    return [_scan(located, [f"{root}/{levels}*.parquet"], _hive_options(table))]


def _locator(con: duckdb.DuckDBPyConnection, lake: Lake) -> Callable[[str], str]:
    """Lake paths as DuckDB opens them: as they are on a local disk, else through the URI's fsspec filesystem."""
    if isinstance(lake.fs, pafs.LocalFileSystem):
        return lambda path: path
    import fsspec

    scheme = urlparse(lake.root_uri).scheme
    filesystem, _ = fsspec.core.url_to_fs(lake.root_uri)
    con.register_filesystem(filesystem)
    return lambda path: f"{scheme}://{path.lstrip('/')}"
