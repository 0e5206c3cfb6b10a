"""Price alerts: rules users write in YAML (`rules.py`), the sinks alerts go to (`sinks.py`), and exactly-once
delivery recorded in the lake table `alerts/` (`ledger.py`). Changes come from `llmprices.warehouse.changes`.

Typical use, once per day after the day's changes are computed:

    config = load_config("alert_rules.yaml")
    report = deliver(alerts_for(changes, config.rules), config.sinks, lake, now, config.expire_after)
"""
