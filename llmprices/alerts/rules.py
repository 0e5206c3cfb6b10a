"""Alert rules from a YAML file users edit, and the alerts they make of a day's `price_changes`.

The file declares sinks (where alerts go, see `sinks.py`) and rules (which changes alert, and to which
sinks); `example_rules.yaml` documents every key. Unknown keys are errors, not ignored, so a typo such as
`min_relative_chnage` cannot silently turn a rule into "alert on everything".

An alert is one (rule, sink, change); its `alert_id` hashes exactly that, so the same change matched by the
same rule for the same sink is the same alert however often the day is re-computed, which is what makes
exactly-once delivery (`ledger.py`) possible.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmprices.alerts.alert import Alert
from llmprices.alerts.sinks import EmailSink, JsonlSink, SlackSink, WebhookSink
from llmprices.warehouse.changes import ALERT_KINDS, DELISTED, KINDS, LISTED, NEW_MODEL

Kind = Literal[tuple(ALERT_KINDS)]
SinkConfig = Annotated[SlackSink | WebhookSink | EmailSink | JsonlSink, Field(discriminator="type")]


class AlertConfigError(ValueError):
    """The rules file is unreadable or invalid; the message names the file and the offending key."""


class Rule(BaseModel):
    """Which changes alert and where they go. Filters are glob patterns (`*`, `?`, `[...]`), case-insensitive.

    Thresholds apply to moves (`price_changed`, `cheapest_provider_changed`, on the blended price) and must all
    hold; `listed` / `delisted` / `new_model` pass them, since they have no size. `new_model` is asked for by
    name (it is not among the default kinds), and only it can be filtered on `open_weights`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    sinks: list[str] = Field(min_length=1)
    kinds: list[Kind] = Field(default=list(KINDS), min_length=1)
    #: `new_model` only: true for models whose weights are open (a source names their repo), false for others
    open_weights: bool | None = None
    #: |new - old| / old of the blended price, e.g. 0.1 for 10% (a free listing getting a price is +inf)
    min_relative_change: float | None = Field(default=None, ge=0)
    #: |new - old| of the blended price in USD per million tokens
    min_absolute_change_usd_per_mtok: float | None = Field(default=None, ge=0)
    direction: Literal["any", "up", "down"] = "any"
    #: matched against `model` and `provider_model_id`
    models: list[str] = Field(default=["*"], min_length=1)
    #: matched against `provider` and, for a cheapest-provider change, the previous cheapest provider
    providers: list[str] = Field(default=["*"], min_length=1)
    sources: list[str] = Field(default=["*"], min_length=1)

    def matches(self, change: Mapping[str, Any]) -> bool:
        if change["kind"] not in self.kinds:
            return False
        if not (
            _any_match(self.sources, [change["source"]])
            and _any_match(self.models, [change["model"], change["provider_model_id"]])
            and _any_match(self.providers, [change["provider"], change["previous_provider"]])
        ):
            return False
        if change["kind"] == NEW_MODEL:
            return self.open_weights is None or change.get("open_weights") == self.open_weights
        if change["kind"] in (LISTED, DELISTED):
            return True
        delta = change["new_blended_usd_per_mtok"] - change["old_blended_usd_per_mtok"]
        if (self.direction == "up" and delta <= 0) or (self.direction == "down" and delta >= 0):
            return False
        if self.min_relative_change is not None and not abs(change["relative_change"]) >= self.min_relative_change:
            return False  # written so that a NaN relative change never passes
        return self.min_absolute_change_usd_per_mtok is None or abs(delta) >= self.min_absolute_change_usd_per_mtok

    @model_validator(mode="after")
    def _open_weights_only_for_new_models(self) -> Rule:
        if self.open_weights is not None and self.kinds != [NEW_MODEL]:
            raise ValueError(f"rule {self.name!r}: `open_weights` filters new models only: set `kinds: [{NEW_MODEL}]`")
        return self


class AlertConfig(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: an alert not delivered within this many days of its `snapshot_date` is given up (`expired`)
    expire_after_days: float = Field(default=3, gt=0)
    sinks: dict[str, SinkConfig] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> AlertConfig:
        names = [rule.name for rule in self.rules]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"rule names must be unique (alert ids are made from them): {duplicated}")
        for index, rule in enumerate(self.rules):
            unknown = [s for s in rule.sinks if s not in self.sinks]
            if unknown:
                raise ValueError(
                    f"rules[{index}].sinks: rule {rule.name!r} sends to undeclared sink(s) {unknown}; "
                    f"declared: {list(self.sinks)}"
                )
        return self

    @property
    def expire_after(self) -> timedelta:
        return timedelta(days=self.expire_after_days)


def load_config(path: str | Path) -> AlertConfig:
    """Read and validate a rules file; errors say which file and key (e.g. `rules[0].min_relative`)."""
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AlertConfigError(f"alert rules {path}: cannot read: {exc}") from None
    try:
        config = AlertConfig.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors())
        raise AlertConfigError(f"alert rules {path}: {problems}") from None
    for sink in config.sinks.values():
        sink.register_secrets()
    return config


def alert_id(rule: str, sink: str, change_id: str) -> str:
    return hashlib.sha256(json.dumps([rule, sink, change_id]).encode()).hexdigest()[:32]


def alerts_for(changes: pd.DataFrame, rules: Iterable[Rule]) -> list[Alert]:
    """Every (rule, sink) a change matches, as alerts, in the order of `changes` then of the rules."""
    rules = list(rules)
    alerts = []
    for change in changes.to_dict("records"):
        for rule in rules:
            if rule.matches(change):
                plain = _json_ready(change)
                alerts += [Alert(alert_id(rule.name, s, plain["change_id"]), rule.name, s, plain) for s in rule.sinks]
    return alerts


def _any_match(patterns: list[str], values: list[Any]) -> bool:
    candidates = [str(v).lower() for v in values if isinstance(v, str)]
    return any(fnmatch.fnmatchcase(v, p.lower()) for p in patterns for v in candidates)


def _json_ready(change: Mapping[str, Any]) -> dict[str, Any]:
    """Dates as ISO strings, missing or non-finite numbers (NaN, the +inf of a free listing) as null."""
    plain = {}
    for key, value in change.items():
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            value = value.isoformat()
        elif value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
            value = None
        plain[key] = value
    return plain


def _problem(error: Mapping[str, Any]) -> str:
    """One pydantic error as `rules[0].min_relative: Extra inputs are not permitted`."""
    where = ""
    for part in error["loc"]:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
