"""One alert: a change of the `changes/` table, to deliver to one sink because of one rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Alert:
    """One change to deliver to one sink because of one rule; `change` holds JSON-ready values."""

    alert_id: str
    rule: str
    sink: str
    change: dict[str, Any]

    @property
    def snapshot_date(self) -> date:
        return date.fromisoformat(self.change["snapshot_date"])

    def to_json(self) -> str:
        return json.dumps({"alert_id": self.alert_id, "rule": self.rule, "sink": self.sink, "change": self.change})

    @classmethod
    def from_json(cls, text: str) -> Alert:
        return cls(**json.loads(text))
