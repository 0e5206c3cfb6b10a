"""Compaction of `observations/`: the complete months of a year in one parquet file beside the daily
files, so a query over many days opens a file per year instead of one per day and source.

The daily files stay the contract (users query them, daily runs keep replacing them); compacted files
are an acceleration structure that only the query layer (`llmprices.lake.query`) reads. The lake store
(`llmprices.lake.store`) owns their layout and the manifest that publishes them:

    compacted/observations/year=YYYY/<version>.parquet   immutable, a new one per compaction
    compacted/observations/year=YYYY/manifest.json       the current version, its months, and the state
                                                          (size, mtime) of each daily file of each month

Compaction is monthly (the asset's partitions): compacting a month rewrites its year's file with that
month read from its daily files and the year's other compacted months carried over. A file per year,
not per month, because every file costs DuckDB a fixed overhead however small it is (`benchmarks/bench_query.py`
compares the layouts); and a compaction rewrites at most a year, never the lake.

A version is written a month at a time (each month's rows sorted by model), so a compaction holds one month in
memory, never the year (`benchmarks/bench_scale.py` measures it at 100x today's load).

A compaction writes a new version, then switches the year's manifest in one atomic write, so a reader
sees the old version or the new one, never both or neither. A superseded version is deleted by a later
compaction of its year once it has been retired for `GRACE`, so a reader that planned its files just
before a switch can still open them. Compactions of two years never touch each other's files; two of
the same year at once are safe too (the manifest always describes exactly its file; the loser's month
is just not compacted).

A compacted month whose daily files differ from the ones recorded (a day re-materialized, landed late
or removed) is stale: the query layer reads it from its daily files, and the rest of the year from the
compacted file, until the next compaction of that year refreshes it. Daily files are listed before
they are read, so a day rewritten during a compaction makes its month stale, never wrongly fresh. (On
object stores mtimes have a one-second resolution: a rewrite to the same size within the same second
would go unnoticed until the next one.)
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from llmprices.lake.store import CompactionManifest, DailyFiles, Lake
from llmprices.lake.tables import COMPACTED_OBSERVATIONS, LISTING_KEY, OBSERVATIONS

#: How long a superseded version is kept for readers that planned their files before the switch.
GRACE = timedelta(hours=24)

#: Columns of a compacted file: the observations' own, then the hive ones of the daily layout.
COMPACTED_SCHEMA = COMPACTED_OBSERVATIONS.schema
#: Sorted by model first within each month: the query layer's typical filter (each row group's model range is
#: narrow, so a query of one model skips most of them), and runs of equal values compress well.
SORT_KEYS = [(column, "ascending") for column in ("model", "source", *LISTING_KEY, "snapshot_date")]


@dataclass(frozen=True)
class ReadPlan:
    """Which files make up `observations` right now: every month from exactly one place."""

    compacted: list[str]  # compacted files all of whose months are fresh
    partly_fresh: dict[str, list[str]]  # compacted file with a stale month -> its fresh months (to filter on)
    daily: list[str]  # daily files of the months not freshly compacted
    compacted_months: list[str]
    stale_months: list[str]


@dataclass(frozen=True)
class Compaction:
    year: str
    months: list[str]  # every month in the new version
    refreshed: list[str]  # months read from their daily files (the rest carried over)
    rows: int
    path: str | None  # None: nothing to compact
    deleted_versions: int


def daily_files(lake: Lake) -> dict[str, DailyFiles]:
    """Per month (YYYY-MM), every daily observations file and its state, from one recursive listing
    (temporary files of writes in progress are left out, as readers' globs leave them out)."""
    root = lake.path(OBSERVATIONS)
    if lake.fs.get_file_info(root).type == pafs.FileType.NotFound:
        return {}
    by_month: dict[str, DailyFiles] = {}
    for info in lake.fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        relative = info.path[len(root) + 1 :]
        if info.type != pafs.FileType.File or not relative.endswith(".parquet") or info.base_name.startswith("."):
            continue
        by_month.setdefault(relative.removeprefix("snapshot_date=")[:7], {})[relative] = [info.size, info.mtime_ns]
    return by_month


def plan_reads(lake: Lake, use_compacted: bool = True) -> ReadPlan:
    """Compacted months that are fresh from their year's file, every other month from its daily files
    (all of them without `use_compacted`). Manifests are read before the daily files are listed, so a
    day rewritten in between makes its month stale rather than served old."""
    manifests = lake.compaction_manifests() if use_compacted else []
    listing = daily_files(lake)
    compacted, partly_fresh, fresh, stale = [], {}, [], []
    for manifest in manifests:
        path = f"{lake.compacted_dir(manifest.year)}/{manifest.file}"
        months = sorted(manifest.months)
        current = [month for month in months if manifest.months[month] == listing.get(month, {})]
        stale += [month for month in months if month not in current]
        fresh += current
        if current == months:
            compacted.append(path)
        elif current:
            partly_fresh[path] = current
    root = lake.path(OBSERVATIONS)
    daily = sorted(f"{root}/{path}" for month in set(listing) - set(fresh) for path in listing[month])
    return ReadPlan(compacted, partly_fresh, daily, sorted(fresh), sorted(stale))


def compacted_table(table: pa.Table) -> pa.Table:
    """Observations (with their hive columns) in the compacted files' column order and sort order."""
    return table.select(COMPACTED_SCHEMA.names).cast(COMPACTED_SCHEMA).sort_by(SORT_KEYS)


def write_parquet(filesystem: pafs.FileSystem, path: str, table: pa.Table) -> None:
    """A table in one parquet file, compressed as compacted files are (`bench_query` writes its single file so)."""
    pq.write_table(table, path, filesystem=filesystem, compression="zstd")


def compact_months(lake: Lake, months: Iterable[str], grace: timedelta = GRACE) -> list[Compaction]:
    """Compact the months (YYYY-MM): one new version per year they fall in."""
    listing = daily_files(lake)  # listed before anything is read: see the module docstring
    by_year = groupby(sorted(set(months)), key=lambda month: month[:4])
    return [_compact_year(lake, year, list(chosen), listing, grace) for year, chosen in by_year]


def _compact_year(lake: Lake, year: str, chosen: list[str], listing: dict[str, DailyFiles], grace) -> Compaction:
    """The year's new version: the chosen months and stale ones from their daily files, the year's
    other compacted months carried over from the current version; then the switch, then old versions."""
    directory = lake.compacted_dir(year)
    previous = lake.read_compaction_manifest(year)
    kept = previous.months if previous else {}
    months = sorted(month for month in set(kept) | set(chosen) if listing.get(month))
    refreshed = [month for month in months if month in chosen or kept.get(month) != listing[month]]
    if not refreshed:  # nothing to (re)read: the current version is exact, or there is nothing at all
        path = f"{directory}/{previous.file}" if months else None
        return Compaction(year, months, [], previous.rows if months else 0, path, 0)
    now = datetime.now(UTC)
    version = f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.parquet"
    lake.fs.create_dir(directory, recursive=True)
    carried_from = f"{directory}/{previous.file}" if previous else None
    rows = _write_months(lake, f"{directory}/{version}", months, refreshed, listing, carried_from)
    retired = dict(previous.retired) | {previous.file: now.isoformat()} if previous else {}
    expired = _expired_versions(lake, directory, version, retired, now - grace)
    manifest = CompactionManifest(
        year=year, file=version, rows=rows, compacted_at=now.isoformat(),
        months={month: listing[month] for month in months},
        retired={name: when for name, when in retired.items() if name not in expired},
    )  # fmt: skip
    lake.write_compaction_manifest(manifest)  # the switch
    for name in expired:  # only now that no new reader can plan with them
        lake.fs.delete_file(f"{directory}/{name}")
    return Compaction(year, months, refreshed, rows, f"{directory}/{version}", len(expired))


def _write_months(
    lake: Lake, path: str, months: list[str], refreshed: list[str], listing: dict[str, DailyFiles], carried_from
) -> int:
    """Write a year's version a month at a time, each sorted (`compacted_table`): the refreshed months from their
    daily files, the others from the current version (`carried_from`). One month is in memory, never the year.
    Returns the rows written."""
    rows = 0
    with pq.ParquetWriter(path, COMPACTED_SCHEMA, filesystem=lake.fs, compression="zstd") as writer:
        for month in months:
            if month in refreshed:
                table = _read_daily(lake, list(listing[month]))
            else:
                first = date.fromisoformat(f"{month}-01")
                after = (first + timedelta(days=31)).replace(day=1)
                table = pq.read_table(
                    carried_from, filesystem=lake.fs, schema=COMPACTED_SCHEMA,
                    filters=[("snapshot_date", ">=", first), ("snapshot_date", "<", after)],
                )  # fmt: skip
            table = compacted_table(table)
            writer.write_table(table)
            rows += table.num_rows
    return rows


def _read_daily(lake: Lake, relative_paths: list[str]) -> pa.Table:
    root = lake.path(OBSERVATIONS)
    dataset = ds.dataset(
        [f"{root}/{path}" for path in relative_paths], schema=COMPACTED_SCHEMA, format="parquet",
        filesystem=lake.fs, partitioning=OBSERVATIONS.hive_partitioning, partition_base_dir=root,
    )  # fmt: skip
    return dataset.to_table()


def _expired_versions(lake: Lake, directory: str, current: str, retired: dict[str, str], cutoff: datetime) -> set[str]:
    """Versions retired before `cutoff`, and orphans (of a compaction that crashed or lost a race before
    its switch) last written before it: a version still being written is never touched."""
    expired = set()
    for info in lake.fs.get_file_info(pafs.FileSelector(directory)):
        name = info.base_name
        if name == current or not name.endswith(".parquet"):
            continue
        since = datetime.fromisoformat(retired[name]) if name in retired else info.mtime
        if since is None or since.astimezone(UTC) <= cutoff:
            expired.add(name)
    return expired
