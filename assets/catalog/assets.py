"""Dagster assets of the catalog: the model catalog itself, and what the matcher could not name."""

import dagster as dg
import pandas as pd
import pyarrow as pa

from assets.keys import ALL_OBSERVATIONS, CATALOG_GROUP, MODEL_CATALOG, UNMATCHED_MODELS
from llmprices.catalog.catalog import CATALOG_COLUMNS, build_catalog
from llmprices.catalog.coverage import coverage_by_source, unmatched_ids
from llmprices.lake.read import read_observations
from llmprices.lake.tables import CATALOG
from llmprices.lake.tables import UNMATCHED_MODELS as UNMATCHED_MODELS_TABLE


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
    license: the curated `llmprices/catalog/models.csv` (a source link per row), completed from the Hugging
    Face Hub (safetensors metadata, MoE active parameters computed from config.json). Curated values win;
    disagreements over 10% are listed in the metadata. Lake: `catalog/`."""
    hub = context.resources.hf_hub
    http = context.resources.http.client() if config.enrich_from_hub else None
    catalog, disagreements = build_catalog(http, api_base=hub.api_base, files_base=hub.files_base)
    lake = context.resources.lake.lake()
    path = lake.write_partition(CATALOG, (), pa.Table.from_pandas(catalog[CATALOG_COLUMNS], preserve_index=False))
    open_weights = catalog["open_weights"].fillna(False).astype(bool)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(catalog),
            "open_weight_models": int(open_weights.sum()),
            "with_parameter_count": int(catalog["params_total_b"].notna().sum()),
            "moe_models": int(catalog["is_moe"].fillna(False).astype(bool).sum()),
            "params_source": dg.MetadataValue.md(
                catalog["params_source"]
                .fillna("unknown")
                .value_counts()
                .rename_axis("value")
                .reset_index(name="models")
                .to_markdown(index=False)
            ),
            "disagreements_over_10pct": len(disagreements),
            "disagreements": dg.MetadataValue.md(
                pd.DataFrame(disagreements).to_markdown(index=False) if disagreements else "none"
            ),
            "path": path,
        }
    )


@dg.asset(
    key=UNMATCHED_MODELS,
    group_name=CATALOG_GROUP,
    kinds={"pandas", "parquet"},
    deps=ALL_OBSERVATIONS,
    required_resource_keys={"lake"},
)
def unmatched_models(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Every provider_model_id the matcher could not map to a canonical model, with the sources that list it,
    its row count and when it was last seen, newest first: where growing `aliases.yaml` or `models.csv`
    matters most. The metadata carries the coverage figure: share of observation rows with a canonical
    model, per source. Lake: `unmatched_models/`."""
    lake = context.resources.lake.lake()
    observations = read_observations(lake)
    unmatched = unmatched_ids(observations)
    lake.write_partition(UNMATCHED_MODELS_TABLE, (), pa.Table.from_pandas(unmatched, preserve_index=False))
    metadata = {"dagster/row_count": len(unmatched), "observation_rows": len(observations)}
    if len(observations):
        metadata["coverage_share"] = round(float(observations["model_matched"].mean()), 4)
        metadata["coverage_by_source"] = dg.MetadataValue.md(coverage_by_source(observations).to_markdown(index=False))
    if len(unmatched):
        metadata["top_unmatched"] = dg.MetadataValue.md(unmatched.head(25).to_markdown(index=False))
    return dg.MaterializeResult(metadata=metadata)
