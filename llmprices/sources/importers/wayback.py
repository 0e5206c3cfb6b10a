"""The Wayback Machine's captures of one URL as dated captures: the last successful capture of each UTC day.

One CDX query lists the captures (`{base}/cdx/search/cdx?url=...&output=json&filter=statuscode:200`);
each chosen capture is then fetched as archived, without the Wayback toolbar or link rewriting
(`{base}/web/{timestamp}id_/{url}`), a few at a time through the pipeline's `HttpClient` (timeouts,
retries honouring Retry-After, a size cap). A capture that cannot be fetched is reported; the others land.

The base is `$WAYBACK_API_BASE`, default https://web.archive.org (tests point it at 127.0.0.1).

The CDX query does not use `collapse=timestamp:8`: collapsing keeps the *first* capture of each day,
and the day's price list is its *last* capture, so the day's captures are all listed and the last one
is kept here.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, date, datetime
from pathlib import Path

from llmprices.http import HttpClient
from llmprices.sources.importers import (
    Capture,
    OnStaged,
    StagingReport,
    last_capture_per_day,
    stage_capture,
    suffix_for,
)

DEFAULT_WAYBACK_API_BASE = "https://web.archive.org"
FIELDS = ("timestamp", "original", "statuscode", "mimetype", "digest")
MIME_SUFFIXES = {"json": ".json", "csv": ".csv", "html": ".html"}


class WaybackError(RuntimeError):
    """The CDX API did not answer with a capture list."""


def wayback_api_base() -> str:
    return os.environ.get("WAYBACK_API_BASE") or DEFAULT_WAYBACK_API_BASE


class WaybackHistory:
    """The Wayback Machine's captures of `url`, optionally bounded to [start, end] (UTC days)."""

    def __init__(
        self,
        url: str,
        http: HttpClient | None = None,
        api_base: str | None = None,
        start: date | None = None,
        end: date | None = None,
        concurrency: int = 4,
    ):
        self.url = url
        self.http = http or HttpClient()
        self.api_base = (api_base or wayback_api_base()).rstrip("/")
        self.start, self.end = start, end
        self.concurrency = max(1, concurrency)

    def __enter__(self) -> WaybackHistory:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def captures(self) -> list[Capture]:
        """The last capture answered with HTTP 200 on each day, in day order."""
        params = {"url": self.url, "output": "json", "filter": "statuscode:200", "fl": ",".join(FIELDS)}
        if self.start:
            params["from"] = self.start.strftime("%Y%m%d")
        if self.end:
            params["to"] = self.end.strftime("%Y%m%d") + "235959"
        response = self.http.get(f"{self.api_base}/cdx/search/cdx", params=params)
        try:
            rows = json.loads(response.body) if response.body.strip() else []
        except json.JSONDecodeError as exc:
            raise WaybackError(f"{response.url}: not a CDX JSON answer: {exc}") from exc
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise WaybackError(f"{response.url}: not a CDX JSON answer (expected a list of rows)")
        header = list(FIELDS)
        if rows and "timestamp" in rows[0]:
            header, rows = rows[0], rows[1:]
        candidates = []
        for row in rows:
            record = dict(zip(header, row, strict=False))
            if str(record.get("statuscode", "200")) != "200":
                continue
            try:
                at = datetime.strptime(record["timestamp"][:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            except (KeyError, ValueError):
                continue
            original = record.get("original") or self.url
            capture_url = f"{self.api_base}/web/{record['timestamp']}id_/{original}"
            candidates.append(
                Capture(
                    day=at.date(),
                    captured_at=at,
                    url=capture_url,
                    key=capture_url,
                    suffix=_suffix(original, record.get("mimetype", "")),
                    info={"original": original, "timestamp": record["timestamp"], "digest": record.get("digest")},
                )
            )
        return last_capture_per_day(candidates)

    def stage(self, captures: list[Capture], folder: Path, on_staged: OnStaged | None = None) -> StagingReport:
        """Fetch the captures into `folder`, `concurrency` at a time; failures are reported per day."""
        report = StagingReport(Path(folder))

        def fetch(capture: Capture) -> Capture:
            response = self.http.get(capture.key)
            stage_capture(report.folder, capture, response.body)
            return capture

        with ThreadPoolExecutor(max_workers=min(self.concurrency, self.http.max_concurrency)) as pool:
            futures = {pool.submit(fetch, capture): capture for capture in captures}
            for future in as_completed(futures):
                capture = futures[future]
                try:
                    future.result()
                except Exception as exc:  # noqa: BLE001 (one capture's failure must not stop the others)
                    report.failed[capture.day] = f"{capture.key}: {exc}"
                    continue
                report.staged.append(capture.day)
                if on_staged:
                    on_staged(len(report.staged))
        report.staged.sort()
        return report


def _suffix(original: str, mimetype: str) -> str:
    by_path = suffix_for(original.split("?", 1)[0], default="")
    if by_path:
        return by_path
    return next((s for kind, s in MIME_SUFFIXES.items() if kind in mimetype.lower()), ".json")
