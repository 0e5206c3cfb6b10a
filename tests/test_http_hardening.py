"""The HTTP client against hostile and unlucky servers on 127.0.0.1: deadlines, trickles, Retry-After, refused
credentials, secrets in answers."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote

import pytest
from conftest import hang, trickle

from llmprices.http import FetchDeadlineExceeded, HttpClient, HttpError, redact, register_secret

KEY = "sk-aa-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def finishes(call, *, hang_guard_s: float = 60.0):
    """Run `call` in a thread and return what it returned or raised; a call still running after `hang_guard_s`
    (what the unfixed client did for minutes) fails the test instead of stalling the suite."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(hang_guard_s)
    assert not thread.is_alive(), "the request was still running: nothing bounded it"
    return outcome


def test_a_server_that_never_answers_fails_the_fetch_at_its_deadline(socket_server):
    server = socket_server(hang)
    client = HttpClient(backoff_factor_s=0).within(1.5)  # read timeout 30 s, 4 retries: 150 s without a deadline
    outcome = finishes(lambda: client.get(f"{server.base_url}/api/v1/models"))
    error = outcome["error"]
    assert isinstance(error, FetchDeadlineExceeded) and not error.retryable
    assert f"http://{server.host_port}/api/v1/models" in str(error)
    assert "1.5 s fetch deadline (PRICE_FETCH_DEADLINE_S)" in str(error)
    assert "\n" not in str(error)


def test_a_trickling_server_trips_the_progress_timeout(socket_server):
    server = socket_server(lambda conn: trickle(conn, every_s=0.1))
    client = HttpClient(progress_timeout_s=1, max_retries=0)  # read timeout 30 s: each byte comes in 0.1 s
    error = finishes(lambda: client.get(f"{server.base_url}/prices.json"))["error"]
    assert isinstance(error, HttpError) and error.failure == "answer stalled"
    assert "the answer trickles" in str(error) and server.host_port in str(error)


def test_a_trickling_server_with_retries_fails_at_the_deadline_and_is_asked_again_until_then(socket_server):
    server = socket_server(lambda conn: trickle(conn, every_s=0.1))
    client = HttpClient(progress_timeout_s=0.5, backoff_factor_s=0, max_retries=100).within(2)
    error = finishes(lambda: client.get(f"{server.base_url}/prices.json"))["error"]
    assert isinstance(error, FetchDeadlineExceeded)
    assert server.connections >= 2  # stalls are retried, within the deadline


def test_retry_after_past_the_deadline_fails_at_once_and_says_so(http_server):
    http_server.add("/models", "busy", status=503, headers={"Retry-After": "3600"})
    error = finishes(lambda: HttpClient().within(5).get(f"{http_server.base_url}/models"))["error"]
    assert isinstance(error, FetchDeadlineExceeded)
    assert "after HTTP 503, waiting 3600 s to retry would pass the 5 s fetch deadline" in str(error)
    assert http_server.paths_requested() == ["/models"]


def test_retry_after_beyond_what_the_client_waits_fails_without_a_deadline(http_server):
    later = format_datetime(datetime.now(UTC) + timedelta(hours=6), usegmt=True)  # the HTTP-date form
    http_server.add("/models", "slow down", status=429, headers={"Retry-After": later})
    error = finishes(lambda: HttpClient(max_wait_s=60).get(f"{http_server.base_url}/models"))["error"]
    assert isinstance(error, HttpError) and error.status == 429
    assert re.search(r"asks to retry after 21[56]\d\d s, over the 60 s this client waits", str(error))


def test_a_short_retry_after_is_honoured_then_the_answer_lands(http_server):
    http_server.add("/models", '{"data": []}', failures_left=2, fail_status=429)
    response = finishes(lambda: HttpClient(backoff_factor_s=0).within(30).get(f"{http_server.base_url}/models"))
    assert response["value"].body == b'{"data": []}' and len(http_server.requests) == 3


def test_refused_credentials_are_not_retried_and_the_echoed_key_never_shows(http_server):
    register_secret(KEY)
    # the key straddles the 200 characters an error quotes: redacting after cutting would leak its start
    echo = f'{{"error": "invalid key", "padding": "{"x" * 160}", "key": "{KEY}"}}'
    http_server.add("/data/llms/models", echo, status=401)
    with pytest.raises(HttpError) as caught:
        HttpClient(backoff_factor_s=0).get(f"{http_server.base_url}/data/llms/models", headers={"x-api-key": KEY})
    assert caught.value.status == 401 and not caught.value.retryable
    assert "answered HTTP 401: the credentials were refused, check the key" in str(caught.value)
    assert KEY[:10] not in str(caught.value)
    assert len(http_server.requests) == 1


def test_an_error_body_is_quoted_only_after_every_secret_is_masked(http_server):
    register_secret(KEY)
    http_server.add("/models", f"not found; you sent key={KEY}", status=404)
    with pytest.raises(HttpError) as caught:
        HttpClient().get(f"{http_server.base_url}/models")
    assert "not found; you sent key=***" in str(caught.value) and KEY[:10] not in str(caught.value)


def test_redact_masks_a_webhook_url_its_path_and_its_encoded_form():
    url = "https://hooks.example.test/services/T000/B000/XyZsecretToken123"
    register_secret(url)
    text = f"posting to {url}; path /services/T000/B000/XyZsecretToken123; quoted {quote(url, safe='')}"
    assert "XyZsecretToken123" not in redact(text)
