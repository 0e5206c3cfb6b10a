"""Read a day's payloads from a folder of dated captures instead of the network.

Layout: `<dir>/<YYYY-MM-DD>.<ext>[.gz]` for a source with one payload a day, or `<dir>/<YYYY-MM-DD>/`
holding a day's payload files (named as the live fetch names them) for a source with several.
The demo, fixtures and history backfills use it, so archived days take the same path as live ones.

An optional sidecar `<dir>/<YYYY-MM-DD>.meta.json` (`{"url": ..., "fetched_at": ISO-8601}`, written by
the importers in `assets/importers/`) says where and when the day's capture was taken: a commit of a
git history, a Wayback Machine capture. `raw/` then records that provenance instead of the archive
file's path and midnight of the day.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, time
from pathlib import Path

from llmprices.payloads import RawPayload

SINGLE_PAYLOAD_SUFFIXES = (".json", ".json.gz", ".csv", ".csv.gz", ".html", ".html.gz")
META_SUFFIX = ".meta.json"


class ArchiveMissing(FileNotFoundError):
    """No capture for that day in the archive folder."""


def read_archive_day(archive_dir: str | Path, day: date, payload_name: str) -> list[RawPayload]:
    """The day's payloads from the archive; a single file is named `payload_name` in the lake."""
    root = Path(archive_dir)
    captured_at = datetime.combine(day, time(0, 0), UTC)
    meta = read_capture_meta(root, day)
    if meta:
        captured_at = datetime.fromisoformat(meta["fetched_at"]).astimezone(UTC)
    url = meta.get("url") if meta else None
    folder = root / day.isoformat()
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        return [_payload(p, p.relative_to(folder).as_posix(), captured_at, url) for p in files]
    for suffix in SINGLE_PAYLOAD_SUFFIXES:
        candidate = root / f"{day.isoformat()}{suffix}"
        if candidate.is_file():
            return [_payload(candidate, payload_name, captured_at, url)]
    raise ArchiveMissing(f"no capture for {day} in {root} (looked for {day}{{.json,.json.gz,...}} or {day}/)")


def archived_days(archive_dir: str | Path) -> list[date]:
    """Every day the archive folder has a capture for."""
    days = set()
    for entry in Path(archive_dir).iterdir():
        if entry.name.endswith(META_SUFFIX):  # provenance of a capture, not a capture
            continue
        stem = entry.name.split(".", 1)[0]
        try:
            days.add(date.fromisoformat(stem))
        except ValueError:
            continue
    return sorted(days)


def read_capture_meta(archive_dir: str | Path, day: date) -> dict | None:
    """The day's sidecar `<day>.meta.json` (where and when its capture was taken), if there is one."""
    path = Path(archive_dir) / f"{day.isoformat()}{META_SUFFIX}"
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None


def _payload(path: Path, name: str, captured_at: datetime, url: str | None = None) -> RawPayload:
    body = path.read_bytes()
    if path.suffix == ".gz":
        body = gzip.decompress(body)
        name = name.removesuffix(".gz")
    url = url or path.resolve().as_uri()
    return RawPayload(name=name, url=url, http_status=200, fetched_at=captured_at, body=body)
