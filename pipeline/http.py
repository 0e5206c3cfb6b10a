"""The one way the pipeline talks HTTP: timeouts, polite retries, a size cap, a User-Agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "llm-price-observatory/0.1 (+https://github.com/llm-price-observatory/llm-price-observatory)"


class PayloadTooLarge(Exception):
    """The server sent more than the configured cap; refuse rather than exhaust memory."""


class HttpError(Exception):
    """A request that did not end in a 2xx after retries, with the URL and status to show the user."""


@dataclass(frozen=True)
class HttpResponse:
    url: str
    status: int
    body: bytes
    fetched_at: datetime


class HttpClient:
    """A `requests.Session` with retries on 429/5xx that honour Retry-After, and a payload cap."""

    def __init__(
        self,
        *,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
        max_retries: int = 4,
        backoff_factor_s: float = 1.0,
        max_payload_bytes: int = 64 * 1024 * 1024,
        pool_size: int = 8,
        user_agent: str = USER_AGENT,
    ):
        retry = Retry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            backoff_factor=backoff_factor_s,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=pool_size, pool_maxsize=pool_size)
        self.session = requests.Session()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.max_payload_bytes = max_payload_bytes
        self.max_concurrency = pool_size

    def get(self, url: str, *, headers: dict[str, str] | None = None, params: dict | None = None) -> HttpResponse:
        """GET a URL; raise HttpError on a non-2xx answer and PayloadTooLarge past the cap."""
        fetched_at = datetime.now(UTC)
        try:
            with self.session.get(url, headers=headers, params=params, timeout=self.timeout, stream=True) as resp:
                body = self._read_capped(resp)
                status = resp.status_code
                final_url = resp.url
        except requests.RequestException as exc:
            raise HttpError(f"GET {url} failed: {exc}") from exc
        if not 200 <= status < 300:
            raise HttpError(f"GET {final_url} answered HTTP {status}: {body[:200]!r}")
        return HttpResponse(url=final_url, status=status, body=body, fetched_at=fetched_at)

    def _read_capped(self, resp: requests.Response) -> bytes:
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_payload_bytes:
            raise PayloadTooLarge(f"{resp.url} declares {declared} bytes, over the {self.max_payload_bytes} cap")
        chunks, size = [], 0
        for chunk in resp.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            if size > self.max_payload_bytes:
                raise PayloadTooLarge(f"{resp.url} sent over the {self.max_payload_bytes} byte cap")
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.session.close()
