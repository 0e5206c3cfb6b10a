"""Pour a history of dated captures into the lake: one Dagster run per span of days still to do.

The history is a folder of captures, or an importer's (`llmprices/sources/importers/`: a git repository's history
of a file, the Wayback Machine's captures of a URL) staged into such a folder first; only the days
the plan needs are fetched.

Days already landed are skipped (so an interrupted backfill resumes), unless forced. Days the folder
has no capture for are bridged: the run reports them and lands the others, so a fresh backfill of a
year with gaps is still a single run over the whole range.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from llmprices.lake.store import Lake, lake_uri_from_env
from llmprices.lake.tables import OBSERVATIONS, RAW
from llmprices.observations.write import landed_days
from llmprices.sources.archive import archived_days
from llmprices.sources.importers import Importer, OnStaged, StagingReport
from pipeline.jobs import DAILY_ANALYTICS, DAILY_HISTORY, PRICE_CHANGES_BACKFILL
from pipeline.runner import IngestRequest, RunResult, Runs, job_launch, run_ingest


@dataclass(frozen=True)
class BackfillPlan:
    source: str
    captured: list[date]
    todo: list[date]
    spans: list[tuple[date, date]]
    #: days of the source already in the lake (the runs' spans stop at them)
    landed: frozenset[date] = frozenset()

    def without(self, days: Iterable[date]) -> BackfillPlan:
        """The plan less `days` (captures that could not be fetched): they stay to do next time."""
        dropped = set(days)
        todo = [d for d in self.todo if d not in dropped]
        return replace(self, todo=todo, spans=_spans(todo, set(self.landed)))


def plan_backfill(
    lake: Lake, source: str, folder: Path, start: date | None = None, end: date | None = None, force: bool = False
) -> BackfillPlan:
    return plan_days(lake, source, archived_days(folder), start, end, force)


def plan_days(
    lake: Lake,
    source: str,
    captured_days: Iterable[date],
    start: date | None = None,
    end: date | None = None,
    force: bool = False,
) -> BackfillPlan:
    """The plan for a history that has captures on `captured_days`."""
    captured = sorted(d for d in set(captured_days) if (start is None or d >= start) and (end is None or d <= end))
    landed = set() if force else landed_days(lake, source)
    todo = [d for d in captured if d not in landed]
    return BackfillPlan(source, captured, todo, _spans(todo, landed), frozenset(landed))


def stage_import(
    importer: Importer,
    lake: Lake,
    source: str,
    folder: Path,
    start: date | None = None,
    end: date | None = None,
    force: bool = False,
    on_plan: Callable[[BackfillPlan], None] | None = None,
    on_staged: OnStaged | None = None,
) -> tuple[BackfillPlan, StagingReport]:
    """List the importer's captures, plan, stage only the days to do into `folder`.

    Returns the plan less the days whose capture could not be fetched (reported in the staging report),
    ready for `run_backfill(plan, folder, ...)`.
    """
    captures = importer.captures()
    plan = plan_days(lake, source, (c.day for c in captures), start, end, force)
    if on_plan:
        on_plan(plan)
    todo = set(plan.todo)
    report = importer.stage([c for c in captures if c.day in todo], folder, on_staged)
    return plan.without(report.failed), report


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
    runs: Runs,
    on_progress: Callable[[int], None] | None = None,
    on_raw: Callable[[int], None] | None = None,
) -> list[RunResult]:
    """Run each span as one Dagster run; `on_progress(days landed so far)` (and `on_raw(days archived in
    raw/ so far)`) are called while they run."""
    results = []
    lake = Lake(lake_uri or lake_uri_from_env())
    for first, last in plan.spans:
        request = IngestRequest([plan.source], first, last, lake_uri=lake_uri, archive_dirs={plan.source: str(folder)})
        with _watch_landed_days(lake, plan.source, set(plan.todo), on_progress, on_raw):
            results.append(run_ingest(request, runs))
    return results


#: What a source's days feed, computed over a backfill's days as one run each (single-run backfill policies),
#: as the daily schedules would have: price_history, provider_prices and daily_spreads, price_changes (which
#: sends no alerts).
DOWNSTREAM_JOBS = (DAILY_HISTORY, DAILY_ANALYTICS, PRICE_CHANGES_BACKFILL)


def run_downstream(plan: BackfillPlan, lake_uri: str | None, runs: Runs) -> list[RunResult]:
    """The assets downstream of the observations over the plan's days, one run per job, side by side (each
    reads only the observations); the console shows no tracebacks (a failed run says why in its result and in
    the UI)."""
    first, last = min(plan.todo).isoformat(), max(plan.todo).isoformat()
    return runs.execute_all(
        [
            job_launch(job, first=first, last=last, lake_uri=lake_uri, console_log_level="CRITICAL")
            for job in DOWNSTREAM_JOBS
        ]
    )


@contextlib.contextmanager
def _watch_landed_days(
    lake: Lake,
    source: str,
    days: set[date],
    on_progress: Callable[[int], None] | None,
    on_raw: Callable[[int], None] | None = None,
):
    """Poll the lake for the plan's days landing: a progress bar that needs nothing from the run."""
    if on_progress is None and on_raw is None:
        yield
        return
    stop = threading.Event()
    wanted = {d.isoformat() for d in days}

    def report():
        if on_raw:
            on_raw(len(wanted.intersection(lake.partition_values(RAW, (("source", source),)))))
        if on_progress:
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
