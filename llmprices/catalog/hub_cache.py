"""The Hub's answers, kept in the lake (`hub_params/`): offline runs reuse them, and a refresh asks the Hub
only for repos it has no answer for, or whose answer is older than a maximum age.

An answer is kept only when the Hub answered at all (a 404 for a removed repo is an answer; a timeout is
not), so "the Hub was asked" (`HubAnswers.asked`) means it said something about the repo.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

import pyarrow as pa

from llmprices.catalog.hf_params import DEFAULT_API_BASE, DEFAULT_FILES_BASE, HubParams, fetch_hub_params
from llmprices.http import HttpClient
from llmprices.lake.store import Lake
from llmprices.lake.tables import HUB_PARAMS

log = logging.getLogger(__name__)

#: An answer older than this is asked again (sizes of a repo rarely change; new repos are asked at once).
DEFAULT_MAX_AGE = timedelta(days=90)
_PARAM_FIELDS = [f.name for f in fields(HubParams) if f.name not in ("repo", "notes", "answered")]


@dataclass
class HubAnswers:
    """The latest answer per repo (keys lower-case, as repo names are case-insensitive on the Hub)."""

    params: dict[str, HubParams] = field(default_factory=dict)
    asked_at: dict[str, datetime] = field(default_factory=dict)

    def asked(self, repo: str) -> bool:
        return repo.lower() in self.params

    def due(self, repos: Iterable[str], now: datetime, max_age: timedelta = DEFAULT_MAX_AGE) -> list[str]:
        """The repos (each once, in order) with no answer, or one older than `max_age`."""
        due = {}
        for repo in repos:
            asked_at = self.asked_at.get(repo.lower())
            if asked_at is None or now - asked_at > max_age:
                due.setdefault(repo.lower(), repo)
        return list(due.values())

    def add(self, answer: HubParams, asked_at: datetime) -> None:
        self.params[answer.repo.lower()] = answer
        self.asked_at[answer.repo.lower()] = asked_at


def read_hub_answers(lake: Lake) -> HubAnswers:
    """The answers kept in the lake (none before the first refresh)."""
    answers = HubAnswers()
    table = lake.read_partition(HUB_PARAMS, ())
    for row in table.to_pylist() if table is not None else []:
        params = HubParams(
            repo=row["repo"],
            **{name: row[name] for name in _PARAM_FIELDS},
            notes=tuple(row["notes"].split("\n")) if row["notes"] else (),
        )
        answers.add(params, row["asked_at"])
    return answers


def write_hub_answers(lake: Lake, answers: HubAnswers) -> str:
    """Replace the lake's answers with `answers`; returns the file's path."""
    rows = [
        {
            "repo": params.repo,
            "asked_at": answers.asked_at[key],
            **{name: getattr(params, name) for name in _PARAM_FIELDS},
            "notes": "\n".join(params.notes) or None,
        }
        for key, params in sorted(answers.params.items())
    ]
    return lake.write_partition(HUB_PARAMS, (), pa.Table.from_pylist(rows, schema=HUB_PARAMS.schema))


def ask_hub(
    http: HttpClient,
    repos: Iterable[str],
    answers: HubAnswers,
    now: datetime,
    *,
    api_base: str = DEFAULT_API_BASE,
    files_base: str = DEFAULT_FILES_BASE,
    give_up_after: int = 5,
) -> list[HubParams]:
    """Ask the Hub about each repo and add every answer it gave to `answers`; returns those answers.

    Stops after `give_up_after` repos in a row got no answer at all: the Hub is unreachable, and hundreds
    of timeouts would only delay the catalog.
    """
    got, silent_in_a_row = [], 0
    for repo in repos:
        params = fetch_hub_params(http, repo, api_base=api_base, files_base=files_base)
        if not params.answered:
            silent_in_a_row += 1
            if silent_in_a_row >= give_up_after:
                log.warning("the Hub did not answer for %d repos in a row; not asking it further", give_up_after)
                break
            continue
        silent_in_a_row = 0
        for note in params.notes:
            log.info("%s: %s", repo, note)
        answers.add(params, now)
        got.append(params)
    return got
