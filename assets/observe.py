"""Turn a range of days of one source's raw payloads into validated observations and quarantine rows.

A range is parsed day by day (in worker processes when it is long, so a backfill uses every core),
validated in ONE Great Expectations call over all its rows, and written one partition per day. That
keeps a year-long backfill a few seconds of work instead of hundreds of per-day GX runs.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pyarrow as pa

from assets.normalize import observations_frame
from assets.schema import OBSERVATION_SCHEMA, QUARANTINE_SCHEMA
from assets.sources import SOURCES_BY_NAME
from assets.sources.base import ParsedPayload, PayloadError, RawPayload, Rejection, SourceSpec
from expectations.quarantine import split_valid_rows
from pipeline.lake import OBSERVATIONS, QUARANTINE, Lake, observation_partition

#: Ranges longer than this are parsed in worker processes.
PARALLEL_FROM_DAYS = 16


@dataclass
class ParsedDay:
    """One day of one source: its listings and parse rejections, or why it has none."""

    day: date
    observations: pd.DataFrame | None = None
    rejected: pd.DataFrame | None = None
    payloads: int = 0
    payload_errors: list[str] = field(default_factory=list)
    missing: str | None = None


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


def _parse_stored_day(lake_uri: str, source: str, day: date) -> ParsedDay:
    """Read one day from `raw/` and parse it; runs in a worker process for long ranges."""
    raw = Lake(lake_uri).read_raw(source, day)
    if raw is None:
        return ParsedDay(day, missing=f"{day}: no raw payload (materialize raw/{source} for it)")
    manifest, payloads = raw
    parsed, errors = parse_day(SOURCES_BY_NAME[source], payloads, day)
    frame, rejected = observations_frame(parsed)
    return ParsedDay(day, frame, rejected, len(manifest.payloads), errors)


def parse_days(lake: Lake, source: str, days: list[date]) -> list[ParsedDay]:
    if len(days) < PARALLEL_FROM_DAYS:
        return [_parse_stored_day(lake.root_uri, source, day) for day in days]
    workers = min(os.cpu_count() or 1, 8)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_parse_stored_day, [lake.root_uri] * len(days), [source] * len(days), days, chunksize=8))


def land_days(lake: Lake, source: str, days: list[date]) -> LandedRange:
    """Parse, validate (one GX call) and write every day of the range; days without raw are reported."""
    parsed = parse_days(lake, source, days)
    present = [p for p in parsed if p.missing is None]
    frame = _concat([p.observations.assign(snapshot_date=p.day) for p in present], OBSERVATION_SCHEMA)
    rejected = _concat([p.rejected.assign(snapshot_date=p.day) for p in present], QUARANTINE_SCHEMA)
    valid, failed = split_valid_rows(frame)
    quarantined = pd.concat([rejected, failed[rejected.columns]], ignore_index=True)
    _write_days(lake, source, [p.day for p in present], valid, quarantined)
    counts = valid.groupby("snapshot_date").size().reindex([p.day for p in present], fill_value=0)
    return LandedRange(
        observations=valid,
        quarantined=quarantined,
        day_counts=counts,
        missing_days=[p.missing for p in parsed if p.missing],
        payload_errors=[e for p in present for e in p.payload_errors],
        payloads=sum(p.payloads for p in present),
    )


def _concat(frames: list[pd.DataFrame], schema: pa.Schema) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=[*schema.names, "snapshot_date"])
    return pd.concat(frames, ignore_index=True)


def _write_days(lake: Lake, source: str, days: list[date], valid: pd.DataFrame, quarantined: pd.DataFrame) -> None:
    """One observations and one quarantine partition per day (an empty one too: it replaces stale rows)."""
    valid_by_day = dict(tuple(valid.groupby("snapshot_date", sort=False)))
    bad_by_day = dict(tuple(quarantined.groupby("snapshot_date", sort=False)))

    def write(day: date) -> None:
        partition = observation_partition(source, day)
        lake.write_partition(OBSERVATIONS, partition, to_table(valid_by_day.get(day), OBSERVATION_SCHEMA))
        lake.write_partition(QUARANTINE, partition, to_table(bad_by_day.get(day), QUARANTINE_SCHEMA))

    with ThreadPoolExecutor(max_workers=4) as pool:  # parquet encoding and file I/O release the GIL
        list(pool.map(write, days))


def to_table(frame: pd.DataFrame | None, schema: pa.Schema) -> pa.Table:
    if frame is None or frame.empty:
        return schema.empty_table()
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
