"""The one way the project talks HTTP (sources, the Hugging Face Hub, alert sinks): timeouts, polite retries of
reads, a size cap on every answer, a deadline over a whole fetch, a User-Agent, and the secrets kept out of text.

Time is bounded three ways. Connect and read timeouts bound each socket operation; a progress timeout bounds
each chunk of a body (a server trickling a byte every few seconds never trips a read timeout, but does this);
and a client made `within(seconds)` bounds everything it does, retries and `Retry-After` waits included, so
one slow or hostile server cannot stall a run.

Secrets: `register_secret` records an API key or a webhook URL; `redact` masks every one registered in a
string. Every message this module builds goes through it (a 401 may echo the key in its body), and so do
urllib3's log records, which quote request URLs.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

USER_AGENT = "llm-price-observatory/0.1 (+https://github.com/llm-price-observatory/llm-price-observatory)"
REDACTED = "***"
#: urllib3's loggers that write request URLs (at DEBUG, and in warnings).
URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry")
#: Statuses worth asking again: rate limited, or the server (or a proxy before it) failing for now.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Statuses that say the credentials are wrong: asking again cannot help.
AUTH_STATUSES = frozenset({401, 403})
#: A body arrives in chunks of this size; each must arrive within the progress timeout.
CHUNK_BYTES = 64 * 1024
#: Characters of a response body an error message quotes (after redaction).
BODY_EXCERPT = 200


# -- secrets -------------------------------------------------------------------------------------------
class _Secrets(logging.Filter):
    """The registered secrets, and a log filter masking them in urllib3's records."""

    def __init__(self):
        super().__init__()
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str) -> None:
        with self._lock:
            self._values.update(v for v in values if len(v) > 1)

    def redact(self, text: str) -> str:
        for secret in sorted(self._values, key=len, reverse=True):  # a URL before its own path
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_SECRETS = _Secrets()
for _name in URL_LOGGERS:
    logging.getLogger(_name).addFilter(_SECRETS)


def register_secret(value: str) -> None:
    """Mask `value` (an API key, a password, a webhook URL whose path is its token) in every string `redact`
    sees and in urllib3's logs; a URL's path and the percent-encoded form are masked on their own too."""
    value = value.strip()
    variants = {value, quote(value, safe="")}
    if "://" in value:
        path = urlsplit(value).path
        variants |= {path, path.lstrip("/")}
    _SECRETS.add(*variants)


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `***`."""
    return _SECRETS.redact(text)


# -- errors --------------------------------------------------------------------------------------------
class PayloadTooLarge(Exception):
    """The server sent more than the configured cap; refuse rather than exhaust memory."""


class HttpError(Exception):
    """A request that did not end in a 2xx. `status` is the HTTP status (None when no answer came); `failure`
    names what went wrong without the URL (`HTTP 503`, `ConnectionError`); `retryable` says whether asking
    again could help. The message is one line, names the host, and holds no registered secret."""

    def __init__(self, message: str, *, status: int | None = None, failure: str = "", retryable: bool = False):
        super().__init__(redact(" ".join(message.split())))
        self.status = status
        self.failure = failure or (f"HTTP {status}" if status else "no answer")
        self.retryable = retryable


class FetchDeadlineExceeded(HttpError):
    """The fetch's deadline passed (or a server asked to wait past it): give up on the whole fetch."""


@dataclass(frozen=True)
class HttpResponse:
    url: str
    status: int
    body: bytes
    fetched_at: datetime


def network_reason(exc: BaseException) -> str:
    """What went wrong under a `requests` error, without its URL: the operating system's words for the deepest
    socket error (`ConnectionRefusedError: Connection refused`), else the error's class name."""
    root = exc
    while (root.__cause__ or root.__context__) is not None:
        root = root.__cause__ or root.__context__
    if isinstance(root, OSError) and root.strerror:
        return f"{type(root).__name__}: {root.strerror}"
    return type(exc).__name__


def where(url: str) -> str:
    """A URL as error messages show it: scheme, host and path, no query (which may hold a key), redacted."""
    parts = urlsplit(url)
    return redact(f"{parts.scheme}://{parts.netloc}{parts.path}")


class HttpClient:
    """A `requests.Session` whose GETs are retried on 429/5xx and network failures (honouring `Retry-After`,
    with exponential backoff otherwise), with a payload cap and, from `within`, a deadline.

    POSTs are never retried: a receiver that got the request but whose answer was lost would get it twice.
    """

    def __init__(
        self,
        *,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 30.0,
        progress_timeout_s: float = 30.0,
        max_retries: int = 4,
        backoff_factor_s: float = 1.0,
        max_wait_s: float = 120.0,
        max_payload_bytes: int = 64 * 1024 * 1024,
        pool_size: int = 8,
        user_agent: str = USER_AGENT,
    ):
        adapter = HTTPAdapter(max_retries=0, pool_connections=pool_size, pool_maxsize=pool_size)
        self.session = requests.Session()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.progress_timeout_s = progress_timeout_s
        self.max_retries = max_retries
        self.backoff_factor_s = backoff_factor_s
        self.max_wait_s = max_wait_s
        self.max_payload_bytes = max_payload_bytes
        self.max_concurrency = pool_size
        self.deadline_s: float | None = None
        self._deadline: float | None = None  # time.monotonic() value

    def within(self, seconds: float) -> HttpClient:
        """This client (same session and settings) with everything it does from now bounded by `seconds`."""
        bounded = copy.copy(self)
        bounded.deadline_s, bounded._deadline = seconds, time.monotonic() + seconds
        return bounded

    # -- GET ---------------------------------------------------------------------------------------------
    def get(self, url: str, *, headers: dict[str, str] | None = None, params: dict | None = None) -> HttpResponse:
        """GET a URL, asking again on a retryable failure; raise HttpError (FetchDeadlineExceeded past the
        deadline) or PayloadTooLarge past the cap."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._get_once(url, headers, params)
            except _RetryLater as later:
                if attempt > self.max_retries:
                    raise HttpError(
                        f"{later.error} (after {attempt} attempts)",
                        status=later.error.status,
                        failure=later.error.failure,
                        retryable=True,
                    ) from None
                wait = later.retry_after
                self._wait_to_retry(self.backoff_factor_s * 2 ** (attempt - 1) if wait is None else wait, url, later)

    def _get_once(self, url: str, headers: dict[str, str] | None, params: dict | None) -> HttpResponse:
        fetched_at = datetime.now(UTC)
        failure: _RetryLater | None = None
        try:
            with self.session.get(
                url, headers=headers, params=params, timeout=self._timeouts(url), stream=True
            ) as resp:
                status, final_url = resp.status_code, resp.url
                body = self._read_capped(resp, url)
                if status in RETRY_STATUSES:
                    failure = _RetryLater(
                        HttpError(
                            f"GET {where(final_url)} answered HTTP {status}: {_excerpt(body)}",
                            status=status,
                            retryable=True,
                        ),
                        _retry_after(resp.headers.get("Retry-After")),
                    )
        except requests.RequestException as exc:
            reason = network_reason(exc)
            verb = "could not be reached" if isinstance(exc, requests.ConnectionError) else "failed"
            failure = _RetryLater(HttpError(f"GET {where(url)} {verb}: {reason}", failure=reason, retryable=True))
        if failure is not None:
            self._check_deadline(url)
            raise failure
        if status in AUTH_STATUSES:
            raise HttpError(
                f"GET {where(final_url)} answered HTTP {status}: the credentials were refused, check the key",
                status=status,
            )
        if not 200 <= status < 300:
            raise HttpError(f"GET {where(final_url)} answered HTTP {status}: {_excerpt(body)}", status=status)
        return HttpResponse(url=final_url, status=status, body=body, fetched_at=fetched_at)

    # -- POST --------------------------------------------------------------------------------------------
    def post_json(
        self, url: str, body: object, *, headers: dict[str, str] | None = None, timeout_s: float | None = None
    ) -> HttpResponse:
        """POST `body` as JSON once, without following redirects (a receiver that redirects is misconfigured:
        following it would turn the POST into a GET elsewhere). The error's message names the status only."""
        timeout = self._timeouts(url) if timeout_s is None else (timeout_s, timeout_s)
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
                answer = self._read_capped(resp, url)
                status, reason = resp.status_code, resp.reason or ""
        except requests.RequestException as exc:
            raise HttpError(f"POST failed: {type(exc).__name__}", failure=type(exc).__name__) from None
        except PayloadTooLarge:
            raise HttpError("POST answer over the size cap", failure="answer over the size cap") from None
        except _RetryLater as stalled:
            raise HttpError(f"POST {stalled.error.failure}", failure=stalled.error.failure) from None
        if not 200 <= status < 300:
            failure = f"HTTP {status} {reason}".strip()
            raise HttpError(f"POST answered {failure}", status=status, failure=failure)
        return HttpResponse(url=url, status=status, body=answer, fetched_at=fetched_at)

    # -- time --------------------------------------------------------------------------------------------
    def _remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _deadline_error(self, url: str, doing: str) -> FetchDeadlineExceeded:
        return FetchDeadlineExceeded(
            f"{where(url)}: {doing} would pass the {self.deadline_s:g} s fetch deadline (PRICE_FETCH_DEADLINE_S)",
            failure="fetch deadline passed",
        )

    def _check_deadline(self, url: str, doing: str = "no complete answer; waiting longer") -> None:
        remaining = self._remaining()
        if remaining is not None and remaining <= 0:
            raise self._deadline_error(url, doing)

    def _timeouts(self, url: str) -> tuple[float, float]:
        """(connect, read) timeouts, neither reaching past the deadline."""
        self._check_deadline(url, "another request")
        remaining = self._remaining()
        if remaining is None:
            return self.connect_timeout_s, self.read_timeout_s
        return min(self.connect_timeout_s, remaining), min(self.read_timeout_s, remaining)

    def _wait_to_retry(self, seconds: float, url: str, later: _RetryLater) -> None:
        """Sleep before asking again, unless that would pass the deadline or the server asks for too long."""
        remaining, error = self._remaining(), later.error
        if remaining is not None and seconds >= remaining:
            raise self._deadline_error(url, f"after {error.failure}, waiting {seconds:.0f} s to retry") from None
        if later.retry_after is not None and seconds > self.max_wait_s:
            raise HttpError(
                f"{error}; it asks to retry after {seconds:.0f} s, over the {self.max_wait_s:.0f} s this client waits",
                status=error.status,
                failure=error.failure,
            ) from None
        time.sleep(seconds)

    def _read_capped(self, resp: requests.Response, url: str) -> bytes:
        """The body, refusing more than the cap, each chunk within the progress timeout and the deadline."""
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_payload_bytes:
            raise PayloadTooLarge(f"{where(url)} declares {declared} bytes, over the {self.max_payload_bytes} cap")
        chunks, size = [], 0
        try:
            while True:
                chunk = self._read_chunk(resp, url)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > self.max_payload_bytes:
                    raise PayloadTooLarge(f"{where(url)} sent over the {self.max_payload_bytes} byte cap")
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.ConnectionError(type(exc).__name__) from None

    def _read_chunk(self, resp: requests.Response, url: str) -> bytes:
        """Up to CHUNK_BYTES of the body (less only at its end), read as it comes."""
        started, parts, size = time.monotonic(), [], 0
        while size < CHUNK_BYTES:
            part = resp.raw.read1(CHUNK_BYTES - size, decode_content=True)
            if not part:
                break
            parts.append(part)
            size += len(part)
            if time.monotonic() - started > self.progress_timeout_s:
                raise _RetryLater(
                    HttpError(
                        f"GET {where(url)}: the answer trickles ({size} bytes in {self.progress_timeout_s:g} s)",
                        failure="answer stalled",
                        retryable=True,
                    )
                )
            self._check_deadline(url, "reading the rest of the answer")
        return b"".join(parts)

    def close(self) -> None:
        self.session.close()


class _RetryLater(Exception):
    """A failure worth asking again for, after `retry_after` seconds when the server said so."""

    def __init__(self, error: HttpError, retry_after: float | None = None):
        super().__init__(str(error))
        self.error, self.retry_after = error, retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (a number of seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _excerpt(body: bytes) -> str:
    """The start of a body for an error message: decoded, redacted whole (a secret cut in two by the excerpt
    would escape redaction), then cut, on one line."""
    text = redact(body.decode("utf-8", errors="replace"))
    return repr(" ".join(text.split())[:BODY_EXCERPT])
