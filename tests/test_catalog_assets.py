"""The catalog assets as real Dagster materializations over a real lake, with the Hub on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from assets.alerts.assets import alert_deliveries
from assets.catalog.assets import model_catalog, new_models, unmatched_models
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from llmprices.observations.normalize import observations_table
from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, ParsedPayload
from pipeline.resources import AlertsResource, HttpResource, HubResource, LakeResource
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest

DEMO = Path(__file__).resolve().parent.parent / "pipeline" / "demo_data"


D1, D2 = date(2025, 3, 1), date(2025, 3, 2)
FETCHED = datetime(2025, 3, 2, 6, tzinfo=UTC)
SUPER = "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16"


def land(lake_root: Path, day: date, source: str, listings: list[Listing]) -> None:
    """Listings through the shared normalization into the day's observations partition, as the ingest writes."""
    payload = RawPayload("payload.json", f"http://127.0.0.1/{source}", 200, FETCHED, f"{source} {day}".encode())
    table, _ = observations_table([ParsedPayload(payload, listings)])
    Lake(str(lake_root)).write_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source=source), table)


def openrouter(model_id: str, repo: str | None = None, price: float = 0.2) -> Listing:
    return Listing("openrouter", model_id, price, 4 * price, model_hint=repo)


@pytest.fixture
def lake_root(tmp_path) -> Path:
    """Day 1: a curated model. Day 2: the same, and four models no source listed before."""
    root = tmp_path / "lake"
    land(root, D1, "openrouter", [openrouter("qwen/qwen3-30b-a3b", "Qwen/Qwen3-30B-A3B")])
    land(root, D2, "openrouter", [
        openrouter("qwen/qwen3-30b-a3b", "Qwen/Qwen3-30B-A3B"),
        openrouter("nvidia/nemotron-3-super-120b-a12b", SUPER, 0.3),  # the Hub sizes it (fixture)
        openrouter("qwen/qwen3.5-35b-a3b", "Qwen/Qwen3.5-35B-A3B", 0.25),  # the Hub has no such repo: the name
        openrouter("qwen/qwen3.5-35b-a3b:free", "Qwen/Qwen3.5-35B-A3B", 0.0),
        openrouter("moonshotai/kimi-k2.5", "moonshotai/Kimi-K2.5", 0.6),  # nothing sizes it
        openrouter("acme/closed-9000", None, 3.0),  # no repo: not open weights as far as anyone says
    ])  # fmt: skip
    # a source's first day in the lake: what only it lists is not new (everything would be)
    land(root, D2, "huggingface", [
        Listing("novita", "Qwen/Qwen3.5-35B-A3B", 0.22, 0.9, model_hint="Qwen/Qwen3.5-35B-A3B"),
        Listing("novita", "lab/only-here-7b", 0.1, 0.1, model_hint="lab/only-here-7b"),
    ])  # fmt: skip
    return root


def resources(lake_root: Path, hub) -> dict:
    return {
        "lake": LakeResource(root_uri=str(lake_root)),
        "http": HttpResource(max_retries=0),
        "hf_hub": HubResource(api_base=f"{hub.base_url}/api", files_base=hub.base_url),
    }


def read(lake_root: Path, table: str) -> pd.DataFrame:
    return duckdb.sql(f"select * from read_parquet('{lake_root}/{table}/**/*.parquet')").df()


def test_model_catalog_sizes_observed_models_from_the_hub_and_keeps_its_answers(lake_root, hub_server):
    result = dg.materialize([model_catalog], resources=resources(lake_root, hub_server))
    assert result.success
    catalog = read(lake_root, "catalog").set_index("model")
    columns = ["params_total_b", "params_active_b", "is_moe", "params_source", "curated", "first_seen"]
    assert catalog.loc["nvidia/nvidia-nemotron-3-super-120b-a12b-bf16", columns].tolist() == [
        120.67, 12.77, True, "hub safetensors", False, pd.Timestamp(D2),
    ]  # fmt: skip
    assert catalog.loc["qwen/qwen3.5-35b-a3b", columns].tolist() == [35.0, 3.0, True, "name", False, pd.Timestamp(D2)]
    assert catalog.loc["qwen/qwen3-30b-a3b", columns].tolist() == [30.5, 3.3, True, "curated", True, pd.Timestamp(D1)]
    assert catalog.loc["meta-llama/llama-3.1-70b-instruct", "params_total_b"] == 70.6  # curated, never observed
    assert catalog.loc["qwen/qwen3.5-35b-a3b", "sources"] == "huggingface,openrouter"
    assert catalog.loc["openai/gpt-4", "open_weights"] == False  # noqa: E712
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["dagster/row_count"].value == len(catalog)
    asked = {path.removeprefix("/api/models/") for path in hub_server.paths_requested() if path.startswith("/api/")}
    assert {SUPER, "Qwen/Qwen3.5-35B-A3B", "moonshotai/Kimi-K2.5", "Qwen/Qwen3-30B-A3B"} <= asked
    assert metadata["hub_repos_asked"].value == len(asked)  # every repo answered, a 404 included
    kept = read(lake_root, "hub_params").set_index("repo")
    assert (
        kept.loc[SUPER, "params_total_b"] == 120.67
        and "MTP heads (2.94B) left out of the total" in kept.loc[SUPER, "notes"]
    )

    # the next refresh asks the Hub about nothing: every repo has a fresh answer in the lake
    hub_server.requests.clear()
    again = dg.materialize([model_catalog], resources=resources(lake_root, hub_server))
    assert again.success and hub_server.paths_requested() == []
    assert (
        read(lake_root, "catalog")
        .set_index("model")
        .loc["nvidia/nvidia-nemotron-3-super-120b-a12b-bf16", "params_total_b"]
        == 120.67
    )


def test_model_catalog_offline_uses_curated_sizes_and_names(lake_root, http_server):
    result = dg.materialize(
        [model_catalog],
        resources=resources(lake_root, http_server),
        run_config={"ops": {"model_catalog": {"config": {"enrich_from_hub": False}}}},
    )
    assert result.success and http_server.paths_requested() == []
    catalog = read(lake_root, "catalog").set_index("model")
    nemotron = catalog.loc["nvidia/nvidia-nemotron-3-super-120b-a12b-bf16"]
    assert nemotron[["params_total_b", "params_active_b", "params_source", "name_token"]].tolist() == [
        120.0, 12.0, "name", "120b-a12b",
    ]  # fmt: skip


def test_partitions_landed_before_model_hint_existed_take_the_repo_named_later(tmp_path, http_server):
    """An observations file without the column (landed before it was added) reads it as null; its listing is
    the model of the repo its source named for the same id later, seen since the earlier day."""
    root = tmp_path / "lake"
    payload = RawPayload("payload.json", "http://127.0.0.1/openrouter", 200, FETCHED, b"old day")
    table, _ = observations_table([ParsedPayload(payload, [openrouter("z-ai/glm-5")])])
    old = table.drop_columns(["model_hint"])
    Lake(str(root)).write_partition(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=D1, source="openrouter"), old)
    land(root, D2, "openrouter", [openrouter("z-ai/glm-5", "zai-org/GLM-5")])
    offline = {"ops": {"model_catalog": {"config": {"enrich_from_hub": False}}}}
    assert dg.materialize([model_catalog], resources=resources(root, http_server), run_config=offline).success
    glm = read(root, "catalog").set_index("model").loc["zai-org/glm-5"]
    assert (glm["hf_repo"], glm["open_weights"], glm["first_seen"]) == ("zai-org/GLM-5", True, pd.Timestamp(D1))


def test_new_models_lists_the_days_first_listings_with_how_they_were_sized(lake_root, hub_server):
    """Day 2's new models; the Hub is asked about their repos at once; the priced one nothing sizes is a WARN."""
    result = dg.materialize([new_models], resources=resources(lake_root, hub_server), partition_key=D2.isoformat())
    assert result.success
    rows = read(lake_root, "new_models").set_index("model")
    assert rows[["params_total_b", "params_active_b", "params_source", "open_weights", "hub_asked"]].astype(
        object
    ).where(rows.notna(), None).to_dict("index") == {
        "acme/closed-9000": {"params_total_b": None, "params_active_b": None, "params_source": None,
                             "open_weights": None, "hub_asked": False},
        "moonshotai/kimi-k2.5": {"params_total_b": None, "params_active_b": None, "params_source": None,
                                 "open_weights": True, "hub_asked": True},
        "nvidia/nvidia-nemotron-3-super-120b-a12b-bf16": {"params_total_b": 120.67, "params_active_b": 12.77,
                                                          "params_source": "hub safetensors", "open_weights": True,
                                                          "hub_asked": True},
        "qwen/qwen3.5-35b-a3b": {"params_total_b": 35.0, "params_active_b": 3.0, "params_source": "name",
                                 "open_weights": True, "hub_asked": True},
    }  # fmt: skip
    qwen = rows.loc["qwen/qwen3.5-35b-a3b"]
    assert (qwen["sources"], qwen["providers"]) == ("huggingface,openrouter", "novita,openrouter")
    # its cheapest paid listing that day (the free one is not a price anyone pays at volume)
    assert (qwen["source"], qwen["provider"], qwen["provider_model_id"], qwen["blended_usd_per_mtok"]) == (
        "huggingface", "novita", "Qwen/Qwen3.5-35B-A3B", pytest.approx((3 * 0.22 + 0.9) / 4),
    )  # fmt: skip
    # the Hub was asked about the repos of the day's uncurated open-weight models, not the curated model's
    asked = {path.removeprefix("/api/models/") for path in hub_server.paths_requested() if path.startswith("/api/")}
    assert asked == {SUPER, "Qwen/Qwen3.5-35B-A3B", "moonshotai/Kimi-K2.5", "lab/only-here-7b"}
    [check] = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed, check.severity) == (
        "priced_models_sized",
        False,
        dg.AssetCheckSeverity.WARN,
    )
    assert check.description == "1 priced open-weight model(s) without a size on 2025-03-02"
    assert "moonshotai/kimi-k2.5" in check.metadata["unsized"].value

    first_day = dg.materialize([new_models], resources=resources(lake_root, hub_server), partition_key=D1.isoformat())
    assert first_day.success  # nothing before it in the lake: nothing is "new"
    assert set(read(lake_root, "new_models")["model"]) == set(rows.index)


def test_new_models_offline_warns_only_about_what_the_hub_was_asked(lake_root, http_server):
    result = dg.materialize(
        [new_models],
        resources=resources(lake_root, http_server),
        partition_key=D2.isoformat(),
        run_config={"ops": {"new_models": {"config": {"ask_hub": False}}}},
    )
    assert result.success and http_server.paths_requested() == []
    rows = read(lake_root, "new_models").set_index("model")
    assert rows.loc["nvidia/nvidia-nemotron-3-super-120b-a12b-bf16", "params_source"] == "name"
    assert not rows["hub_asked"].any()
    [check] = result.get_asset_check_evaluations()
    assert check.passed  # kimi-k2.5 has no size, but the Hub was not asked: no warning yet


def test_a_new_open_weight_model_alerts_once_through_the_rules_and_sinks(lake_root, hub_server, tmp_path):
    jsonl = tmp_path / "alerts.jsonl"
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"""
expire_after_days: 36500
sinks:
  file: {{type: jsonl, path: {jsonl}}}
rules:
  - {{name: new-open-weight-model, kinds: [new_model], open_weights: true, sinks: [file]}}
""")
    with dg.instance_for_test() as instance:
        everything = {**resources(lake_root, hub_server), "alerts": AlertsResource(rules_file=str(rules))}
        for _ in range(2):  # the second run finds every alert delivered
            done = dg.materialize(
                [new_models, alert_deliveries], resources=everything, partition_key=D2.isoformat(), instance=instance
            )
            assert done.success
    sent = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert sorted(alert["change"]["model"] for alert in sent) == [
        "moonshotai/kimi-k2.5", "nvidia/nvidia-nemotron-3-super-120b-a12b-bf16", "qwen/qwen3.5-35b-a3b",
    ]  # fmt: skip
    nemotron = next(alert for alert in sent if alert["change"]["model"].startswith("nvidia/"))
    assert nemotron["subject"] == (
        "[LLM prices] nvidia/nvidia-nemotron-3-super-120b-a12b-bf16 on openrouter: new open-weight model, "
        "120.67B total, 12.77B active (hub safetensors)"
    )
    assert f"weights at https://huggingface.co/{SUPER}" in nemotron["text"]


def test_unmatched_models_lists_ids_without_a_canonical_model_and_reports_coverage(tmp_path):
    csv = tmp_path / "captures"
    csv.mkdir()
    (csv / "2025-01-13.csv").write_text(
        "snapshot_date,provider,model,input_usd_per_mtok,output_usd_per_mtok\n"
        "2025-01-13,DeepInfra,meta-llama/Meta-Llama-3.1-70B-Instruct,0.23,0.40\n"
        "2025-01-13,Acme,acme/secret-sauce-9000,1.00,2.00\n"
    )
    with dg.instance_for_test() as instance:
        ran = run_ingest(
            IngestRequest(
                ["csv"],
                date(2025, 1, 13),
                date(2025, 1, 13),
                lake_uri=str(tmp_path / "lake"),
                archive_dirs={"csv": str(csv)},
            ),
            InProcessRuns(instance),
        )
        assert ran.success
        result = dg.materialize(
            [unmatched_models], resources={"lake": LakeResource(root_uri=str(tmp_path / "lake"))}, instance=instance
        )
    assert result.success
    rows = duckdb.sql(f"select * from read_parquet('{tmp_path}/lake/unmatched_models/*.parquet')").df()
    assert rows["provider_model_id"].tolist() == ["acme/secret-sauce-9000"]
    assert rows["sources"].tolist() == ["csv"] and rows["rows"].tolist() == [1]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["coverage_share"].value == 0.5
    assert "| csv " in metadata["coverage_by_source"].value
