"""Turn a range of days of one source's raw payloads into validated observations and quarantine rows.

A range is parsed in chunks of days (in worker processes when it is long, so a backfill uses every core;
each chunk comes back as two Arrow tables, cheap to send), validated in ONE Great Expectations call over
all its rows, and written one partition per day. That keeps a year-long backfill a few seconds of work
instead of hundreds of per-day GX runs.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pyarrow as pa

from assets.normalize import observations_table, to_frame
from assets.schema import OBSERVATION_SCHEMA, QUARANTINE_SCHEMA
from assets.sources import SOURCES_BY_NAME
from assets.sources.base import ParsedPayload, PayloadError, RawPayload, Rejection, SourceSpec
from expectations import gx_bridge
from expectations.quarantine import split_valid_rows
from pipeline.lake import OBSERVATIONS, QUARANTINE, Lake, observation_partition

#: Ranges longer than this are parsed in worker processes.
PARALLEL_FROM_DAYS = 16
#: Workers yield to the main process, whose GX import meanwhile is the longer, serial path.
WORKER_NICENESS = 10
#: Chunks per worker: several, so a worker that drew the bigger (later) days does not finish last alone.
CHUNKS_PER_WORKER = 4
SNAPSHOT_DATE = "snapshot_date"
#: What parsing yields: lake rows tagged with their day.
DATED_OBSERVATION_SCHEMA = OBSERVATION_SCHEMA.append(pa.field(SNAPSHOT_DATE, pa.date32()))
DATED_QUARANTINE_SCHEMA = QUARANTINE_SCHEMA.append(pa.field(SNAPSHOT_DATE, pa.date32()))


@dataclass
class ParsedDays:
    """Days of one source, parsed: rows of the days with raw payloads (with `snapshot_date`), and the rest."""

    days: list[date] = field(default_factory=list)
    observations: pa.Table = field(default_factory=DATED_OBSERVATION_SCHEMA.empty_table)
    rejected: pa.Table = field(default_factory=DATED_QUARANTINE_SCHEMA.empty_table)
    payloads: int = 0
    payload_errors: list[str] = field(default_factory=list)
    missing_days: list[str] = field(default_factory=list)


@dataclass
class LandedRange:
    """What a range wrote: rows per day (in day order) and everything a user or a check looks at."""

    observations: pd.DataFrame
    quarantined: pd.DataFrame
    day_counts: pd.Series
    missing_days: list[str]
    payload_errors: list[str]
    payloads: int


def parse_day(spec: SourceSpec, payloads: list[RawPayload], day: date) -> tuple[list[ParsedPayload], list[str]]:
    """Parse the day's payloads together (some need each other: endpoints take their hints from
    models.json); if one is unreadable, parse them one by one so it alone is quarantined whole."""
    try:
        return list(spec.parse(payloads, day)), []
    except PayloadError:
        pass
    parsed, errors = [], []
    for payload in payloads:
        try:
            parsed.extend(spec.parse([payload], day))
        except PayloadError as exc:
            record = payload.body[:2000].decode("utf-8", errors="replace")
            parsed.append(ParsedPayload(payload, rejections=[Rejection(str(exc), record, failed_check="payload")]))
            errors.append(f"{day}: {payload.name}: {exc}")
    return parsed, errors


def parse_stored_days(lake_uri: str, source: str, days: list[date]) -> ParsedDays:
    """Read days from `raw/` and parse them; runs in a worker process for long ranges."""
    lake = Lake(lake_uri)
    return _merged([_parse_stored_day(lake, source, day) for day in days])


def _parse_stored_day(lake: Lake, source: str, day: date) -> ParsedDays:
    raw = lake.read_raw(source, day)
    if raw is None:
        return ParsedDays(missing_days=[f"{day}: no raw payload (materialize raw/{source} for it)"])
    manifest, payloads = raw
    parsed, errors = parse_day(SOURCES_BY_NAME[source], payloads, day)
    observations, rejected = observations_table(parsed)
    dated = _with_snapshot_date(observations, day), _with_snapshot_date(rejected, day)
    return ParsedDays([day], *dated, payloads=len(manifest.payloads), payload_errors=errors)


def parse_days(lake: Lake, source: str, days: list[date]) -> ParsedDays:
    """All the days parsed, in their order; a long range in worker processes, GX imported meanwhile."""
    if len(days) < PARALLEL_FROM_DAYS:
        return parse_stored_days(lake.root_uri, source, days)
    workers = min(os.cpu_count() or 1, 8)
    size = -(-len(days) // (workers * CHUNKS_PER_WORKER))
    chunks = [days[i : i + size] for i in range(0, len(days), size)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_lower_priority) as pool:
        parsing = pool.map(parse_stored_days, [lake.root_uri] * len(chunks), [source] * len(chunks), chunks)
        # The workers are forked by now: importing in a thread before that could fork a held import lock.
        gx_bridge.preload()
        return _merged(list(parsing))


def _lower_priority() -> None:
    if hasattr(os, "nice"):  # not on Windows
        os.nice(WORKER_NICENESS)


def land_days(lake: Lake, source: str, days: list[date]) -> LandedRange:
    """Parse, validate (one GX call) and write every day of the range; days without raw are reported."""
    parsed = parse_days(lake, source, days)
    valid, failed = split_valid_rows(to_frame(parsed.observations))
    rejected = to_frame(parsed.rejected)
    quarantined = pd.concat([rejected, failed[rejected.columns]], ignore_index=True)
    _write_days(lake, source, parsed.days, valid, quarantined)
    counts = valid.groupby(SNAPSHOT_DATE).size().reindex(parsed.days, fill_value=0)
    return LandedRange(
        observations=valid,
        quarantined=quarantined,
        day_counts=counts,
        missing_days=parsed.missing_days,
        payload_errors=parsed.payload_errors,
        payloads=parsed.payloads,
    )


def _with_snapshot_date(table: pa.Table, day: date) -> pa.Table:
    return table.append_column(SNAPSHOT_DATE, pa.array([day] * table.num_rows, pa.date32()))


def _merged(chunks: list[ParsedDays]) -> ParsedDays:
    """Parsed days, in order, as one."""
    merged = ParsedDays()
    present = [chunk for chunk in chunks if chunk.days]
    if present:
        merged.observations = pa.concat_tables([chunk.observations for chunk in present])
        merged.rejected = pa.concat_tables([chunk.rejected for chunk in present])
    for chunk in chunks:
        merged.days.extend(chunk.days)
        merged.payloads += chunk.payloads
        merged.payload_errors.extend(chunk.payload_errors)
        merged.missing_days.extend(chunk.missing_days)
    return merged


def _write_days(lake: Lake, source: str, days: list[date], valid: pd.DataFrame, quarantined: pd.DataFrame) -> None:
    """One observations partition per day (an empty one too: it records the day as landed), and one quarantine
    partition per day with rows or with a stale file (an empty one replaces its rows)."""
    valid_by_day = _tables_by_day(valid, OBSERVATION_SCHEMA)
    bad_by_day = _tables_by_day(quarantined, QUARANTINE_SCHEMA)
    stale_quarantine = lake.days_with_partition(QUARANTINE, source)

    def write(day: date) -> None:
        partition = observation_partition(source, day)
        lake.write_partition(OBSERVATIONS, partition, valid_by_day.get(day, OBSERVATION_SCHEMA.empty_table()))
        if day in bad_by_day or day in stale_quarantine:
            lake.write_partition(QUARANTINE, partition, bad_by_day.get(day, QUARANTINE_SCHEMA.empty_table()))

    with ThreadPoolExecutor(max_workers=4) as pool:  # parquet encoding and file I/O release the GIL
        list(pool.map(write, days))


def _tables_by_day(frame: pd.DataFrame, schema: pa.Schema) -> dict[date, pa.Table]:
    """Each day's rows of `frame` (in their order) as `to_table` gives them: sorted by day, converted to Arrow
    in one go and sliced, which costs a fraction of a conversion per day."""
    if not frame[SNAPSHOT_DATE].is_monotonic_increasing:
        frame = frame.sort_values(SNAPSHOT_DATE, kind="stable")
    counts = frame.groupby(SNAPSHOT_DATE, sort=True).size()
    table, offsets = to_table(frame, schema), [0, *counts.cumsum()]
    return {day: table.slice(offsets[i], count) for i, (day, count) in enumerate(counts.items())}


def to_table(frame: pd.DataFrame | None, schema: pa.Schema) -> pa.Table:
    if frame is None or frame.empty:
        return schema.empty_table()
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
