"""Alert rules and exactly-once delivery, against real receivers on 127.0.0.1: an HTTP server taking the
Slack-style and JSON webhooks, an aiosmtpd SMTP server with a login, and a JSONL file."""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import re
import socket
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from llmprices.alerts.ledger import DeliveryReport, deliver
from llmprices.alerts.rules import AlertConfig, AlertConfigError, Rule, alerts_for, load_config
from llmprices.alerts.sinks import DeliveryError, WebhookSink
from llmprices.lake.store import Lake
from llmprices.lake.tables import ALERTS
from llmprices.observations.normalize import observations_frame
from llmprices.sources.archive import read_archive_day
from llmprices.sources.openrouter import parse
from llmprices.warehouse.changes import changes_between

BEFORE, DAY = date(2025, 9, 16), date(2025, 9, 17)
NOW = datetime(2025, 9, 17, 6, 0, tzinfo=UTC)

SLACK_TOKEN = "T0SLACK/B0SLACK/sl4ck-s3cret-9f8e7d6c"
HOOK_TOKEN = "h00k-s3cret-a1b2c3d4"
SMTP_PASSWORD = "smtp-pa55-q8w7e6r5"
SECRETS = (SLACK_TOKEN, HOOK_TOKEN, SMTP_PASSWORD)


# -- receivers -----------------------------------------------------------------------------------
@dataclass
class Receiver:
    """Records the POSTs it accepts; answers 503 to the next `failures_left` ones."""

    url: str = ""
    accepted: list[dict] = field(default_factory=list)
    failures_left: int = 0
    refused: int = 0

    def posts(self, path_prefix: str) -> list[dict]:
        return [p for p in self.accepted if p["path"].startswith(path_prefix)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if state.failures_left > 0:
                state.failures_left -= 1
                state.refused += 1
                status = 503
            else:
                state.accepted.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                status = 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    accept_logins: bool = True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        valid = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"alerts",
            SMTP_PASSWORD.encode(),
        )
        return AuthResult(success=valid and box.accept_logins, handled=False)  # False: answer 535

    controller = Controller(
        Handler(), hostname="127.0.0.1", port=box.port, authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def rules_yaml(smtp_port: int, jsonl: Path, expire_after_days: int, extra_sinks: str = "") -> str:
    """Two rules over four sinks (8 moves >= 10% to two webhooks, 4 listings to mail and a file), the
    secrets named by environment variable only; `extra_sinks` are more YAML lines under `sinks:`."""
    return f"""
expire_after_days: {expire_after_days}
sinks:
  slack: {{type: slack, webhook_url_env: TEST_SLACK_WEBHOOK_URL}}
  hook: {{type: webhook, url_env: TEST_HOOK_URL}}
  mail:
    type: email
    host: 127.0.0.1
    port: {smtp_port}
    starttls: false
    from: prices@example.org
    to: [team@example.org]
    user: alerts
    password_env: TEST_SMTP_PASSWORD
  file: {{type: jsonl, path: {jsonl}}}
{extra_sinks}rules:
  - {{name: big-moves, kinds: [price_changed], min_relative_change: 0.10, sinks: [slack, hook]}}
  - {{name: catalog, kinds: [listed, delisted], sinks: [mail, file]}}
"""


@pytest.fixture
def config(tmp_path, receiver, mailbox, monkeypatch) -> AlertConfig:
    """Two rules over four sinks; the secrets only in the environment."""
    monkeypatch.setenv("TEST_SLACK_WEBHOOK_URL", f"{receiver.url}/services/{SLACK_TOKEN}")
    monkeypatch.setenv("TEST_HOOK_URL", f"{receiver.url}/hooks/{HOOK_TOKEN}")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(mailbox.port, tmp_path / "alerts.jsonl", expire_after_days=3))
    return load_config(rules)


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(str(tmp_path / "lake"))


# -- the real day and what the JSON says it should alert ---------------------------------------------
def real_changes(shared_data: Path) -> pd.DataFrame:
    def observed(day):
        return observations_frame(parse(read_archive_day(shared_data / "openrouter-models", day, "models.json"), day))[
            0
        ]

    return changes_between(observed(DAY), observed(BEFORE), DAY, BEFORE, source="openrouter")


def expected_from_json(shared_data: Path) -> dict[str, set[str]]:
    """Ids that moved >= 10% (3:1 blend), were listed, were delisted: computed from the payloads here."""

    def prices(day):
        body = gzip.decompress((shared_data / "openrouter-models" / f"{day}.json.gz").read_bytes())
        found = {}
        for record in json.loads(body)["data"]:
            try:
                pair = tuple(Decimal(str(record["pricing"][k])) for k in ("prompt", "completion"))
            except (KeyError, TypeError, InvalidOperation):
                continue
            if all(p.is_finite() and p != -1 for p in pair):
                found[record["id"]] = pair
        return found

    old, new = prices(BEFORE), prices(DAY)
    moved = {k for k in old.keys() & new.keys() if old[k] != new[k]}
    big = {k for k in moved if abs((3 * new[k][0] + new[k][1]) / (3 * old[k][0] + old[k][1]) - 1) >= Decimal("0.1")}
    return {"price_changed": big, "listed": new.keys() - old.keys(), "delisted": old.keys() - new.keys()}


def ledger_rows(lake: Lake, day: date = DAY) -> list[dict]:
    table = lake.read_partition(ALERTS, ALERTS.partition(snapshot_date=day))
    return table.to_pylist() if table is not None else []


def last_status(lake: Lake, day: date = DAY) -> dict[str, str]:
    return {row["alert_id"]: row["status"] for row in ledger_rows(lake, day)}


def listing_in(text: str) -> tuple[str, str]:
    kind, listing = re.match(r"^(Price change|New listing|Delisted): (\S+) at openrouter", text).groups()
    return {"Price change": "price_changed", "New listing": "listed", "Delisted": "delisted"}[kind], listing


# -- the rules file ----------------------------------------------------------------------------------
def test_the_example_rules_file_is_valid():
    config = load_config(Path(__file__).parent.parent / "llmprices" / "alerts" / "example_rules.yaml")
    assert {sink.type for sink in config.sinks.values()} == {"slack", "webhook", "email", "jsonl"}
    assert config.expire_after == timedelta(days=3) and len(config.rules) == 5
    assert [(rule.kinds, rule.open_weights) for rule in config.rules][-1] == (["new_model"], True)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            "sinks: {s: {type: jsonl, path: a}}\nrules: [{name: r, sinks: [s], min_relative: 0.1}]",
            "rules[0].min_relative",
        ),
        ("sinks: {s: {type: slack}}", "sinks.s.slack.webhook_url_env"),
        ("sinks: {s: {type: slak, webhook_url_env: X}}", "sinks.s: Input tag 'slak'"),
        ("sinks: {s: {type: jsonl, path: a}}\nrules: [{name: r, sinks: [s], kinds: [cheaper]}]", "rules[0].kinds[0]"),
        ("sinks: {s: {type: jsonl, path: a}}\nrules: [{name: r, sinks: [t]}]", "rules[0].sinks"),
        ("sinks: {s: {type: email, host: h, from: a, to: [b], user: u}}", "`user` and `password_env`"),
        ("rules: [{name: r, sinks: []}]", "rules[0].sinks"),
        ("expire_after_days: 0", "expire_after_days"),
        (
            "sinks: {s: {type: jsonl, path: a}}\nrules: [{name: r, sinks: [s], open_weights: true}]",
            "rules[0]: rule 'r': `open_weights` filters new models only: set `kinds: [new_model]`",
        ),
    ],
)
def test_a_bad_rules_file_names_the_bad_key(tmp_path, text, names):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(AlertConfigError, match=re.escape(names)) as error:
        load_config(path)
    assert str(path) in str(error.value)


def change(**overrides) -> dict:
    base = {
        "snapshot_date": DAY,
        "previous_date": BEFORE,
        "source": "openrouter_endpoints",
        "kind": "price_changed",
        "model": "meta-llama/llama-3.1-70b-instruct",
        "provider": "together",
        "provider_model_id": "Meta-Llama-3.1-70B-Instruct-Turbo",
        "variant": "",
        "previous_provider": None,
        "old_blended_usd_per_mtok": 1.0,
        "new_blended_usd_per_mtok": 1.2,
        "relative_change": 0.2,
        "change_id": "c1",
    }
    return base | overrides


#: what `new_model_changes` makes of a `new_models/` row
NEW_OPEN_WEIGHT_MODEL = {
    "kind": "new_model", "model": "qwen/qwen3.5-35b-a3b", "provider_model_id": "qwen/qwen3.5-35b-a3b",
    "provider": "openrouter", "source": "openrouter", "old_blended_usd_per_mtok": math.nan, "relative_change": math.nan,
    "open_weights": True, "hf_repo": "Qwen/Qwen3.5-35B-A3B", "params_total_b": 35.0, "params_active_b": 3.0,
}  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "changed", "matches"),
    [
        ({"min_relative_change": 0.1, "min_absolute_change_usd_per_mtok": 0.1}, {}, True),
        ({"min_relative_change": 0.1, "min_absolute_change_usd_per_mtok": 0.5}, {}, False),  # both must hold
        ({"min_relative_change": 0.1}, {"new_blended_usd_per_mtok": 0.8, "relative_change": -0.2}, True),
        ({"direction": "up"}, {"new_blended_usd_per_mtok": 0.8, "relative_change": -0.2}, False),
        ({"direction": "down"}, {"new_blended_usd_per_mtok": 0.8, "relative_change": -0.2}, True),
        ({"min_relative_change": 1.0}, {"old_blended_usd_per_mtok": 0.0, "relative_change": math.inf}, True),
        ({"min_relative_change": 0.0}, {"relative_change": math.nan}, False),
        ({"min_relative_change": 0.5}, {"kind": "listed", "relative_change": math.nan}, True),
        ({"kinds": ["listed", "delisted"]}, {}, False),
        ({"models": ["meta-llama/*"]}, {}, True),
        ({"models": ["*-70b-instruct-turbo"]}, {}, True),  # the provider's own id, case-insensitive
        ({"models": ["qwen/*"]}, {}, False),
        ({"providers": ["deep*"]}, {}, False),
        ({"providers": ["deep*"]}, {"kind": "cheapest_provider_changed", "previous_provider": "deepinfra"}, True),
        ({"sources": ["openrouter"]}, {}, False),
        ({"sources": ["openrouter*"]}, {}, True),
        ({}, NEW_OPEN_WEIGHT_MODEL, False),  # new models are asked for by kind
        ({"kinds": ["new_model"], "min_relative_change": 0.5}, NEW_OPEN_WEIGHT_MODEL, True),  # no size to threshold
        ({"kinds": ["new_model"], "open_weights": True}, NEW_OPEN_WEIGHT_MODEL, True),
        ({"kinds": ["new_model"], "open_weights": False}, NEW_OPEN_WEIGHT_MODEL, False),
        ({"kinds": ["new_model"], "open_weights": True}, {**NEW_OPEN_WEIGHT_MODEL, "open_weights": None}, False),
        ({"kinds": ["new_model"], "models": ["qwen/*"]}, NEW_OPEN_WEIGHT_MODEL, True),
    ],
)
def test_rules_match_changes(rule, changed, matches):
    assert Rule(name="r", sinks=["s"], **rule).matches(change(**changed)) is matches


def test_alert_ids_are_a_stable_hash_of_rule_sink_and_change():
    rules = [Rule(name="a", sinks=["x", "y"]), Rule(name="b", sinks=["x"])]
    changes = pd.DataFrame([change(), change(change_id="c2", kind="listed")])
    first, again = alerts_for(changes, rules), alerts_for(changes.copy(), rules)
    assert [a.alert_id for a in first] == [a.alert_id for a in again]
    assert len({a.alert_id for a in first}) == len(first) == 6
    assert first[0].change["snapshot_date"] == DAY.isoformat() and first[0].snapshot_date == DAY


# -- delivery ----------------------------------------------------------------------------------------
def test_two_real_days_send_exactly_the_matching_alerts_once(shared_data, config, receiver, mailbox, lake, tmp_path):
    expected = expected_from_json(shared_data)
    assert {kind: len(ids) for kind, ids in expected.items()} == {"price_changed": 8, "listed": 1, "delisted": 3}
    catalog = {("listed", i) for i in expected["listed"]} | {("delisted", i) for i in expected["delisted"]}

    alerts = alerts_for(real_changes(shared_data), config.rules)
    report = deliver(alerts, config.sinks, lake, NOW, config.expire_after)

    assert len(alerts) == len(report.delivered) == 8 * 2 + 4 * 2
    assert (report.failed, report.expired, report.in_doubt, report.already_done) == ({}, [], [], [])
    slack, hook = receiver.posts("/services/"), receiver.posts("/hooks/")
    assert sorted(listing_in(p["json"]["text"]) for p in slack) == sorted(
        ("price_changed", i) for i in expected["price_changed"]
    )
    assert all(set(p["json"]) == {"text"} for p in slack)
    assert sorted(p["json"]["change"]["provider_model_id"] for p in hook) == sorted(expected["price_changed"])
    assert {p["json"]["change"]["kind"] for p in hook} == {"price_changed"}
    assert all(p["headers"]["Idempotency-Key"] == p["json"]["alert_id"] for p in hook)
    assert {listing_in(m.get_content()) for m in mailbox.messages} == catalog and len(mailbox.messages) == 4
    assert all(m["Subject"].startswith("[LLM prices] ") for m in mailbox.messages)
    lines = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert {(line["change"]["kind"], line["change"]["provider_model_id"]) for line in lines} == catalog
    assert len(lines) == 4
    rows = ledger_rows(lake)
    assert pd.Series([r["status"] for r in rows]).value_counts().to_dict() == {
        "queued": 24,
        "pending": 24,
        "delivered": 24,
    }

    # re-materializing the day: the changes and alerts are computed afresh, nothing is sent again
    again = deliver(alerts_for(real_changes(shared_data), config.rules), config.sinks, lake, NOW + timedelta(hours=1))
    assert sorted(again.already_done) == sorted(report.delivered) and again.delivered == []
    assert (len(receiver.accepted), len(mailbox.messages), len(lines)) == (16, 4, 4)
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 4
    assert len(ledger_rows(lake)) == 72


def test_a_receiver_that_is_down_gets_each_alert_once_on_a_later_run(shared_data, config, receiver, lake):
    alerts = alerts_for(real_changes(shared_data), config.rules)
    receiver.failures_left = 3
    first = deliver(alerts, config.sinks, lake, NOW, config.expire_after)
    assert len(first.failed) == 3 and len(first.delivered) == 21
    assert set(first.failed.values()) == {"HTTP 503 Service Unavailable"}

    later = deliver([], config.sinks, lake, NOW + timedelta(days=1), config.expire_after)  # the next day's run
    assert sorted(later.delivered) == sorted(first.failed) and later.failed == {}
    paths = [p["path"] + p["json"].get("alert_id", p["json"].get("text")) for p in receiver.accepted]
    assert len(paths) == len(set(paths)) == 16 and receiver.refused == 3

    retried = next(iter(first.failed))
    history = [(r["status"], r["attempt"], r["error"]) for r in ledger_rows(lake) if r["alert_id"] == retried]
    assert history == [
        ("queued", 0, None),
        ("pending", 1, None),
        ("failed", 1, "HTTP 503 Service Unavailable"),
        ("pending", 2, None),
        ("delivered", 2, None),
    ]
    assert deliver(alerts, config.sinks, lake, NOW + timedelta(days=1, hours=1)).delivered == []
    assert len(receiver.accepted) == 16


class ProcessDies(BaseException):
    """Stands for the process being killed: not an Exception, so nothing in `deliver` catches it."""


class DiesAfterSending(WebhookSink):
    def send(self, alert):
        super().send(alert)
        raise ProcessDies


def test_a_crash_between_sending_and_recording_is_in_doubt_and_never_resent(shared_data, config, receiver, lake):
    alerts = alerts_for(real_changes(shared_data), config.rules)
    crashing = config.sinks | {"hook": DiesAfterSending(type="webhook", url_env="TEST_HOOK_URL")}
    with pytest.raises(ProcessDies):
        deliver(alerts, crashing, lake, NOW)
    (sent,) = receiver.posts("/hooks/")
    doubtful = sent["json"]["alert_id"]
    assert last_status(lake)[doubtful] == "pending"

    for hours in (1, 2):  # the retry of the crashed run, and another one
        report = deliver(alerts, config.sinks, lake, NOW + timedelta(hours=hours))
        assert report.in_doubt == [doubtful] and doubtful not in report.delivered
    assert len(receiver.posts("/hooks/")) == 8 and len(receiver.posts("/services/")) == 8
    assert [p["json"]["alert_id"] for p in receiver.posts("/hooks/")].count(doubtful) == 1
    statuses = last_status(lake)
    assert statuses.pop(doubtful) == "pending" and set(statuses.values()) == {"delivered"}


def test_alerts_expire_after_the_configured_days_and_backfills_stay_quiet(shared_data, config, receiver, mailbox, lake):
    alerts = alerts_for(real_changes(shared_data), config.rules)
    receiver.failures_left = 10**6  # both webhooks stay down
    for days in (0, 1, 2):
        report = deliver(alerts, config.sinks, lake, NOW + timedelta(days=days), config.expire_after)
        assert len(report.failed) == 16
    refused = receiver.refused

    expiry = datetime(2025, 9, 20, tzinfo=UTC)  # the change's day + 3 days
    report = deliver([], config.sinks, lake, expiry, config.expire_after)
    assert len(report.expired) == 16 and report.failed == {} and receiver.refused == refused
    assert deliver([], config.sinks, lake, expiry + timedelta(days=1), config.expire_after) == DeliveryReport()
    statuses = pd.Series(last_status(lake).values()).value_counts().to_dict()
    assert statuses == {"expired": 16, "delivered": 8}
    assert all(r["error"] == "not delivered before its expiry" for r in ledger_rows(lake) if r["status"] == "expired")

    # a backfill of an old day records its alerts as expired and sends nothing
    old_lake = Lake(str(Path(lake.root).parent / "backfill-lake"))
    backfill = deliver(alerts, config.sinks, old_lake, datetime(2025, 12, 1, tzinfo=UTC), config.expire_after)
    assert len(backfill.expired) == 24 and backfill.delivered == [] and receiver.refused == refused
    assert len(mailbox.messages) == 4  # those of the first run only


class LeaksInItsError(WebhookSink):
    """A sink with a bug whose exception quotes its URL: the ledger must still not store it."""

    def send(self, alert):
        raise RuntimeError(f"bug while posting to {os.environ[self.url_env]}")


def test_no_secret_reaches_the_lake_the_report_the_exceptions_or_the_logs(
    shared_data, config, receiver, mailbox, lake, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the test SMTP server's own protocol trace
    monkeypatch.setenv("TEST_SLACK_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/services/{SLACK_TOKEN}")  # refused
    sinks = config.sinks | {"file": LeaksInItsError(type="webhook", url_env="TEST_HOOK_URL")}
    receiver.failures_left = 2
    mailbox.accept_logins = False
    alerts = alerts_for(real_changes(shared_data), config.rules)

    reports = [deliver(alerts, sinks, lake, NOW), deliver(alerts, sinks, lake, NOW + timedelta(hours=1))]
    errors = set(reports[0].failed.values())
    assert any(e.startswith("cannot reach the receiver") for e in errors)
    assert "HTTP 503 Service Unavailable" in errors
    assert any(e.startswith("SMTP 127.0.0.1") and "SMTPAuthenticationError" in e for e in errors)
    assert "RuntimeError: bug while posting to http://127.0.0.1/***" in errors

    raised = []
    for sink in ("slack", "mail"):
        with pytest.raises(DeliveryError) as error:
            sinks[sink].send(alerts[0])
        raised.append("".join(traceback.format_exception(error.value)))

    mailbox.accept_logins = True
    monkeypatch.delenv("TEST_SLACK_WEBHOOK_URL")
    reports.append(deliver(alerts, sinks, lake, NOW + timedelta(hours=2)))
    assert len(mailbox.messages) == 4
    assert "environment variable TEST_SLACK_WEBHOOK_URL is not set" in reports[-1].failed.values()

    in_lake = []
    for path in Path(lake.root).rglob("*"):
        if path.is_file():
            in_lake.append(path.read_bytes().decode("latin-1"))
            if path.suffix == ".parquet":
                in_lake.append(repr(pq.read_table(path).to_pylist()))
    assert any("HTTP 503" in text for text in in_lake)  # the scan does read the ledger's contents
    seen = [caplog.text, repr(config), *raised, *(repr(r) + repr(r.metadata()) for r in reports), *in_lake]
    for secret in SECRETS:
        for text in seen:
            assert secret not in text
    assert caplog.text  # failures were logged
