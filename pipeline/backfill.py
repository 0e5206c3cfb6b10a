"""Pour a folder of dated captures into the lake: one Dagster run per span of days still to do.

Days already landed are skipped (so an interrupted backfill resumes), unless forced. Days the folder
has no capture for are bridged: the run reports them and lands the others, so a fresh backfill of a
year with gaps is still a single run over the whole range.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from assets.archive import archived_days
from pipeline.lake import OBSERVATIONS, Lake
from pipeline.runner import IngestRequest, run_ingest


@dataclass(frozen=True)
class BackfillPlan:
    source: str
    captured: list[date]
    todo: list[date]
    spans: list[tuple[date, date]]


def plan_backfill(
    lake: Lake, source: str, folder: Path, start: date | None = None, end: date | None = None, force: bool = False
) -> BackfillPlan:
    captured = [d for d in archived_days(folder) if (start is None or d >= start) and (end is None or d <= end)]
    landed = set() if force else lake.days_with_partition(OBSERVATIONS, source)
    todo = [d for d in captured if d not in landed]
    return BackfillPlan(source, captured, todo, _spans(todo, landed))


def _spans(todo: list[date], landed: set[date]) -> list[tuple[date, date]]:
    """Maximal day ranges covering `todo` that contain no landed day (gaps without capture are bridged)."""
    spans: list[tuple[date, date]] = []
    for day in todo:
        if spans and not any(spans[-1][1] + timedelta(days=i) in landed for i in range(1, (day - spans[-1][1]).days)):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def run_backfill(
    plan: BackfillPlan,
    folder: Path,
    lake_uri: str | None,
    instance: dg.DagsterInstance,
    on_progress: Callable[[int], None] | None = None,
) -> list[dg.ExecuteInProcessResult]:
    """Run each span as one Dagster run; `on_progress(days landed so far)` is called while they run."""
    results = []
    for first, last in plan.spans:
        request = IngestRequest([plan.source], first, last, lake_uri=lake_uri, archive_dirs={plan.source: str(folder)})
        with _watch_landed_days(Lake(lake_uri or "lake"), plan.source, set(plan.todo), on_progress):
            results.append(run_ingest(request, instance))
    return results


@contextlib.contextmanager
def _watch_landed_days(lake: Lake, source: str, days: set[date], on_progress: Callable[[int], None] | None):
    """Poll the lake for the plan's days landing: a progress bar that needs nothing from the run."""
    if on_progress is None:
        yield
        return
    stop = threading.Event()

    def report():
        on_progress(len(days & lake.days_with_partition(OBSERVATIONS, source)))

    def poll():
        while not stop.wait(0.5):
            report()

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        report()
