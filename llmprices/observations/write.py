"""Write a parsed and validated range of one source, publishing only the days that deserve it.

A day is published (`observations/`) when it has valid rows and passed its blocking checks. A day that failed
one is held back whole (`held/observations/`, with the check and why), where readers never see it, until a
person accepts it (`accept_held`) or the next good run of the day replaces it; a published version of the day,
if any, stays as it was meanwhile. A day with no valid row is not landed at all: no partition, so neither a
resumed backfill nor the next day's row-count check takes it for a landed day. Its quarantine partition, which
says why, is written in every case.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pyarrow as pa

from llmprices.http import redact
from llmprices.lake.store import Lake
from llmprices.lake.tables import HELD_OBSERVATIONS, OBSERVATIONS, QUARANTINE
from llmprices.observations.parse import SNAPSHOT_DATE


@dataclass(frozen=True)
class Hold:
    """Why a day is held back: the blocking check(s) it failed, and what they found."""

    check: str
    reason: str


@dataclass
class WrittenDays:
    """What `write_days` did with each day."""

    published: list[date] = field(default_factory=list)
    held: list[date] = field(default_factory=list)
    without_rows: list[date] = field(default_factory=list)


def write_days(
    lake: Lake,
    source: str,
    days: list[date],
    valid: pd.DataFrame,
    quarantined: pd.DataFrame,
    holds: Mapping[date, Hold] | None = None,
) -> WrittenDays:
    """Publish, hold back or leave out each day (see the module's docstring), and write its quarantine partition
    where it has rows or a stale one to replace (an empty one replaces its rows)."""
    holds = holds or {}
    valid_by_day = tables_by_day(valid, OBSERVATIONS.schema)
    bad_by_day = tables_by_day(_redacted(quarantined), QUARANTINE.schema)
    stale_quarantine = lake.days_with_partition(QUARANTINE, source)
    written = WrittenDays()

    def write(day: date) -> None:
        partition = OBSERVATIONS.partition(snapshot_date=day, source=source)
        rows = valid_by_day.get(day)
        if rows is None or rows.num_rows == 0:
            if lake.row_count(OBSERVATIONS, partition) == 0:  # an empty partition older versions wrote
                lake.delete_partition(OBSERVATIONS, partition)
            written.without_rows.append(day)
        elif day in holds:
            lake.write_partition(HELD_OBSERVATIONS, partition, _held(rows, holds[day]))
            written.held.append(day)
        else:
            lake.write_partition(OBSERVATIONS, partition, rows)
            lake.delete_partition(HELD_OBSERVATIONS, partition)
            written.published.append(day)
        if day in bad_by_day or day in stale_quarantine:
            lake.write_partition(QUARANTINE, partition, bad_by_day.get(day, QUARANTINE.schema.empty_table()))

    with ThreadPoolExecutor(max_workers=4) as pool:  # parquet encoding and file I/O release the GIL
        list(pool.map(write, days))
    for outcome in (written.published, written.held, written.without_rows):
        outcome.sort()
    return written


def accept_held(lake: Lake, source: str, day: date) -> int:
    """Publish a held-back day as it is (a person judged it right); returns its rows. LookupError if none is held."""
    partition = OBSERVATIONS.partition(snapshot_date=day, source=source)
    held = lake.read_partition(HELD_OBSERVATIONS, partition)
    if held is None:
        raise LookupError(f"no held-back day {day} of {source}")
    lake.write_partition(OBSERVATIONS, partition, held.select(OBSERVATIONS.schema.names).cast(OBSERVATIONS.schema))
    lake.delete_partition(HELD_OBSERVATIONS, partition)
    return held.num_rows


def held_reason(lake: Lake, source: str, day: date) -> Hold | None:
    """Why the day is held back, or None if it is not."""
    held = lake.read_partition(HELD_OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source=source))
    if held is None or held.num_rows == 0:
        return None
    return Hold(held["held_check"][0].as_py(), held["held_reason"][0].as_py())


def landed_days(lake: Lake, source: str) -> set[date]:
    """Days with a published partition holding rows: what a resumed backfill skips. (Older versions wrote empty
    partitions for days without rows; those are not landed days.)"""
    return lake.days_with_rows(OBSERVATIONS, source)


def previous_row_count(lake: Lake, source: str, day: date) -> int | None:
    """Rows of the source's latest published day before `day` that has rows (gaps happen), None if there is none:
    the baseline of the row-count check."""
    for earlier in sorted((d for d in lake.days_with_partition(OBSERVATIONS, source) if d < day), reverse=True):
        rows = lake.row_count(OBSERVATIONS, _partition(source, earlier))
        if rows:
            return rows
    return None


def _partition(source: str, day: date):
    return OBSERVATIONS.partition(snapshot_date=day, source=source)


def _held(rows: pa.Table, hold: Hold) -> pa.Table:
    extra = [pa.array([value] * rows.num_rows, pa.string()) for value in (hold.check, hold.reason)]
    return pa.Table.from_arrays([*rows.columns, *extra], schema=HELD_OBSERVATIONS.schema)


def tables_by_day(frame: pd.DataFrame, schema: pa.Schema) -> dict[date, pa.Table]:
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


def _redacted(quarantined: pd.DataFrame) -> pd.DataFrame:
    """Quarantine records without any secret this process knows (`llmprices.http.register_secret`): a record or
    a reason may quote a server's answer that echoed a key."""
    if quarantined.empty:
        return quarantined
    text = {
        column: quarantined[column].map(lambda v: redact(v) if isinstance(v, str) else v)
        for column in ("reason", "record")
    }
    return quarantined.assign(**text)
