"""The alert assets in real Dagster runs: real OpenRouter days landed by the ingest job, then `price_changes`
and `alert_deliveries` materialized against real receivers on 127.0.0.1 (the HTTP and aiosmtpd servers of
test_alerts.py); the run-failure sensor, the freshness checks and the automation that chains the assets."""

import json
import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest
import test_alerts as delivery

from assets.alerts.assets import NOT_CONFIGURED, alert_deliveries
from assets.catalog.assets import new_models
from assets.keys import observations_asset_key
from assets.partitions import DAILY_PARTITIONS
from assets.sources.freshness import observations_freshness
from assets.warehouse.assets import price_changes
from llmprices.lake.store import Lake
from llmprices.lake.tables import ALERTS, CHANGES, NEW_MODELS, OBSERVATIONS
from llmprices.sources import ALL_SOURCES
from llmprices.warehouse.changes import changes_between, changes_table
from pipeline.resources import AlertsResource, HttpResource, HubResource, LakeResource
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest
from pipeline.sensors import SENSORS, operators_on_run_failure

BEFORE, DAY, NEXT = date(2025, 9, 16), date(2025, 9, 17), date(2025, 9, 18)
OPERATORS_TOKEN = "0per4tors-s3cret-5a6b7c"
SECRETS = (*delivery.SECRETS, OPERATORS_TOKEN)

#: the real receivers on 127.0.0.1 (fixtures): an HTTP server taking webhooks, an aiosmtpd server with a login
receiver, mailbox = delivery.receiver, delivery.mailbox
DEMO = Path(__file__).resolve().parent.parent / "pipeline" / "demo_data"


# -- landed days and rules -------------------------------------------------------------------------
def land(shared_data: Path, lake: Path, days: list[date], instance: dg.DagsterInstance, source="openrouter"):
    folder = shared_data / "openrouter-models" if source == "openrouter" else DEMO / source
    for day in days:
        request = IngestRequest([source], day, day, lake_uri=str(lake), archive_dirs={source: str(folder)})
        assert run_ingest(request, InProcessRuns(instance)).success


@pytest.fixture(scope="module")
def landed(shared_data, tmp_path_factory) -> Path:
    """A lake with the real OpenRouter observations of 2025-09-16 and 17, landed by the ingest job."""
    lake = tmp_path_factory.mktemp("landed") / "lake"
    land(shared_data, lake, [BEFORE, DAY], dg.DagsterInstance.ephemeral())
    return lake


@pytest.fixture
def lake(landed, tmp_path) -> Path:
    return Path(shutil.copytree(landed, tmp_path / "lake"))


#: `price_changes` and the deliveries that follow it.
CHANGES_AND_ALERTS = [price_changes, alert_deliveries]


def write_rules(path: Path, mailbox, operators: str = "{type: slack, webhook_url_env: TEST_OPERATORS_URL}"):
    """The rules of test_alerts.py and an `operators` sink; the alerts of 2025 must not expire while the
    tests run today."""
    jsonl = path.parent / "alerts.jsonl"
    path.write_text(
        delivery.rules_yaml(mailbox.port, jsonl, expire_after_days=36500, extra_sinks=f"  operators: {operators}\n")
    )
    return path


@pytest.fixture
def rules(tmp_path, receiver, mailbox, monkeypatch) -> Path:
    """The secrets only in the environment."""
    monkeypatch.setenv("TEST_SLACK_WEBHOOK_URL", f"{receiver.url}/services/{delivery.SLACK_TOKEN}")
    monkeypatch.setenv("TEST_HOOK_URL", f"{receiver.url}/hooks/{delivery.HOOK_TOKEN}")
    monkeypatch.setenv("TEST_OPERATORS_URL", f"{receiver.url}/operators/{OPERATORS_TOKEN}")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", delivery.SMTP_PASSWORD)
    return write_rules(tmp_path / "rules.yaml", mailbox)


def materialize(lake: Path, rules: Path | str, instance, day: date | None = None, assets=CHANGES_AND_ALERTS, **kwargs):
    return dg.materialize(
        assets,
        partition_key=day.isoformat() if day else None,
        resources={"lake": LakeResource(root_uri=str(lake)), "alerts": AlertsResource(rules_file=str(rules))},
        instance=instance,
        **kwargs,
    )


def metadata(
    result: dg.ExecuteInProcessResult, asset: dg.AssetsDefinition, days: int = 1, day: str | None = None
) -> dict:
    """The run's metadata of `asset` for `day` (by default its last): a ranged run records each day with its
    own figures."""
    materializations = sorted(result.asset_materializations_for_node(asset.op.name), key=lambda m: m.partition)
    assert len(materializations) == days
    [materialization] = [m for m in materializations if m.partition == day] if day else materializations[-1:]
    return {key: value.value for key, value in materialization.metadata.items()}


def delivery_check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


# -- alerts of two real days -----------------------------------------------------------------------
def test_two_real_days_send_exactly_the_matching_alerts_and_a_rerun_sends_none(
    shared_data, lake, rules, receiver, mailbox
):
    instance = dg.DagsterInstance.ephemeral()
    first = materialize(lake, rules, instance, BEFORE)  # the first day in the lake: nothing to compare with
    assert metadata(first, price_changes)["compared_with"] == {"openrouter": None}
    assert metadata(first, alert_deliveries)["alerts_matched"] == 0 and receiver.accepted == []

    result = materialize(lake, rules, instance, DAY)
    changed = metadata(result, price_changes)
    assert changed["compared_with"] == {"openrouter": "2025-09-16"}
    counts = {kind: changed[kind] for kind in ("price_changed", "listed", "delisted", "cheapest_provider_changed")}
    assert counts == {"price_changed": 33, "listed": 1, "delisted": 3, "cheapest_provider_changed": 0}
    assert changed["dagster/row_count"] == 37
    assert changed["biggest_moves"].count("\n| openrouter | price_changed |") == 10
    stored = (
        Lake(str(lake)).read_partition(CHANGES, CHANGES.partition(snapshot_date=DAY, source="openrouter")).to_pandas()
    )
    assert len(stored) == 37 and set(stored["previous_date"]) == {BEFORE}

    expected = delivery.expected_from_json(shared_data)
    delivered = metadata(result, alert_deliveries)
    assert (delivered["alerts_matched"], delivered["delivered"], delivered["failed"]) == (8 * 2 + 4 * 2, 24, 0)
    assert delivery_check(result).passed
    slack, hook = receiver.posts("/services/"), receiver.posts("/hooks/")
    assert sorted(delivery.listing_in(p["json"]["text"]) for p in slack) == sorted(
        ("price_changed", i) for i in expected["price_changed"]
    )
    assert sorted(p["json"]["change"]["provider_model_id"] for p in hook) == sorted(expected["price_changed"])
    assert all(p["headers"]["Idempotency-Key"] == p["json"]["alert_id"] for p in hook)
    catalog = {("listed", i) for i in expected["listed"]} | {("delisted", i) for i in expected["delisted"]}
    assert {delivery.listing_in(m.get_content()) for m in mailbox.messages} == catalog and len(mailbox.messages) == 4
    lines = (rules.parent / "alerts.jsonl").read_text().splitlines()
    assert {(c["kind"], c["provider_model_id"]) for c in (json.loads(line)["change"] for line in lines)} == catalog
    assert len(lines) == 4

    again = materialize(lake, rules, instance, DAY)  # re-materializing the day
    assert metadata(again, price_changes)["dagster/row_count"] == 37
    redelivered = metadata(again, alert_deliveries)
    assert (redelivered["delivered"], redelivered["already_done"]) == (0, 24)
    assert (len(receiver.accepted), len(mailbox.messages)) == (16, 4)
    assert len((rules.parent / "alerts.jsonl").read_text().splitlines()) == 4


def test_a_days_new_models_are_counted_apart_from_its_price_changes(lake, rules):
    instance = dg.DagsterInstance.ephemeral()
    materialize(lake, rules, instance, BEFORE)
    qwen = {name: None for name in NEW_MODELS.schema.names} | {
        "model": "qwen/qwen3.5-35b-a3b", "hf_repo": "Qwen/Qwen3.5-35B-A3B", "open_weights": True,
        "params_total_b": 35.0, "params_active_b": 3.0, "sources": "openrouter", "providers": "openrouter",
        "source": "openrouter", "provider": "openrouter", "provider_model_id": "qwen/qwen3.5-35b-a3b",
        "input_usd_per_mtok": 0.2, "output_usd_per_mtok": 0.8, "blended_usd_per_mtok": 0.35,
    }  # fmt: skip
    table = pa.Table.from_pylist([qwen], schema=NEW_MODELS.schema)
    Lake(str(lake)).write_partition(NEW_MODELS, NEW_MODELS.partition(snapshot_date=DAY), table)

    result = materialize(lake, rules, instance, DAY)
    day = metadata(result, alert_deliveries)
    assert (day["changes"], day["new_models"]) == (37, 1)  # as price_changes counts them, and the new model
    run = result.asset_materializations_for_node(alert_deliveries.op.name)[0].metadata
    assert (run["run_changes"].value, run["run_new_models"].value) == (37, 1)


def test_a_receiver_outage_is_retried_by_a_later_run_once_and_nothing_secret_is_stored(lake, rules, receiver, mailbox):
    instance = dg.DagsterInstance.ephemeral()
    receiver.failures_left = 3
    down = materialize(lake, rules, instance, DAY)
    report = metadata(down, alert_deliveries)
    assert (report["delivered"], report["failed"]) == (21, 3)
    assert report["run_errors"].count("HTTP 503 Service Unavailable") == 3
    check = delivery_check(down)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN  # yellow, the run succeeds
    assert down.success

    later = materialize(lake, rules, instance, NEXT)  # the next day's run, a day with no data yet
    assert metadata(later, price_changes)["compared_with"] == {}
    retried = metadata(later, alert_deliveries)  # the day's own alerts: none; the run retried the 17th's
    assert (retried["alerts_matched"], retried["delivered"], retried["run_delivered"], retried["run_failed"]) == (
        0, 0, 3, 0
    )  # fmt: skip
    assert delivery_check(later).passed
    sent = [p["path"] + p["json"].get("alert_id", p["json"].get("text", "")) for p in receiver.accepted]
    assert len(sent) == len(set(sent)) == 16 and receiver.refused == 3 and len(mailbox.messages) == 4

    assert metadata(materialize(lake, rules, instance, DAY), alert_deliveries)["delivered"] == 0
    assert len(receiver.accepted) == 16
    ledger = pd.read_parquet(Path(lake) / ALERTS.name)
    attempts = ledger.groupby("alert_id")["status"].agg(list)
    assert attempts.map(lambda s: s[-1]).value_counts().to_dict() == {"delivered": 24}
    assert (attempts.map(lambda s: s.count("failed")) == 1).sum() == 3

    stored = [p.read_bytes().decode("latin-1") for p in Path(lake).rglob("*") if p.is_file()]
    stored.append(repr(ledger.to_dict("records")))
    logged = [dg.serialize_value(e) for r in (down, later) for e in instance.all_logs(r.run_id)]
    assert any("HTTP 503" in text for text in stored) and any("HTTP 503" in text for text in logged)
    for secret in SECRETS:
        assert not [text for text in stored + logged if secret in text]


# -- ranges, gaps, stale rows, no rules ------------------------------------------------------------
def test_a_ranged_run_goes_day_by_day_replaces_stale_changes_and_sends_nothing_without_rules(lake, receiver, mailbox):
    store = Lake(str(lake))
    observed = {
        day: store.read_partition(
            OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source="openrouter")
        ).to_pandas()
        for day in (BEFORE, DAY)
    }
    stale = changes_between(observed[DAY], observed[BEFORE], DAY, BEFORE, source="litellm")  # a source gone since
    store.write_partition(CHANGES, CHANGES.partition(snapshot_date=DAY, source="litellm"), changes_table(stale))
    assert len(stale) == 37

    tags = {"dagster/asset_partition_range_start": "2025-09-16", "dagster/asset_partition_range_end": "2025-09-17"}
    result = materialize(lake, "", dg.DagsterInstance.ephemeral(), tags=tags)
    first_day = metadata(result, price_changes, days=2, day="2025-09-16")
    assert first_day["compared_with"] == {"openrouter": None} and first_day["dagster/row_count"] == 0
    changed = metadata(result, price_changes, days=2, day="2025-09-17")
    assert changed["compared_with"] == {"litellm": None, "openrouter": "2025-09-16"}
    assert changed["dagster/row_count"] == 37 and changed["run_changes"] == 37
    assert store.read_partition(CHANGES, CHANGES.partition(snapshot_date=DAY, source="litellm")).num_rows == 0
    assert metadata(result, alert_deliveries, days=2) == {"status": NOT_CONFIGURED}
    assert delivery_check(result).passed
    assert receiver.accepted == [] and mailbox.messages == [] and store.partition_values(ALERTS) == []


def test_a_collapsed_day_is_held_back_not_alerted_as_delistings(lake, rules, receiver, mailbox):
    store = Lake(str(lake))
    before = store.row_count(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=BEFORE, source="openrouter"))
    day = store.read_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=DAY, source="openrouter"))
    collapsed = day.slice(0, before // 3)  # a broken scrape: a third of the listings
    store.write_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=DAY, source="openrouter"), collapsed)

    result = materialize(lake, rules, dg.DagsterInstance.ephemeral(), DAY)
    changed = metadata(result, price_changes)
    held = f"{collapsed.num_rows} rows after {before} on 2025-09-16 (row_count_vs_previous)"
    assert changed["held_back"] == {"openrouter": held}
    assert changed["dagster/row_count"] == 0
    assert store.read_partition(CHANGES, CHANGES.partition(snapshot_date=DAY, source="openrouter")).num_rows == 0
    assert metadata(result, alert_deliveries)["alerts_matched"] == 0
    assert receiver.accepted == [] and mailbox.messages == []


def test_a_gap_compares_with_the_latest_earlier_day_with_data(shared_data, tmp_path):
    """The shared history has no 2024-09-22/23."""
    lake, instance = tmp_path / "lake", dg.DagsterInstance.ephemeral()
    land(shared_data, lake, [date(2024, 9, 21), date(2024, 9, 24)], instance)
    result = materialize(lake, "", instance, date(2024, 9, 24), assets=[price_changes])
    changed = metadata(result, price_changes)
    assert changed["compared_with"] == {"openrouter": "2024-09-21"}
    stored = Lake(str(lake)).read_partition(
        CHANGES, CHANGES.partition(snapshot_date=date(2024, 9, 24), source="openrouter")
    )
    assert stored.num_rows == changed["dagster/row_count"] > 0
    assert set(stored.column("previous_date").to_pylist()) == {date(2024, 9, 21)}


# -- operators, freshness, automation --------------------------------------------------------------
@dg.asset
def posts_to_a_webhook():
    raise RuntimeError(f"cannot post to {os.environ['TEST_HOOK_URL']}\nmore detail")


@pytest.mark.parametrize("operators", ["slack", "email"])
def test_a_failed_run_is_told_to_the_operators_sink_without_secrets(operators, rules, receiver, mailbox, monkeypatch):
    if operators == "email":
        email = (
            f"{{type: email, host: 127.0.0.1, port: {mailbox.port}, starttls: false, from: prices@example.org, "
            "to: [ops@example.org], user: alerts, password_env: TEST_SMTP_PASSWORD}"
        )
        write_rules(rules, mailbox, email)
    instance = dg.DagsterInstance.ephemeral()
    failed = dg.materialize([posts_to_a_webhook], instance=instance, raise_on_error=False)
    assert not failed.success
    context = dg.build_run_status_sensor_context(
        sensor_name=operators_on_run_failure.name,
        dagster_event=failed.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=failed.dagster_run,
        resources={"alerts": AlertsResource(rules_file=str(rules))},
    ).for_run_failure()
    assert operators_on_run_failure(context) is None

    job = failed.dagster_run.job_name
    expected = (
        f"Run {failed.run_id} of job {job} failed: "
        f"posts_to_a_webhook: RuntimeError: cannot post to http://127.0.0.1/***"
    )
    if operators == "slack":
        (post,) = receiver.posts("/operators/")
        assert post["json"] == {"text": expected}  # Slack posts the text; the subject goes to email
    else:
        (message,) = mailbox.messages
        assert message["Subject"] == f"[LLM prices] run of {job} failed" and message["To"] == "ops@example.org"
        assert message.get_content().strip() == expected
    told = repr([p["json"] for p in receiver.accepted]) + "".join(m.as_string() for m in mailbox.messages)
    assert receiver.posts("/hooks/") == [] and all(secret not in told for secret in SECRETS)

    if operators == "slack":  # the operators' receiver is down: the sensor says so, without the secret
        monkeypatch.setenv("TEST_OPERATORS_URL", f"http://127.0.0.1:{delivery.free_port()}/o/{OPERATORS_TOKEN}")
        down = operators_on_run_failure(context)
        assert "cannot reach the receiver" in down.skip_message and OPERATORS_TOKEN not in down.skip_message

    rules.write_text("sinks: {}\n")
    skipped = operators_on_run_failure(context)
    assert isinstance(skipped, dg.SkipReason) and "no `operators` sink" in skipped.skip_message


def test_freshness_is_judged_on_the_newest_prices_in_the_lake_not_on_when_a_run_happened(shared_data, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    lake = tmp_path / "lake"
    land(shared_data, lake, [DAY], instance)  # openrouter lands now, but its prices are of 2025-09-17
    today = datetime.now(UTC).date()
    store = Lake(str(lake))
    prices = store.read_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=DAY, source="openrouter"))
    store.write_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=today, source="litellm"), prices)
    store.write_partition(  # an empty day is no prices
        OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=today, source="huggingface"), prices.slice(0, 0)
    )
    checks = dg.Definitions(
        asset_checks=[observations_freshness], resources={"lake": LakeResource(root_uri=str(lake))}
    ).resolve_implicit_global_asset_job_def()
    result = checks.execute_in_process(instance=instance, raise_on_error=False)
    evaluations = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {spec.name for spec in ALL_SOURCES if spec.live}
    assert "csv" not in evaluations  # imported by hand: no cadence to be late for
    assert evaluations["litellm"].passed and evaluations["litellm"].description.startswith(
        f"fresh: newest prices are of {today}"
    )
    assert not evaluations["openrouter"].passed
    assert evaluations["openrouter"].description.startswith("overdue: newest prices are of 2025-09-17")
    assert not evaluations["huggingface"].passed  # only an empty day
    assert evaluations["genai_prices"].description == "overdue: genai_prices has no prices in the lake"
    assert {e.severity for e in evaluations.values()} == {dg.AssetCheckSeverity.ERROR}  # red


def test_todays_changes_follow_any_landed_source_and_deliveries_follow_them():
    automation = next(s for s in SENSORS if isinstance(s, dg.AutomationConditionSensorDefinition))
    assert automation.default_status == dg.DefaultSensorStatus.RUNNING
    assert alert_deliveries.op.pool == "alerts"
    sources = [dg.AssetSpec(observations_asset_key(spec.name), partitions_def=DAILY_PARTITIONS) for spec in ALL_SOURCES]
    resources = {"lake": LakeResource(), "alerts": AlertsResource(), "http": HttpResource(), "hf_hub": HubResource()}
    every = dg.Definitions(assets=[*sources, *CHANGES_AND_ALERTS, new_models], resources=resources)
    instance = dg.DagsterInstance.ephemeral()
    today = DAILY_PARTITIONS.get_last_partition_key()

    quiet = dg.evaluate_automation_conditions(defs=every, instance=instance)
    assert quiet.total_requested == 0  # no source landed: nothing to compare

    for source in ("openrouter", "litellm"):
        instance.report_runless_asset_event(dg.AssetMaterialization(observations_asset_key(source), partition=today))
    instance.report_runless_asset_event(  # an old day landing (a backfill) triggers nothing
        dg.AssetMaterialization(observations_asset_key("openrouter"), partition="2025-09-17")
    )
    landed = dg.evaluate_automation_conditions(defs=every, instance=instance, cursor=quiet.cursor)
    assert landed.get_requested_partitions(price_changes.key) == {today}
    assert landed.get_requested_partitions(new_models.key) == {today}
    assert landed.get_requested_partitions(alert_deliveries.key) == {today}  # in the same tick
    assert landed.total_requested == 3

    again = dg.evaluate_automation_conditions(defs=every, instance=instance, cursor=landed.cursor)
    assert again.total_requested == 0
