"""Land a range of days of one source: parse its raw payloads (core), validate the rows (one Great
Expectations call for the whole range), then write what passed (core): `parse_and_validate`, the checks, then
`LandedRange.write` with the days the blocking checks hold back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd

from expectations.quarantine import split_valid_rows
from llmprices.lake.store import Lake
from llmprices.observations.normalize import to_frame
from llmprices.observations.parse import SNAPSHOT_DATE, parse_days
from llmprices.observations.write import Hold, WrittenDays, write_days


@dataclass
class LandedRange:
    """A range parsed and validated: rows per day (in day order) and everything a user or a check looks at."""

    source: str
    days: list[date]
    observations: pd.DataFrame
    quarantined: pd.DataFrame
    day_counts: pd.Series
    missing_days: list[str]
    payload_errors: list[str]
    payloads: int

    def write(self, lake: Lake, holds: Mapping[date, Hold]) -> WrittenDays:
        """Publish the days with rows, hold back those in `holds`, leave out the empty ones (`write_days`)."""
        return write_days(lake, self.source, self.days, self.observations, self.quarantined, holds)


def parse_and_validate(lake: Lake, source: str, days: list[date]) -> LandedRange:
    """Parse and split the rows of every day of the range; days without raw payloads are reported."""
    parsed = parse_days(lake, source, days)
    valid, failed = split_valid_rows(to_frame(parsed.observations))
    rejected = to_frame(parsed.rejected)
    quarantined = pd.concat([rejected, failed[rejected.columns]], ignore_index=True)
    counts = valid.groupby(SNAPSHOT_DATE).size().reindex(parsed.days, fill_value=0)
    return LandedRange(
        source=source,
        days=parsed.days,
        observations=valid,
        quarantined=quarantined,
        day_counts=counts,
        missing_days=parsed.missing_days,
        payload_errors=parsed.payload_errors,
        payloads=parsed.payloads,
    )


def land_days(lake: Lake, source: str, days: list[date], holds: Mapping[date, Hold] | None = None) -> LandedRange:
    """Parse, validate and write every day of the range, holding back `holds` (for callers without checks)."""
    landed = parse_and_validate(lake, source, days)
    landed.write(lake, holds or {})
    return landed
