"""The catalog assets as real Dagster materializations over a real lake."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from assets.catalog.assets import model_catalog, unmatched_models
from pipeline.resources import HttpResource, HubResource, LakeResource
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest

DEMO = Path(__file__).resolve().parent.parent / "pipeline" / "demo_data"


def test_model_catalog_lands_curated_rows_and_enriches_from_a_local_hub(http_server, tmp_path):
    http_server.add(
        "/api/models/meta-llama/Llama-3.3-70B-Instruct", json.dumps({"safetensors": {"total": 70553706496}})
    )
    resources = {
        "lake": LakeResource(root_uri=str(tmp_path)),
        "http": HttpResource(max_retries=0),
        "hf_hub": HubResource(api_base=f"{http_server.base_url}/api", files_base=http_server.base_url),
    }
    result = dg.materialize(
        [model_catalog],
        resources=resources,
        run_config={"ops": {"model_catalog": {"config": {"enrich_from_hub": True}}}},
    )
    assert result.success
    catalog = duckdb.sql(f"select * from read_parquet('{tmp_path}/catalog/*.parquet')").df().set_index("model")
    llama = catalog.loc["meta-llama/llama-3.1-70b-instruct"]
    assert llama["params_total_b"] == 70.6 and llama["params_active_b"] == 70.6 and not llama["is_moe"]
    assert catalog.loc["mistralai/mixtral-8x7b-instruct", "params_active_b"] == 12.9
    assert catalog.loc["openai/gpt-4", "open_weights"] == False  # noqa: E712
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["dagster/row_count"].value == len(catalog)
    assert any(path.startswith("/api/models/") for path in http_server.paths_requested())


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
