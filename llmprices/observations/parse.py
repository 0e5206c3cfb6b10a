"""Parse a range of days of one source's raw payloads into observation and quarantine rows.

A long range is parsed in chunks of days in worker processes, so a backfill uses every core; each chunk
comes back as two Arrow tables, cheap to send between processes.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS, QUARANTINE
from llmprices.observations.normalize import observations_table
from llmprices.payloads import RawPayload
from llmprices.sources import SOURCES_BY_NAME
from llmprices.sources.base import ParsedPayload, PayloadError, Rejection, SourceSpec

#: Ranges longer than this are parsed in worker processes.
PARALLEL_FROM_DAYS = 16
#: Chunks per worker: several, so a worker that drew the bigger (later) days does not finish last alone.
CHUNKS_PER_WORKER = 4
SNAPSHOT_DATE = "snapshot_date"
#: What parsing yields: lake rows tagged with their day.
DATED_OBSERVATION_SCHEMA = OBSERVATIONS.schema.append(pa.field(SNAPSHOT_DATE, pa.date32()))
DATED_QUARANTINE_SCHEMA = QUARANTINE.schema.append(pa.field(SNAPSHOT_DATE, pa.date32()))


@dataclass
class ParsedDays:
    """Days of one source, parsed: rows of the days with raw payloads (with `snapshot_date`), and the rest."""

    days: list[date] = field(default_factory=list)
    observations: pa.Table = field(default_factory=DATED_OBSERVATION_SCHEMA.empty_table)
    rejected: pa.Table = field(default_factory=DATED_QUARANTINE_SCHEMA.empty_table)
    payloads: int = 0
    payload_errors: list[str] = field(default_factory=list)
    missing_days: list[str] = field(default_factory=list)


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
    spec = SOURCES_BY_NAME[source]
    parsed, errors = parse_day(spec, payloads, day)
    observations, rejected = observations_table(parsed, spec.offer_kind)
    dated = _with_snapshot_date(observations, day), _with_snapshot_date(rejected, day)
    return ParsedDays([day], *dated, payloads=len(manifest.payloads), payload_errors=errors)


def parse_days(lake: Lake, source: str, days: list[date]) -> ParsedDays:
    """All the days parsed, in their order; a long range in worker processes."""
    if len(days) < PARALLEL_FROM_DAYS:
        return parse_stored_days(lake.root_uri, source, days)
    workers = min(os.cpu_count() or 1, 8)
    size = -(-len(days) // (workers * CHUNKS_PER_WORKER))
    chunks = [days[i : i + size] for i in range(0, len(days), size)]
    # forkserver, not fork: a run process has threads (Dagster's, a server's), and a forked child can inherit one
    # of their locks held, and wait on it forever
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        return _merged(list(pool.map(parse_stored_days, [lake.root_uri] * len(chunks), [source] * len(chunks), chunks)))


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
