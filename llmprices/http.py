"""The one way the project talks HTTP (sources, the Hugging Face Hub, alert sinks): timeouts, polite retries of
reads, a size cap on every answer, a User-Agent.

Errors say what failed without quoting the URL's secrets: an `HttpError` carries the status (or the kind of
network failure) apart from its message, so a sink whose URL is its secret can report just those.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "llm-price-observatory/0.1 (+https://github.com/llm-price-observatory/llm-price-observatory)"
REDACTED = "***"
#: urllib3's loggers that write request URLs (at DEBUG, and in retry warnings).
URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry")


class _SecretsFilter(logging.Filter):
    """Masks registered secrets in the log records of urllib3, which writes request paths into them."""

    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = message
        for secret in self.secrets:
            masked = masked.replace(secret, REDACTED)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_SECRETS = _SecretsFilter()


def keep_url_out_of_logs(url: str) -> None:
    """Mask a secret URL (a webhook's, whose path is its token) and its path in urllib3's log records."""
    parts = urlsplit(url)
    _SECRETS.secrets.update(s for s in (url, parts.path, parts.path.lstrip("/")) if len(s) > 1)
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if _SECRETS not in logger.filters:
            logger.addFilter(_SECRETS)


class PayloadTooLarge(Exception):
    """The server sent more than the configured cap; refuse rather than exhaust memory."""


class HttpError(Exception):
    """A request that did not end in a 2xx after retries. `status` is the HTTP status (None when no answer
    came); `failure` names what went wrong without the URL (`HTTP 503`, `ConnectionError`)."""

    def __init__(self, message: str, *, status: int | None = None, failure: str = ""):
        super().__init__(message)
        self.status = status
        self.failure = failure or (f"HTTP {status}" if status else "no answer")


@dataclass(frozen=True)
class HttpResponse:
    url: str
    status: int
    body: bytes
    fetched_at: datetime


class HttpClient:
    """A `requests.Session` whose GETs are retried on 429/5xx (honouring Retry-After), with a payload cap.

    POSTs are never retried: a receiver that got the request but whose answer was lost would get it twice.
    """

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
            raise HttpError(f"GET {url} failed: {exc}", failure=type(exc).__name__) from exc
        if not 200 <= status < 300:
            raise HttpError(f"GET {final_url} answered HTTP {status}: {body[:200]!r}", status=status)
        return HttpResponse(url=final_url, status=status, body=body, fetched_at=fetched_at)

    def post_json(
        self, url: str, body: object, *, headers: dict[str, str] | None = None, timeout_s: float | None = None
    ) -> HttpResponse:
        """POST `body` as JSON once, without following redirects (a receiver that redirects is misconfigured:
        following it would turn the POST into a GET elsewhere). The error's message names the status only."""
        timeout = self.timeout if timeout_s is None else (timeout_s, timeout_s)
        fetched_at = datetime.now(UTC)
        try:
            with self.session.post(
                url,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", **(headers or {})},
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            ) as resp:
                answer = self._read_capped(resp)
                status, reason = resp.status_code, resp.reason or ""
        except requests.RequestException as exc:
            raise HttpError(f"POST failed: {type(exc).__name__}", failure=type(exc).__name__) from None
        except PayloadTooLarge:
            raise HttpError("POST answer over the size cap", failure="answer over the size cap") from None
        if not 200 <= status < 300:
            failure = f"HTTP {status} {reason}".strip()
            raise HttpError(f"POST answered {failure}", status=status, failure=failure)
        return HttpResponse(url=url, status=status, body=answer, fetched_at=fetched_at)

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
