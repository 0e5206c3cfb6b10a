"""Price alerts: rules users write in YAML (`rules.py`), the sinks alerts go to (`sinks.py`), and exactly-once
delivery recorded in the lake table `alerts/` (`ledger.py`). Changes come from `assets.changes`.

Typical use, once per day and source after `price_changes`:

    config = load_config("alert_rules.yaml")
    report = deliver(alerts_for(changes, config.rules), config.sinks, lake, now, config.expire_after)
"""

from assets.alerts.ledger import ALERT_SCHEMA, ALERTS, DeliveryReport, deliver
from assets.alerts.rules import Alert, AlertConfig, AlertConfigError, Rule, alerts_for, load_config
from assets.alerts.sinks import DeliveryError, EmailSink, JsonlSink, Sink, SlackSink, WebhookSink

__all__ = [
    "ALERTS",
    "ALERT_SCHEMA",
    "Alert",
    "AlertConfig",
    "AlertConfigError",
    "DeliveryError",
    "DeliveryReport",
    "EmailSink",
    "JsonlSink",
    "Rule",
    "Sink",
    "SlackSink",
    "WebhookSink",
    "alerts_for",
    "deliver",
    "load_config",
]
