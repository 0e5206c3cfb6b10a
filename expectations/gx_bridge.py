"""The one bridge from Great Expectations 1.x to pandas DataFrames.

Why a bridge: GX is slow to import and to set up, and its results are nested dicts keyed by its
own ids. Everything else in the project calls `validate` and reads a small, plain `Outcome`. GX is
imported on first use, so importing this module (and the Dagster code location) stays fast.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

_lock = threading.Lock()
#: suite_name -> (fingerprint of its expectations, ValidationDefinition). One entry per name,
#: so a long-running process does not grow it.
_definitions: dict[str, tuple[str, Any]] = {}


@dataclass(frozen=True)
class ExpectationOutcome:
    """What one expectation found, in plain Python types."""

    expectation_type: str
    kwargs: dict[str, Any]
    description: str | None
    success: bool
    observed_value: Any = None
    unexpected_count: int | None = None
    #: Positional indices (0..len(df)-1) of failing rows; empty for table-level expectations.
    unexpected_rows: list[int] = field(default_factory=list)
    #: Set when GX raised inside the expectation (for example a missing column).
    exception: str | None = None
    #: The result dict of GX, for details (for example missing columns) not copied above.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")


@dataclass(frozen=True)
class Outcome:
    """One validation run: per expectation, in the order the expectations were given."""

    success: bool
    results: list[ExpectationOutcome]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success]


def gx():
    """The `great_expectations` module, imported on first use (it is slow to import)."""
    import great_expectations

    return great_expectations


@functools.cache
def _context():
    """Ephemeral GX context and a whole-DataFrame batch definition, built once per process."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx().get_context(mode="ephemeral")
    # TQDM_DISABLE does not silence GX; this does.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("observations_pandas")
        .add_dataframe_asset("dataframe")
        .add_batch_definition_whole_dataframe("whole_dataframe")
    )
    return context, batch_definition


def _fingerprint(expectations: list) -> str:
    configs = [(e.expectation_type, e.configuration.kwargs, e.description) for e in expectations]
    return json.dumps(configs, sort_keys=True, default=str)


def _definition(suite_name: str, expectations: list):
    """The cached ValidationDefinition for `suite_name`, rebuilt if its expectations changed."""
    fingerprint = _fingerprint(expectations)
    cached = _definitions.get(suite_name)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    context, batch_definition = _context()
    if cached is not None:
        context.validation_definitions.delete(suite_name)
        context.suites.delete(suite_name)
    # Copies, so GX's ids never leak into (or collide on) the caller's objects.
    suite = context.suites.add(
        gx().ExpectationSuite(name=suite_name, expectations=[e.copy(deep=True) for e in expectations])
    )
    definition = context.validation_definitions.add(
        gx().ValidationDefinition(name=suite_name, data=batch_definition, suite=suite)
    )
    _definitions[suite_name] = (fingerprint, definition)
    return definition


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones, so outcomes serialise and compare cleanly."""
    return value.item() if isinstance(value, np.generic) else value


def validate(
    df: pd.DataFrame,
    suite_name: str,
    expectations: list,
) -> Outcome:
    """Validate `df` against `expectations` (GX expectation objects) and report per expectation.

    The suite is built once per `suite_name` and reused while the expectations stay the same
    (values that change per call belong in the frame: row counts are checked on a frame of counts).
    """
    # GX names failing rows by index label; a RangeIndex makes labels positions. (A helper
    # row-number column + `unexpected_index_column_names` also works, but it shows up in
    # table-level results such as the column set and would fail an exact column match.)
    frame = df.reset_index(drop=True)
    with _lock:
        definition = _definition(suite_name, expectations)
        ids = [e.id for e in definition.suite.expectations]
        run = definition.run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "COMPLETE"},
        )
        # The ephemeral context keeps every run's full result in memory; we already have it.
        store = _context()[0].validation_results_store
        for key in store.list_keys():
            store.remove_key(key)
    # GX does not keep the suite's order in its results; restore it by expectation id.
    by_id = {r.expectation_config.id: r for r in run.results}
    outcomes = [_outcome(by_id[i]) for i in ids]
    return Outcome(success=all(o.success for o in outcomes), results=outcomes)


def _outcome(result) -> ExpectationOutcome:
    config = result.expectation_config
    exception = _exception_message(result.exception_info)
    details = dict(result.result or {})
    rows = [int(i) for i in details.pop("unexpected_index_list", None) or []]
    for bulky in (
        "unexpected_list",
        "partial_unexpected_list",
        "partial_unexpected_index_list",
        "partial_unexpected_counts",
        "unexpected_index_query",
    ):
        details.pop(bulky, None)
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return ExpectationOutcome(
        expectation_type=config.type,
        kwargs=kwargs,
        description=config.description,
        success=bool(result.success) and exception is None,
        observed_value=_plain(details.get("observed_value")),
        unexpected_count=_plain(details.get("unexpected_count")),
        unexpected_rows=rows,
        exception=exception,
        details=details,
    )


def _exception_message(info: dict | None) -> str | None:
    """GX reports errors flat ({"raised_exception": ...}) or per metric ({metric_id: {...}})."""
    if not info:
        return None
    found = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    messages = [str(i.get("exception_message")) for i in found if i.get("raised_exception")]
    return "; ".join(dict.fromkeys(messages)) or None
