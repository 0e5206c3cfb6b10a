"""Dagster assets of the catalog: the model catalog itself, and what the matcher could not name."""

import dagster as dg
import pandas as pd
import pyarrow as pa
from pydantic import Field

from assets.catalog.catalog import CATALOG_COLUMNS, build_catalog
from assets.catalog.coverage import coverage_by_source
from assets.ingest import all_observations_keys
from assets.sources.base import env_default
from assets.warehouse import read_observations
from pipeline.lake import CATALOG, UNMATCHED_MODELS

CATALOG_GROUP = "catalog"
MODEL_CATALOG = dg.AssetKey("model_catalog")
UNMATCHED_MODELS_KEY = dg.AssetKey(UNMATCHED_MODELS)


class HubResource(dg.ConfigurableResource):
    """Where the Hugging Face Hub API and files live (env `HF_HUB_API_BASE`, `HF_HUB_FILES_BASE`)."""

    api_base: str = Field(default_factory=env_default("HF_HUB_API_BASE", "https://huggingface.co/api"))
    files_base: str = Field(default_factory=env_default("HF_HUB_FILES_BASE", "https://huggingface.co"))


class CatalogConfig(dg.Config):
    """Run config: ask the Hub to fill parameter counts the curated table leaves empty."""

    enrich_from_hub: bool = True


@dg.asset(
    key=MODEL_CATALOG,
    group_name=CATALOG_GROUP,
    kinds={"pandas", "parquet"},
    required_resource_keys={"lake", "http", "hf_hub"},
)
def model_catalog(context: dg.AssetExecutionContext, config: CatalogConfig) -> dg.MaterializeResult:
    """Every canonical model with its creator, size (total and active parameters), MoE flag, openness and
    license: the curated `assets/catalog/models.csv` (a source link per row), completed from the Hugging
    Face Hub (safetensors metadata, MoE active parameters computed from config.json). Curated values win;
    disagreements over 10% are listed in the metadata. Lake: `catalog/`."""
    hub = context.resources.hf_hub
    session = context.resources.http.client().session if config.enrich_from_hub else None
    catalog, disagreements = build_catalog(session, api_base=hub.api_base, files_base=hub.files_base)
    lake = context.resources.lake.lake()
    path = lake.write_partition(CATALOG, (), pa.Table.from_pandas(catalog[CATALOG_COLUMNS], preserve_index=False))
    open_weights = catalog["open_weights"].fillna(False).astype(bool)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(catalog),
            "open_weight_models": int(open_weights.sum()),
            "with_parameter_count": int(catalog["params_total_b"].notna().sum()),
            "moe_models": int(catalog["is_moe"].fillna(False).astype(bool).sum()),
            "params_source": dg.MetadataValue.md(_counts_table(catalog["params_source"].fillna("unknown"))),
            "disagreements_over_10pct": len(disagreements),
            "disagreements": dg.MetadataValue.md(
                pd.DataFrame(disagreements).to_markdown(index=False) if disagreements else "none"
            ),
            "path": path,
        }
    )


@dg.asset(
    key=UNMATCHED_MODELS_KEY,
    group_name=CATALOG_GROUP,
    kinds={"duckdb", "parquet"},
    deps=all_observations_keys(),
    required_resource_keys={"lake"},
)
def unmatched_models(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Every provider_model_id the matcher could not map to a canonical model, with the sources that list it,
    its row count and when it was last seen, newest first: where growing `aliases.yaml` or `models.csv`
    matters most. The metadata carries the coverage figure: share of observation rows with a canonical
    model, per source. Lake: `unmatched_models/`."""
    lake = context.resources.lake.lake()
    observations = read_observations(lake)
    unmatched = _unmatched(observations)
    lake.write_partition(UNMATCHED_MODELS, (), pa.Table.from_pandas(unmatched, preserve_index=False))
    metadata = {"dagster/row_count": len(unmatched), "observation_rows": len(observations)}
    if len(observations):
        metadata["coverage_share"] = round(float(observations["model_matched"].mean()), 4)
        metadata["coverage_by_source"] = dg.MetadataValue.md(coverage_by_source(observations).to_markdown(index=False))
    if len(unmatched):
        metadata["top_unmatched"] = dg.MetadataValue.md(unmatched.head(25).to_markdown(index=False))
    return dg.MaterializeResult(metadata=metadata)


def _unmatched(observations: pd.DataFrame) -> pd.DataFrame:
    columns = ["provider_model_id", "normalized_model", "sources", "providers", "rows", "first_seen", "last_seen"]
    rows = observations[~observations["model_matched"].astype(bool)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    grouped = rows.groupby("provider_model_id")
    table = pd.DataFrame(
        {
            "normalized_model": grouped["model"].first(),
            "sources": grouped["source"].agg(lambda s: ",".join(sorted(set(s)))),
            "providers": grouped["provider"].agg(lambda s: ",".join(sorted(set(s)))),
            "rows": grouped.size(),
            "first_seen": grouped["snapshot_date"].min(),
            "last_seen": grouped["snapshot_date"].max(),
        }
    ).reset_index()
    return table.sort_values(["last_seen", "rows", "provider_model_id"], ascending=[False, False, True])[columns]


def _counts_table(values: pd.Series) -> str:
    counts = values.value_counts()
    return "| value | models |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in counts.items())
