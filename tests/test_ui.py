"""What the Dagster UI knows after `llmprices ui --lake demo-lake` and `llmprices demo`, asked the way its pages
ask (the webserver's GraphQL API): the demo's runs are runs of the code location's jobs, on the lake's own home,
and every asset but those of the sources the demo has no captures for is materialized."""

from __future__ import annotations

import dagster as dg

from pipeline.homes import LOCATION
from pipeline.webserver import REPOSITORY

#: The demo's runs, one per job.
DEMO_JOBS = {"daily_ingest", "catalog_refresh", "daily_history", "daily_analytics", "price_alerts",
             "monthly_compaction", "monthly_trends"}  # fmt: skip

JOB_RUNS = """
query JobRuns($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) { __typename ... on Pipeline { runs { runId status } } }
}
"""
#: What the Overview timeline lists: runs with the code location they were launched from.
TIMELINE = "{ runsOrError { ... on Runs { results { pipelineName repositoryOrigin { repositoryLocationName } } } } }"


def test_the_demos_runs_are_on_their_jobs_pages_and_the_timeline(demo_ui):
    assert demo_ui.demo.returncode == 0, demo_ui.demo.stdout + demo_ui.demo.stderr
    for job in DEMO_JOBS:
        selector = {"pipelineName": job, "repositoryName": REPOSITORY, "repositoryLocationName": LOCATION}
        page = demo_ui.server.graphql(JOB_RUNS, {"selector": selector})["pipelineOrError"]
        assert [run["status"] for run in page["runs"]] == ["SUCCESS"], job  # "No runs found" before
    runs = demo_ui.server.graphql(TIMELINE)["runsOrError"]["results"]
    assert {run["pipelineName"] for run in runs} >= DEMO_JOBS
    assert all(run["repositoryOrigin"]["repositoryLocationName"] == LOCATION for run in runs)


def test_the_ui_runs_on_the_lakes_own_home(demo_ui):
    answer = demo_ui.server.graphql(
        "{ instance { info } workspaceOrError { ... on Workspace { locationEntries { name } } } }"
    )
    assert str(demo_ui.home) in answer["instance"]["info"]  # not a temporary home
    assert [entry["name"] for entry in answer["workspaceOrError"]["locationEntries"]] == [LOCATION]
    assert demo_ui.home.parent == demo_ui.folder / ".dagster_home"
    assert not (demo_ui.home / "webserver.log").exists()  # the demo launched through the UI, started no server


def test_every_asset_is_materialized_but_the_sources_the_demo_has_no_captures_for(demo_ui):
    from pipeline.definitions import defs

    keys = defs.get_repository_def().asset_graph.get_all_asset_keys()
    with dg.DagsterInstance.from_config(str(demo_ui.home)) as instance:
        never = {key.to_user_string() for key in keys if instance.get_latest_materialization_event(key) is None}
    assert never == {"raw/artificialanalysis", "observations/artificialanalysis", "raw/html", "observations/html"}
