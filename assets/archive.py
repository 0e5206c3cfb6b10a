"""Read a day's payloads from a folder of dated captures instead of the network.

Layout: `<dir>/<YYYY-MM-DD>.<ext>[.gz]` for a source with one payload a day, or `<dir>/<YYYY-MM-DD>/`
holding a day's payload files (named as the live fetch names them) for a source with several.
The demo, fixtures and history backfills use it, so archived days take the same path as live ones.
"""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, time
from pathlib import Path

from assets.sources.base import RawPayload

SINGLE_PAYLOAD_SUFFIXES = (".json", ".json.gz", ".csv", ".csv.gz", ".html", ".html.gz")


class ArchiveMissing(FileNotFoundError):
    """No capture for that day in the archive folder."""


def read_archive_day(archive_dir: str | Path, day: date, payload_name: str) -> list[RawPayload]:
    """The day's payloads from the archive; a single file is named `payload_name` in the lake."""
    root = Path(archive_dir)
    captured_at = datetime.combine(day, time(0, 0), UTC)
    folder = root / day.isoformat()
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        return [_payload(p, p.relative_to(folder).as_posix(), captured_at) for p in files]
    for suffix in SINGLE_PAYLOAD_SUFFIXES:
        candidate = root / f"{day.isoformat()}{suffix}"
        if candidate.is_file():
            return [_payload(candidate, payload_name, captured_at)]
    raise ArchiveMissing(f"no capture for {day} in {root} (looked for {day}{{.json,.json.gz,...}} or {day}/)")


def archived_days(archive_dir: str | Path) -> list[date]:
    """Every day the archive folder has a capture for."""
    days = set()
    for entry in Path(archive_dir).iterdir():
        stem = entry.name.split(".", 1)[0]
        try:
            days.add(date.fromisoformat(stem))
        except ValueError:
            continue
    return sorted(days)


def _payload(path: Path, name: str, captured_at: datetime) -> RawPayload:
    body = path.read_bytes()
    if path.suffix == ".gz":
        body = gzip.decompress(body)
        name = name.removesuffix(".gz")
    return RawPayload(name=name, url=path.resolve().as_uri(), http_status=200, fetched_at=captured_at, body=body)
