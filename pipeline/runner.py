"""Launch real Dagster runs of the project's jobs from Python: what the CLI, the backfill and the tests call.

Every run is described once (`RunLaunch`: job, run config, tags, asset and check selection) by `ingest_launch`
/ `job_launch`, and executed by one of two launchers with the same result (`RunResult`, read back from the
instance):

- `CodeLocationRuns`: through the code location (GraphQL `launchRun` on the lake's webserver), each run in a
  process of its own. The UI ties these runs to their jobs (job pages, timeline, jobs list). The CLI's way.
- `InProcessRuns`: in this process (`execute_in_process`). Real runs on the instance, but without the code
  location's origin: the UI lists them under Runs only. Cheaper, for tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from assets.keys import observations_asset_key, raw_asset_key
from llmprices.observations.write import Hold
from llmprices.sources import SOURCES_BY_NAME
from pipeline.jobs import DAILY_INGEST
from pipeline.monitoring import fail_abandoned_runs, process_tags
from pipeline.webserver import Webserver, WebserverError, running_ui

#: Run statuses after which nothing more happens.
FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


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


@dataclass(frozen=True)
class RunLaunch:
    """One run of a code-location job: its config and tags, and the assets and checks it runs (all of the job's
    when `assets` is None)."""

    job: str
    run_config: dict
    tags: dict[str, str] = field(default_factory=dict)
    assets: Sequence[dg.AssetKey] | None = None
    checks: Sequence[dg.AssetCheckKey] | None = None


@dataclass(frozen=True)
class RunResult:
    """What a run did, read from the instance: the same for both launchers."""

    run_id: str
    job: str
    success: bool
    all_events: list[dg.DagsterEvent]

    @classmethod
    def of_run(cls, instance: dg.DagsterInstance, run_id: str) -> RunResult:
        run = instance.get_run_by_id(run_id)
        events = [entry.dagster_event for entry in instance.all_logs(run_id) if entry.dagster_event is not None]
        return cls(run_id, run.job_name, run.status == dg.DagsterRunStatus.SUCCESS, events)

    def get_asset_check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        return [e.asset_check_evaluation_data for e in self.all_events
                if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]  # fmt: skip


class InProcessRuns:
    """Runs executed in this process on `instance`."""

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance

    def execute(self, launch: RunLaunch) -> RunResult:
        from pipeline.definitions import defs

        job = defs.resolve_job_def(launch.job)
        if launch.assets is not None:
            job = job.get_subset(asset_selection=set(launch.assets), asset_check_selection=set(launch.checks or ()))
        tags = {**launch.tags, **process_tags()}  # the run lives and dies with this process (`pipeline.monitoring`)
        result = job.execute_in_process(
            run_config=launch.run_config, instance=self.instance, tags=tags, raise_on_error=False
        )
        return RunResult.of_run(self.instance, result.run_id)

    def execute_all(self, launches: Sequence[RunLaunch]) -> list[RunResult]:
        return [self.execute(launch) for launch in launches]


class CodeLocationRuns:
    """Runs launched through the code location on a webserver over `instance`'s home, each executed in a
    process of its own (`execution: in_process` within it: one process per run, not one per step)."""

    def __init__(self, server: Webserver, instance: dg.DagsterInstance, owner_tags: Mapping[str, str] | None = None):
        """`owner_tags` name the process the runs depend on (`pipeline.monitoring`): the command whose webserver
        executes them, not a UI that outlives it."""
        self.server, self.instance = server, instance
        self.owner_tags = dict(owner_tags or {})

    def execute(self, launch: RunLaunch) -> RunResult:
        return self.execute_all([launch])[0]

    def execute_all(self, launches: Sequence[RunLaunch]) -> list[RunResult]:
        """Launch the runs at once (they run side by side; a launch itself takes seconds of the code server's
        time, so they are sent together too), wait for all of them."""
        with ThreadPoolExecutor(max_workers=len(launches)) as pool:
            run_ids = list(pool.map(self._launch, launches))
        return [self.wait(run_id) for run_id in run_ids]

    def _launch(self, launch: RunLaunch) -> str:
        run_config = {**launch.run_config, "execution": {"config": {"in_process": {}}}}
        assets = None if launch.assets is None else [key.path for key in launch.assets]
        checks = [(key.asset_key.path, key.name) for key in launch.checks or ()]
        return self.server.launch_run(launch.job, run_config, {**launch.tags, **self.owner_tags}, assets, checks)

    def wait(self, run_id: str, poll: float = 0.5) -> RunResult:
        while self.instance.get_run_by_id(run_id).status not in FINISHED:
            if not self.server.running():  # its runs died with it
                raise WebserverError(f"the Dagster webserver stopped before run {run_id} finished")
            time.sleep(poll)
        return RunResult.of_run(self.instance, run_id)


@contextlib.contextmanager
def home_instance(home: Path) -> Iterator[dg.DagsterInstance]:
    """The Dagster instance of a lake's home, after marking failed the runs an earlier, killed `llmprices` left
    running there (`pipeline.monitoring`), which frees their pool slots."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in fail_abandoned_runs(instance):
            print(f"run {run.run_id} of {run.job_name} was left running by a process that is gone: marked failed")
        yield instance


@contextlib.contextmanager
def code_location_runs(home: Path, lake: str) -> Iterator[CodeLocationRuns]:
    """Runs through the UI `llmprices ui` runs for this home, else through a webserver started for them (and
    stopped after them)."""
    with home_instance(home) as instance:
        server = running_ui(home, lake)
        if server is not None:
            yield CodeLocationRuns(server, instance)
            return
        if isinstance(instance.run_coordinator, dg.QueuedRunCoordinator):  # a home the CLI did not make
            raise WebserverError(
                f"Dagster home {home} queues runs for a daemon (its dagster.yaml sets no run_coordinator, or the "
                f"QueuedRunCoordinator), and no UI runs for this lake: start `llmprices ui --lake {lake}` in another "
                "shell (its daemon starts the runs), or use a home the CLI makes (unset DAGSTER_HOME)."
            )
        with Webserver(home, lake) as server:  # it dies with this process, and so do its runs
            yield CodeLocationRuns(server, instance, owner_tags=process_tags())


Runs = InProcessRuns | CodeLocationRuns


def ingest_launch(request: IngestRequest) -> RunLaunch:
    """One run of `daily_ingest` over the day range for the chosen sources and their checks (not the
    freshness checks the job leaves to its schedule); failures stay inside their source's steps."""
    from pipeline.definitions import defs

    unknown = [name for name in request.sources if name not in SOURCES_BY_NAME]
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; known: {sorted(SOURCES_BY_NAME)}")
    assets = [key for name in request.sources for key in (raw_asset_key(name), observations_asset_key(name))]
    job_checks = defs.resolve_job_def(DAILY_INGEST).asset_layer.asset_graph.asset_check_keys
    checks = sorted((key for key in job_checks if key.asset_key in set(assets)), key=str)
    ops = {"raw__" + name: {"config": {"archive_dir": str(Path(folder).resolve())}}
           for name, folder in (request.archive_dirs or {}).items()}  # fmt: skip
    run_config = _run_config(request.lake_uri, ops, request.resource_config)
    first, last = request.first_day.isoformat(), request.last_day.isoformat()
    return RunLaunch(DAILY_INGEST, run_config, partition_tags(first, last), assets, checks)


def job_launch(
    job_name: str,
    *,
    first: str | None = None,
    last: str | None = None,
    lake_uri: str | None = None,
    ops_config: dict | None = None,
    resource_config: dict[str, dict] | None = None,
    console_log_level: str = "CRITICAL",
) -> RunLaunch:
    """One run of a project job over a partition (or a range of them), e.g. the analytics after an ingest."""
    tags = partition_tags(first, last or first) if first else {}
    return RunLaunch(job_name, _run_config(lake_uri, ops_config, resource_config, console_log_level), tags)


def run_ingest(request: IngestRequest, runs: Runs) -> RunResult:
    return runs.execute(ingest_launch(request))


def partition_tags(first: str, last: str) -> dict[str, str]:
    """The tags that make a run cover one partition, or a range of them as one run."""
    if first == last:
        return {"dagster/partition": first}
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def _run_config(lake_uri, ops, resource_config, console_log_level: str = "CRITICAL") -> dict:
    """Dagster's console log stays quiet by default: it would print each failure's traceback, twice, and the CLI
    says what failed itself (`pipeline.run_summary`, from the run's events); the UI keeps the full log."""
    resources = {key: {"config": values} for key, values in (resource_config or {}).items()}
    if lake_uri:
        resources["lake"] = {"config": {"root_uri": lake_uri}}
    return {"ops": ops or {}, "resources": resources,
            "loggers": {"console": {"config": {"log_level": console_log_level}}}}  # fmt: skip


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
