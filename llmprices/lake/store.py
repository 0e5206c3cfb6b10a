"""The parquet lake: hive-partitioned tables and the raw payload archive under one root URI.

Every partition of a table is one parquet file with a fixed name, so re-materializing a partition is a
single atomic overwrite (a rename on a local disk, an upload that becomes visible whole on an object store):
readers see the old partition or the new one, never a mix, and other partitions are never touched. On an
object store the lake reads each of its files in one request, so a read racing a replacement gets one
version whole (a read made of several range requests could straddle two). Compacted observations
(`llmprices.lake.compaction`) are published the same way: immutable versioned files, then a manifest per year
naming the current one, switched in one atomic write. Which tables exist, and how each is laid out, is
`llmprices.lake.tables`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from llmprices.lake.tables import COMPACTED_OBSERVATIONS, RAW, Partition, Table
from llmprices.payloads import RawPayload

#: Where the lake is when neither the command line nor `PRICE_LAKE_URI` says.
DEFAULT_LAKE_URI = "lake"
LAKE_URI_ENV = "PRICE_LAKE_URI"

PART_FILE = "part-0.parquet"
MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"
#: A partition file under this size may hold no row (an empty one is ~3.4 KiB of schema); above it, it has rows.
MAYBE_EMPTY_BYTES = 16 * 1024
#: Leftovers (temp files, files no manifest names) younger than this are not swept: another writer's, maybe.
LEFTOVER_GRACE = timedelta(hours=1)

#: Daily files of one month as a compaction manifest records them: path relative to `observations/` -> [size, mtime ns].
DailyFiles = dict[str, list]


def lake_uri_from_env() -> str:
    """The lake's root URI as the environment sets it (`PRICE_LAKE_URI`), else the default `lake`."""
    return os.environ.get(LAKE_URI_ENV) or DEFAULT_LAKE_URI


def _whole_file_reader(root_uri: str, fs: pafs.FileSystem) -> Callable[[str], bytes]:
    """How the lake reads a whole file: on an object store, with fsspec's `cat_file` (one GET, no range), where
    fsspec has the store's implementation (s3fs for s3://, installed with the `deploy` extra); else through
    pyarrow, which reads a large object in several range requests."""
    if not isinstance(fs, pafs.LocalFileSystem):
        import fsspec

        try:
            objects, _ = fsspec.core.url_to_fs(root_uri)
        except ImportError:
            pass
        else:
            return objects.cat_file

    def read(path: str) -> bytes:
        with fs.open_input_stream(path) as stream:
            return stream.read()

    return read


def _filesystem(root_uri: str) -> tuple[pafs.FileSystem, str]:
    """Resolve a root URI (a path, file://, s3://, gs://, or any fsspec protocol) to a filesystem."""
    scheme = urlparse(root_uri).scheme
    if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
        path = os.path.abspath(root_uri.removeprefix("file://"))
        return pafs.LocalFileSystem(), path
    try:
        return pafs.FileSystem.from_uri(root_uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        import fsspec

        fs, path = fsspec.core.url_to_fs(root_uri)
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


@dataclass(frozen=True)
class RawManifest:
    """What a raw partition holds: each payload's provenance (url, HTTP status, fetched_at, sha256, bytes)."""

    source: str
    snapshot_date: date
    payloads: list[dict]

    def to_json(self) -> bytes:
        body = {
            "source": self.source,
            "snapshot_date": self.snapshot_date.isoformat(),
            "payloads": self.payloads,
        }
        return json.dumps(body, indent=1).encode()


@dataclass(frozen=True)
class CompactionManifest:
    """A compacted year's current version: the file readers open, its months with the daily files each was built
    from (so a month whose daily files changed since is known stale), and superseded versions not yet deleted."""

    year: str
    file: str  # the version's name in the year's folder
    rows: int
    compacted_at: str
    months: dict[str, DailyFiles]
    retired: dict[str, str] = field(default_factory=dict)  # superseded version -> when (ISO)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()


class Lake:
    """Reads and writes the lake's tables under `root_uri`; the only module that knows the layout."""

    def __init__(self, root_uri: str):
        self.root_uri = root_uri
        self.fs, self.root = _filesystem(root_uri)
        self._local = isinstance(self.fs, pafs.LocalFileSystem)
        self.read_file = _whole_file_reader(root_uri, self.fs)

    # -- paths -------------------------------------------------------------------------------
    def path(self, table: Table, partition: Partition = ()) -> str:
        parts = [f"{key}={value}" for key, value in partition]
        return "/".join([self.root.rstrip("/"), table.name, *parts])

    def uri(self, table: Table) -> str:
        """The table's location as users pass it to DuckDB/Spark/Polars (a glob over its files)."""
        base = self.root_uri.rstrip("/")
        if urlparse(base).scheme in ("", "file"):
            base = os.path.abspath(base.removeprefix("file://"))
        return f"{base}/{table.name}/**/*.parquet"

    # -- atomic files ---------------------------------------------------------------------------
    def write_bytes_atomically(self, path: str, data: bytes) -> None:
        """Write a file whole or not at all: a temp file renamed over it (on an object store, one upload, visible
        whole when it completes). A failed write (disk full, read-only) takes its temp file with it; one a killed
        process left is swept by the next write of the folder (`sweep_leftovers`)."""
        directory = path.rsplit("/", 1)[0]
        if not self._local:  # an object becomes visible whole when its upload completes; no folders to make
            with self.fs.open_output_stream(path) as out:
                out.write(data)
            return
        self.fs.create_dir(directory, recursive=True)
        tmp = f"{directory}/{TMP_PREFIX}{uuid.uuid4().hex}"
        try:
            with self.fs.open_output_stream(tmp) as out:
                out.write(data)
            self.fs.move(tmp, path)  # rename(2): atomic on one filesystem
        except BaseException:
            with contextlib.suppress(OSError):
                self.fs.delete_file(tmp)
            raise

    def sweep_leftovers(self, directory: str, keep: set[str] = frozenset(), *, now: float | None = None) -> list[str]:
        """Delete what failed or concurrent writes left in `directory` once older than LEFTOVER_GRACE: temp
        files, and files not in `keep` (those its current manifest or partition file names). Younger ones may be
        another writer's, about to be published; they are swept by a later write."""
        cutoff = (time.time() if now is None else now) - LEFTOVER_GRACE.total_seconds()
        swept = []
        for info in self._file_infos(directory):
            if info.path in keep or info.mtime is None or info.mtime.timestamp() > cutoff:
                continue
            with contextlib.suppress(FileNotFoundError):  # a concurrent sweep got it first
                self.fs.delete_file(info.path)
                swept.append(info.path)
        return swept

    def _read_json(self, path: str) -> dict | None:
        if not self._exists(path):
            return None
        return json.loads(self.read_file(path))

    def _exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def _files_in(self, directory: str) -> list[str]:
        return [info.path for info in self._file_infos(directory)]

    def _file_infos(self, directory: str) -> list[pafs.FileInfo]:
        if not self._exists(directory):
            return []
        infos = self.fs.get_file_info(pafs.FileSelector(directory, recursive=True))
        return [info for info in infos if info.type == pafs.FileType.File]

    # -- parquet partitions ---------------------------------------------------------------------
    def write_partition(self, table: Table, partition: Partition, data: pa.Table) -> str:
        """Replace one partition with `data` (zstd parquet); returns the file's path."""
        directory = self.path(table, partition)
        target = f"{directory}/{PART_FILE}"
        sink = pa.BufferOutputStream()
        pq.write_table(data, sink, compression="zstd")
        self.write_bytes_atomically(target, sink.getvalue().to_pybytes())
        for stale in self._files_in(directory):
            if stale != target and not _is_temp(stale):
                self.fs.delete_file(stale)
        self.sweep_leftovers(directory, {target})
        return target

    def write_partitions(self, table: Table, parts: dict[Partition, pa.Table]) -> None:
        """`write_partition` of each, four at a time (parquet encoding and file I/O release the GIL): a range
        run writes a file per day."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda item: self.write_partition(table, *item), parts.items()))

    def delete_partition(self, table: Table, partition: Partition) -> bool:
        """Remove a partition's files (readers then see no such partition); False if it had none."""
        files = self._files_in(self.path(table, partition))
        for file in files:
            with contextlib.suppress(FileNotFoundError):
                self.fs.delete_file(file)
        return bool(files)

    def read_partition(self, table: Table, partition: Partition) -> pa.Table | None:
        """One partition's rows (without the hive columns), or None if it was never written."""
        files = [f for f in self._files_in(self.path(table, partition)) if f.endswith(".parquet")]
        if not files:
            return None
        return pa.concat_tables(pq.read_table(pa.BufferReader(self.read_file(f))) for f in sorted(files))

    def row_count(self, table: Table, partition: Partition) -> int | None:
        """Rows in a partition from parquet footers alone, or None if it was never written."""
        files = [f for f in self._files_in(self.path(table, partition)) if f.endswith(".parquet")]
        if not files:
            return None
        return sum(pq.ParquetFile(self.fs.open_input_file(f)).metadata.num_rows for f in files)

    def partition_values(self, table: Table, partition: Partition = ()) -> list[str]:
        """Values of the next partition level below `partition` (e.g. every snapshot_date)."""
        directory = self.path(table, partition)
        if not self._exists(directory):
            return []
        infos = self.fs.get_file_info(pafs.FileSelector(directory, recursive=False))
        names = [i.base_name for i in infos if i.type == pafs.FileType.Directory and "=" in i.base_name]
        return sorted(name.split("=", 1)[1] for name in names)

    def days_with_partition(self, table: Table, source: str) -> set[date]:
        """Days that have a `<table>/snapshot_date=D/source=<source>/` partition, in one listing."""
        return set(self._day_files(table, source))

    def days_with_rows(self, table: Table, source: str) -> set[date]:
        """Days whose partition holds rows. From the same listing: only a file small enough to be empty has its
        footer read (an empty partition's file is a few KiB of schema; a day with rows is far larger)."""
        return set(self.files_with_rows(table, source))

    def files_with_rows(self, table: Table, source: str) -> dict[date, str]:
        """The file of each day whose partition holds rows (see `days_with_rows`), to read many days without
        listing each partition again."""
        return {
            day: info.path
            for day, info in self._day_files(table, source).items()
            if info.size is None
            or info.size >= MAYBE_EMPTY_BYTES
            or pq.ParquetFile(pa.BufferReader(self.read_file(info.path))).metadata.num_rows
        }

    def sources_with_partitions(self, table: Table) -> list[str]:
        """Every source with a `<table>/snapshot_date=D/source=S/` partition on some day, in one listing."""
        root = self.path(table)
        if not self._exists(root):
            return []
        infos = self.fs.get_file_info(pafs.FileSelector(root, recursive=True))
        files = [info.path for info in infos if info.path.endswith(f"/{PART_FILE}") and "/source=" in info.path]
        return sorted({path.rsplit("/source=", 1)[1].split("/", 1)[0] for path in files})

    def _day_files(self, table: Table, source: str) -> dict[date, pafs.FileInfo]:
        root = self.path(table)
        if not self._exists(root):
            return {}
        infos = self.fs.get_file_info(pafs.FileSelector(root, recursive=True))
        suffix = f"/source={source}/{PART_FILE}"
        return {
            date.fromisoformat(info.path[: -len(suffix)].rsplit("snapshot_date=", 1)[1]): info
            for info in infos
            if info.path.endswith(suffix)
        }

    # -- raw payload archive --------------------------------------------------------------------
    def write_raw(self, source: str, day: date, payloads: Iterable[RawPayload]) -> RawManifest:
        """Keep payloads exactly as received, then publish them with their manifest in one atomic write.

        Each payload is stored under a name carrying its content hash (`models.<sha256 prefix>.json`), so two
        writers of one day never overwrite each other's files: whichever manifest lands last names files holding
        exactly what it says. Files no manifest names are swept once older than LEFTOVER_GRACE.
        """
        partition = raw_partition(source, day)
        directory = self.path(RAW, partition)
        entries = []
        for payload in payloads:
            sha256 = payload.sha256
            file = _hashed(_safe_relative(payload.name), sha256)
            self.write_bytes_atomically(f"{directory}/{file}", payload.body)
            entries.append(
                {
                    "name": payload.name,
                    "file": file,
                    "url": payload.url,
                    "http_status": payload.http_status,
                    "fetched_at": payload.fetched_at.isoformat(),
                    "sha256": sha256,
                    "bytes": len(payload.body),
                }
            )
        written = RawManifest(source=source, snapshot_date=day, payloads=entries)
        manifest_path = f"{directory}/{MANIFEST}"
        self.write_bytes_atomically(manifest_path, written.to_json())
        self.sweep_leftovers(directory, {manifest_path} | {f"{directory}/{e['file']}" for e in entries})
        return written

    def read_raw_manifest(self, source: str, day: date) -> RawManifest | None:
        body = self._read_json(f"{self.path(RAW, raw_partition(source, day))}/{MANIFEST}")
        if body is None:
            return None
        return RawManifest(
            source=body["source"],
            snapshot_date=date.fromisoformat(body["snapshot_date"]),
            payloads=body["payloads"],
        )

    def read_raw(self, source: str, day: date) -> tuple[RawManifest, list[RawPayload]] | None:
        """The day's payloads of a source as they were received, or None if never fetched."""
        manifest = self.read_raw_manifest(source, day)
        if manifest is None:
            return None
        directory = self.path(RAW, raw_partition(source, day))
        payloads = []
        for entry in manifest.payloads:
            body = self.read_file(f"{directory}/{entry['file']}")
            payloads.append(
                RawPayload(
                    name=entry["name"],
                    url=entry["url"],
                    http_status=entry["http_status"],
                    fetched_at=datetime.fromisoformat(entry["fetched_at"]),
                    body=body,
                )
            )
        return manifest, payloads

    # -- compacted observations -----------------------------------------------------------------
    def compacted_dir(self, year: str) -> str:
        """The folder of a year's compacted versions and of the manifest naming the current one."""
        return self.path(COMPACTED_OBSERVATIONS, COMPACTED_OBSERVATIONS.partition(year=year))

    def write_compaction_manifest(self, manifest: CompactionManifest) -> None:
        """Switch the year's readers to `manifest.file` (already written) in one atomic write: they see the old
        version or the new one, never both or neither."""
        self.write_bytes_atomically(f"{self.compacted_dir(manifest.year)}/{MANIFEST}", manifest.to_json())

    def read_compaction_manifest(self, year: str) -> CompactionManifest | None:
        """The year's current version, or None while the year was never compacted."""
        body = self._read_json(f"{self.compacted_dir(year)}/{MANIFEST}")
        return None if body is None else CompactionManifest(**body)

    def compaction_manifests(self) -> list[CompactionManifest]:
        """The current version of every compacted year, by year."""
        years = self.partition_values(COMPACTED_OBSERVATIONS)
        return [manifest for year in years if (manifest := self.read_compaction_manifest(year)) is not None]


def raw_partition(source: str, day: date) -> Partition:
    return RAW.partition(source=source, snapshot_date=day)


def _hashed(relative: str, sha256: str) -> str:
    """`models.json` -> `models.<first 16 hex of its sha256>.json`: a payload's file, named by its content."""
    folder, _, file = relative.rpartition("/")
    stem, dot, suffix = file.partition(".")
    named = f"{stem}.{sha256[:16]}{dot}{suffix}" if stem else f"{file}.{sha256[:16]}"
    return f"{folder}/{named}" if folder else named


def _is_temp(path: str) -> bool:
    return path.rsplit("/", 1)[-1].startswith(TMP_PREFIX)


def _safe_relative(name: str) -> str:
    """A payload name as a path inside its partition; refuses names that would escape it."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts) or parts[0] == MANIFEST:
        raise ValueError(f"unsafe payload name {name!r}")
    return "/".join(parts)
