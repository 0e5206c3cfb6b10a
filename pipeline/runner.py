"""Launch real Dagster runs of the project's jobs from Python: what the CLI and the tests call."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

from assets.keys import observations_asset_key, raw_asset_key
from llmprices.observations.write import Hold
from llmprices.sources import SOURCES_BY_NAME
from pipeline.jobs import DAILY_INGEST
from pipeline.monitoring import fail_abandoned_runs, process_tags

DEFAULT_DAGSTER_HOME = ".dagster_home"
#: The `dagster.yaml` of a home the CLI makes. Run monitoring is the daemon's: it fails runs past their
#: `dagster/max_runtime` tag and frees the pool slots of ended runs, so a crashed alert run cannot block the next.
CLI_INSTANCE_SETTINGS = """telemetry:
  enabled: false
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 60
"""


def instance_for_cli() -> dg.DagsterInstance:
    """The persistent instance `dagster dev` shows: $DAGSTER_HOME, else ./.dagster_home.

    A home the CLI makes gets no telemetry (keep its output to what the user asked for) and run monitoring (for
    the daemon of `dagster dev`); a home the user made is used as it is. Runs that an earlier, killed `llmprices`
    left running are marked failed first (`pipeline.monitoring`), which frees their pool slots.
    """
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text(CLI_INSTANCE_SETTINGS)
    instance = dg.DagsterInstance.from_config(str(home))
    for run in fail_abandoned_runs(instance):
        print(f"run {run.run_id} of {run.job_name} was left running by a process that is gone: marked failed")
    return instance


@dataclass(frozen=True)
class IngestRequest:
    """Which sources, which days, from where: live fetch, or per-source folders of captures."""

    sources: Sequence[str]
    first_day: date
    last_day: date
    lake_uri: str | None = None
    archive_dirs: dict[str, str] | None = None
    #: resource key -> config, e.g. {"openrouter_source": {"api_base": "http://127.0.0.1:8000/api/v1"}}
    resource_config: dict[str, dict] | None = None


def run_ingest(request: IngestRequest, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """One run over the day range for the chosen sources; failures stay inside their source's steps."""
    from pipeline.definitions import defs

    unknown = [name for name in request.sources if name not in SOURCES_BY_NAME]
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; known: {sorted(SOURCES_BY_NAME)}")
    selection = [key for name in request.sources for key in (raw_asset_key(name), observations_asset_key(name))]
    job = defs.resolve_job_def(DAILY_INGEST)
    checks = {key for key in job.asset_layer.asset_graph.asset_check_keys if key.asset_key in set(selection)}
    subset = job.get_subset(asset_selection=set(selection), asset_check_selection=checks)
    first, last = request.first_day.isoformat(), request.last_day.isoformat()
    partition = {"partition_key": first} if first == last else {"tags": _range_tags(first, last)}
    partition["tags"] = {**partition.get("tags", {}), **process_tags()}
    return subset.execute_in_process(
        run_config=_run_config(request), instance=instance, raise_on_error=False, **partition
    )


def run_job(
    job_name: str,
    instance: dg.DagsterInstance,
    *,
    first: str | None = None,
    last: str | None = None,
    lake_uri: str | None = None,
    ops_config: dict | None = None,
    console_log_level: str = "CRITICAL",
) -> dg.ExecuteInProcessResult:
    """One run of a project job over a partition (or a range of them), e.g. the analytics after an ingest."""
    from pipeline.definitions import defs

    partition = {}
    if first:
        partition = {"partition_key": first} if last in (None, first) else {"tags": _range_tags(first, last)}
    partition["tags"] = {**partition.get("tags", {}), **process_tags()}
    run_config = {"ops": ops_config or {}, "loggers": {"console": {"config": {"log_level": console_log_level}}}}
    if lake_uri:
        run_config["resources"] = {"lake": {"config": {"root_uri": lake_uri}}}
    return defs.resolve_job_def(job_name).execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=False, **partition
    )


def _range_tags(first: str, last: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def _run_config(request: IngestRequest) -> dict:
    ops = {}
    for name, folder in (request.archive_dirs or {}).items():
        ops["raw__" + name] = {"config": {"archive_dir": str(Path(folder).resolve())}}
    resources = {key: {"config": values} for key, values in (request.resource_config or {}).items()}
    if request.lake_uri:
        resources["lake"] = {"config": {"root_uri": request.lake_uri}}
    # Dagster's console log would print each failure's traceback, twice: the CLI says what failed itself
    # (`pipeline.run_summary`, from the run's events); the UI keeps the full log
    return {"ops": ops, "resources": resources, "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def record_accepted(instance: dg.DagsterInstance, source: str, day: date, rows: int, hold: Hold) -> None:
    """A day a person published with `llmprices accept`, as a materialization of its partition (the UI shows
    who published it and what the check had said)."""
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=observations_asset_key(source),
            partition=day.isoformat(),
            description="held back by a failed blocking check, then accepted by a person (llmprices accept)",
            metadata={"dagster/row_count": rows, "held_check": hold.check, "held_reason": hold.reason},
        )
    )
