"""Importers of history: turn a git repository's history of one file, or the Wayback Machine's captures
of one URL, into a folder of dated captures (`<dir>/<YYYY-MM-DD>.<ext>` plus a `<YYYY-MM-DD>.meta.json`
sidecar saying where and when each was taken), the layout `assets/archive.py` reads.

So a backfill from any history is the same Dagster run as one from a folder: the raw asset lands each
day's payload in `raw/` with its provenance (commit or capture URL and time), then the observations
asset parses, validates and quarantines it like a live fetch.

An importer works in two steps, so that a backfill only fetches what it will land:
`captures()` lists the last capture of every UTC day (cheap: a `git log`, one CDX query), and
`stage(captures, folder)` fetches those the plan needs into the folder, reporting per-day failures
without stopping the others.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from llmprices.sources.archive import META_SUFFIX, SINGLE_PAYLOAD_SUFFIXES

#: Called with the number of captures staged so far (a progress bar).
OnStaged = Callable[[int], None]


@dataclass(frozen=True)
class Capture:
    """The capture an importer picked for one UTC day."""

    day: date
    #: when it was taken (the commit's committer time, the Wayback capture time), timezone-aware UTC
    captured_at: datetime
    #: where it came from, recorded as the payload's `url` in `raw/`
    url: str
    #: what the importer needs to fetch it (a blob id, a Wayback capture URL)
    key: str
    #: the extension it is staged under, one of `assets.archive.SINGLE_PAYLOAD_SUFFIXES`
    suffix: str = ".json"
    #: more provenance for the sidecar (commit sha, content digest, ...)
    info: dict = field(default_factory=dict)


@dataclass
class StagingReport:
    """What `stage` put in the folder, and the days it could not fetch (day -> why)."""

    folder: Path
    staged: list[date] = field(default_factory=list)
    failed: dict[date, str] = field(default_factory=dict)


class Importer(Protocol):
    def captures(self) -> list[Capture]: ...

    def stage(self, captures: list[Capture], folder: Path, on_staged: OnStaged | None = None) -> StagingReport: ...


def last_capture_per_day(candidates: Iterable[Capture]) -> list[Capture]:
    """One capture per UTC day, the latest of the day (ties: the first seen wins); in day order."""
    best: dict[date, Capture] = {}
    for capture in candidates:
        current = best.get(capture.day)
        if current is None or capture.captured_at > current.captured_at:
            best[capture.day] = capture
    return [best[day] for day in sorted(best)]


def stage_capture(folder: Path, capture: Capture, body: bytes) -> Path:
    """Write one day's payload, then its sidecar (so a sidecar never points at a partial payload)."""
    target = folder / f"{capture.day.isoformat()}{capture.suffix}"
    _write_atomically(target, body)
    meta = {"url": capture.url, "fetched_at": capture.captured_at.isoformat(), **capture.info}
    _write_atomically(folder / f"{capture.day.isoformat()}{META_SUFFIX}", json.dumps(meta).encode())
    return target


def suffix_for(name: str, default: str = ".json") -> str:
    """The archive suffix a file or URL path maps to (`data/output.json` -> `.json`), else `default`."""
    lowered = name.lower().rsplit("/", 1)[-1]
    for suffix in sorted(SINGLE_PAYLOAD_SUFFIXES, key=len, reverse=True):
        if lowered.endswith(suffix):
            return suffix
    return default


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
