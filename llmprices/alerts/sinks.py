"""Where alerts go: one small class per sink type, each with `send(alert)` that returns or raises.

Sinks hold the *names* of environment variables, never secret values: a value is read at send time, so
it is in no config object, repr, ledger row or log line. A failure is a `DeliveryError` whose message
is built here from status codes and reasons (not from exception text that may quote a URL), and is passed
through `redact` besides. Webhooks are posted once by the project's HTTP client (never retried, redirects
not followed); its errors name the status, never the URL, whose path is the webhook's secret.

How an alert reads (subject, text, JSON body) is decided once, in `message_subject`, `message_text` and
`alert_payload`, so every sink says the same thing.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmprices.alerts.alert import Alert
from llmprices.http import REDACTED, HttpClient, HttpError, register_secret
from llmprices.warehouse.changes import CHEAPEST_PROVIDER_CHANGED, DELISTED, LISTED, NEW_MODEL

#: A receiver's answer is read (to finish the exchange) up to this size.
MAX_ANSWER_BYTES = 1024 * 1024


class DeliveryError(Exception):
    """A sink could not deliver; the message is safe to log and store (it holds no secret)."""


class Sink(BaseModel):
    """Base of the sink types; `type` in the rules file picks the subclass."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def send(self, alert: Alert) -> None:
        """Deliver a price alert, worded by `message_subject` / `message_text` / `alert_payload`."""
        self.send_message(message_subject(alert), message_text(alert), alert_payload(alert), alert.alert_id)

    def send_message(self, subject: str, text: str, payload: dict[str, Any], key: str) -> None:
        """Deliver any message (an alert, an operator note); `key` identifies it for receivers that dedupe."""
        raise NotImplementedError

    def secret_envs(self) -> list[str]:
        """Names of the environment variables whose values must never be shown."""
        return []

    def register_secrets(self) -> None:
        """Register the secret values this sink reads (see `llmprices.http.redact`), so no error, log line or
        stored string of any part of the project can show them."""
        for name in self.secret_envs():
            if os.environ.get(name):
                register_secret(os.environ[name])

    def redact(self, text: str) -> str:
        """`text` with every secret value masked; a URL keeps its host, and its path is masked on its own too,
        as some errors quote only that."""
        for name in self.secret_envs():
            value = os.environ.get(name, "")
            if len(value) < 2:
                continue
            if "://" in value:
                parts = urlsplit(value)
                text = text.replace(value, f"{parts.scheme}://{parts.hostname}/{REDACTED}")
                value = parts._replace(scheme="", netloc="").geturl()
            if len(value) > 1:
                text = text.replace(value, REDACTED)
        return text


class SlackSink(Sink):
    """A Slack (or Mattermost, Discord `/slack`, Rocket.Chat ...) incoming webhook: POST `{"text": ...}`."""

    type: Literal["slack"]
    webhook_url_env: str
    timeout_s: float = Field(default=10, gt=0)

    def send_message(self, subject: str, text: str, payload: dict[str, Any], key: str) -> None:
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # Slack's escaping
        _post_json(_env(self.webhook_url_env), {"text": escaped}, {}, self.timeout_s)

    def secret_envs(self) -> list[str]:
        return [self.webhook_url_env]


class WebhookSink(Sink):
    """Any JSON endpoint: POST `alert_payload(alert)` with `Idempotency-Key: <alert_id>` so it can dedupe."""

    type: Literal["webhook"]
    url_env: str
    timeout_s: float = Field(default=10, gt=0)

    def send_message(self, subject: str, text: str, payload: dict[str, Any], key: str) -> None:
        _post_json(_env(self.url_env), payload, {"Idempotency-Key": key}, self.timeout_s)

    def secret_envs(self) -> list[str]:
        return [self.url_env]


class EmailSink(Sink):
    """Email over SMTP (STARTTLS by default); the Message-ID is derived from the alert id."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    type: Literal["email"]
    host: str
    port: int = 587
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    starttls: bool = True
    user: str | None = None
    password_env: str | None = None
    timeout_s: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _login_is_complete(self) -> EmailSink:
        if (self.user is None) != (self.password_env is None):
            raise ValueError("`user` and `password_env` go together (give both or neither)")
        return self

    def send_message(self, subject: str, text: str, payload: dict[str, Any], key: str) -> None:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        message["Message-ID"] = f"<{key}@llm-price-observatory>"
        message.set_content(text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user is not None:
                    smtp.login(self.user, _env(self.password_env))
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(self.redact(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}")) from None

    def secret_envs(self) -> list[str]:
        return [self.password_env] if self.password_env else []


class JsonlSink(Sink):
    """Append `alert_payload(alert)` as one JSON line to a local file (for scripts, or as an audit trail)."""

    type: Literal["jsonl"]
    path: str

    def send_message(self, subject: str, text: str, payload: dict[str, Any], key: str) -> None:
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(json.dumps(payload) + "\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.path}: {exc.strerror or type(exc).__name__}") from None


# -- what an alert says -------------------------------------------------------------------------
def message_subject(alert: Alert) -> str:
    c = alert.change
    what = {
        LISTED: "new listing",
        DELISTED: "delisted",
        CHEAPEST_PROVIDER_CHANGED: f"cheapest provider now {c['provider']}",
        NEW_MODEL: f"new {'open-weight ' if c.get('open_weights') else ''}model, {_size(c)}",
    }.get(c["kind"], f"price {_relative(c)}")
    return f"[LLM prices] {c['model']} on {c['source']}: {what}"


def message_text(alert: Alert) -> str:
    c = alert.change
    listing = f"{c['provider_model_id']}{' (' + c['variant'] + ')' if c['variant'] else ''} at {c['provider']}"
    old = f"input {_usd(c['old_input_usd_per_mtok'])}, output {_usd(c['old_output_usd_per_mtok'])}"
    new = f"input {_usd(c['new_input_usd_per_mtok'])}, output {_usd(c['new_output_usd_per_mtok'])}"
    if c["kind"] == NEW_MODEL:
        repo = f", weights at https://huggingface.co/{c['hf_repo']}" if c.get("hf_repo") else ""
        body = (
            f"New model {c['model']} ({_size(c)}{repo}), listed by {c['sources']}; cheapest: {listing}: {new} per "
            "million tokens."
        )
        return f"{body} [{c['source']}, first seen {c['snapshot_date']}; rule {alert.rule}]"
    if c["kind"] == LISTED:
        body = f"New listing: {listing}: {new} per million tokens."
    elif c["kind"] == DELISTED:
        body = f"Delisted: {listing}, was {old} per million tokens."
    elif c["kind"] == CHEAPEST_PROVIDER_CHANGED:
        body = (
            f"Cheapest provider of {c['model']} changed from {c['previous_provider']} to {listing}: blended "
            f"{_usd(c['old_blended_usd_per_mtok'])} -> {_usd(c['new_blended_usd_per_mtok'])} per million tokens "
            f"({_relative(c)})."
        )
    else:
        body = f"Price change: {listing}: {old} -> {new} per million tokens; blended {_relative(c)}."
    compared = f"{c['source']}, {c['snapshot_date']} compared with {c['previous_date']}"
    return f"{body} [{compared}; rule {alert.rule}]"


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The JSON body of the webhook and JSONL sinks."""
    return {
        "alert_id": alert.alert_id,
        "rule": alert.rule,
        "subject": message_subject(alert),
        "text": message_text(alert),
        "change": alert.change,
    }


def _size(change: dict[str, Any]) -> str:
    """`35B total, 3B active (name)`, or `size unknown`."""
    total, active = change.get("params_total_b"), change.get("params_active_b")
    if total is None:
        return "size unknown"
    active_part = f", {active:g}B active" if active is not None and active != total else ""
    return f"{total:g}B total{active_part} ({change.get('params_source')})"


def _usd(value: float | None) -> str:
    """4 significant digits, never in exponent notation ($0.0000125, not $1.25e-05)."""
    return "-" if value is None else f"${Decimal(f'{value:.4g}'):f}"


def _relative(change: dict[str, Any]) -> str:
    if change["relative_change"] is None:
        return "up from free"
    return f"{change['relative_change']:+.1%}"


# -- transport helpers --------------------------------------------------------------------------
def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise DeliveryError(f"environment variable {name} is not set")
    return value


def _post_json(url: str, body: dict[str, Any], headers: dict[str, str], timeout_s: float) -> None:
    """POST once; a failure says what happened (the status, or the kind of network failure), never the URL."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError("the webhook URL is not an http(s) URL")
    register_secret(url)
    http = HttpClient(max_retries=0, max_payload_bytes=MAX_ANSWER_BYTES)
    try:
        http.post_json(url, body, headers=headers, timeout_s=timeout_s)
    except HttpError as exc:
        raise DeliveryError(exc.failure if exc.status else f"cannot reach the receiver: {exc.failure}") from None
    finally:
        http.close()
