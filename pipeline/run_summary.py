"""What a finished run says to the shell: each failed step in one line (for a source that could not be fetched:
which host and what failed), the warnings its steps logged, and what landed in the lake, read back from it.

Dagster's own console log is kept quiet for CLI runs (it would print each failure's traceback, twice): this is
the run's account instead, read from the run's events and the lake.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlparse

import dagster as dg
import pandas as pd
from tabulate import tabulate

from llmprices.lake.store import Lake
from pipeline import report

#: A failed request as the HTTP client words it: "GET <url> answered HTTP 503: ...", "GET <url> could not be ...".
_HTTP_FAILURE = re.compile(r"\b(?:GET|POST) (?P<url>https?://[^\s'\"]+) (?P<what>.*)")
#: Dagster's wrappers around the error that matters (a retried step, a user-code boundary).
_WRAPPERS = frozenset(
    {"RetryRequestedFromPolicy", "DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError"}
)


def explain_error(error) -> str:
    """One line for a failed step's error (`SerializableErrorInfo`): the first line of the error that caused
    it, without Dagster's wrappers; for an HTTP request that failed, the host first, then what failed."""
    if error is None:
        return "no error was recorded"
    links = _links(error)
    cause = next((link for link in links if link.cls_name not in _WRAPPERS), error)
    line = _first_line(cause)
    request = _HTTP_FAILURE.search(line)  # "GET <url> answered HTTP 503: ...", "GET <url> could not be reached: ..."
    if request is None:
        return line
    url = request.group("url")
    return f"{urlparse(url).netloc} {request.group('what')} ({url})"


def _links(error) -> list:
    """The error, then what caused it (`raise ... from`) or happened while handling it, down to the first."""
    links = []
    while error is not None:
        links.append(error)
        error = error.cause or error.context
    return links


def _first_line(error) -> str:
    """The error's message without the exception's module path (`llmprices.http.HttpError: ...`)."""
    line = (error.message.strip().splitlines() or [""])[0]
    qualified = re.match(r"^[\w.]+\.(\w+): ", line)
    return line[qualified.end() :] if qualified and qualified.group(1) == error.cls_name else line


def step_failures(events: Iterable[dg.DagsterEvent]) -> list[tuple[str, str]]:
    """(step, what went wrong) for each step that failed for good (retries that later succeeded are not failures)."""
    return [
        (event.step_key.replace("__", "/"), explain_error(event.step_failure_data.error))  # raw__x is raw/x
        for event in events
        if event.is_step_failure
    ]


def step_warnings(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(step, message) of what the run's steps logged at WARNING or above, e.g. days without a capture (not the
    "dependencies failed" notes: the failure they follow is reported already)."""
    return [
        ((entry.step_key or "run").replace("__", "/"), entry.user_message)
        for entry in instance.all_logs(run_id)
        if not entry.is_dagster_event
        and entry.level >= logging.WARNING
        and not entry.user_message.startswith("Dependencies for step")
    ]


@dataclass(frozen=True)
class Landed:
    """What the lake holds for a run's sources and days: the lines to print, and the totals."""

    lines: list[str]
    rows: int
    quarantined: int


def landed(lake_uri: str, sources: Sequence[str], days: Sequence[date]) -> Landed:
    """What the lake holds for these sources on these days, read back: rows landed and quarantined per source,
    then why rows were quarantined."""
    lake = Lake(lake_uri)
    counts = report.landed(lake, sources, days)
    first, last = min(days), max(days)
    span = f"{first}" if first == last else f"{first} .. {last}"
    lines = [f"\nLanded in {lake_uri} ({span}):"]
    if counts.empty:
        return Landed([*lines, "  nothing: no rows and no quarantined records for " + ", ".join(sources)], 0, 0)
    lines += _indented(counts)
    lines += [f"  {source}: nothing landed" for source in sorted(set(sources) - set(counts["source"]))]
    rows, quarantined = int(counts["rows"].sum()), int(counts["quarantined"].sum())
    reasons = report.quarantined(lake, sources, days)
    if len(reasons):
        lines += ["Quarantined, why:", *_indented(reasons)]
        more = quarantined - int(reasons["rows"].sum())
        if more:
            lines.append(f"  ... and {more} more: llmprices query --lake {lake_uri} "
                         '"select source, reason from quarantine"')  # fmt: skip
    return Landed(lines, rows, quarantined)


def _indented(frame: pd.DataFrame) -> list[str]:
    """A frame as aligned text (text left, numbers right), indented under its heading."""
    text = tabulate(frame, headers="keys", showindex=False, tablefmt="plain")
    return ["  " + line for line in text.splitlines()]
