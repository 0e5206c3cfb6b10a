"""Land a range of days of one source: parse its raw payloads (core), validate the rows (one Great
Expectations call for the whole range), write a partition per day (core)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from expectations.quarantine import split_valid_rows
from llmprices.lake.store import Lake
from llmprices.observations.normalize import to_frame
from llmprices.observations.parse import SNAPSHOT_DATE, parse_days
from llmprices.observations.write import write_days


@dataclass
class LandedRange:
    """What a range wrote: rows per day (in day order) and everything a user or a check looks at."""

    observations: pd.DataFrame
    quarantined: pd.DataFrame
    day_counts: pd.Series
    missing_days: list[str]
    payload_errors: list[str]
    payloads: int


def land_days(lake: Lake, source: str, days: list[date]) -> LandedRange:
    """Parse, validate and write every day of the range; days without raw payloads are reported."""
    parsed = parse_days(lake, source, days)
    valid, failed = split_valid_rows(to_frame(parsed.observations))
    rejected = to_frame(parsed.rejected)
    quarantined = pd.concat([rejected, failed[rejected.columns]], ignore_index=True)
    write_days(lake, source, parsed.days, valid, quarantined)
    counts = valid.groupby(SNAPSHOT_DATE).size().reindex(parsed.days, fill_value=0)
    return LandedRange(
        observations=valid,
        quarantined=quarantined,
        day_counts=counts,
        missing_days=parsed.missing_days,
        payload_errors=parsed.payload_errors,
        payloads=parsed.payloads,
    )
