"""Dagster assets of the catalog: the model catalog, the models first seen each day, and what the matcher could
not name."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pandas as pd
import pyarrow as pa

from assets.automation import AFTER_ANY_SOURCE_LANDS
from assets.keys import ALL_OBSERVATIONS, CATALOG_GROUP, MODEL_CATALOG, NEW_MODELS, UNMATCHED_MODELS
from assets.metadata import rows_md
from assets.partitions import DAILY_PARTITIONS, partition_days
from llmprices.catalog.catalog import catalog_from_observations, repos_to_ask
from llmprices.catalog.coverage import coverage_by_source, unmatched_ids
from llmprices.catalog.hf_params import HubParams
from llmprices.catalog.hub_cache import DEFAULT_MAX_AGE, HubAnswers, ask_hub, read_hub_answers, write_hub_answers
from llmprices.catalog.listings import listing_bounds, listing_counts, listing_models
from llmprices.catalog.new_models import PRICE_COLUMNS, new_models_of_day, repos_new_to_the_hub, unsized_priced
from llmprices.catalog.observed import OBSERVED_COLUMNS
from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import CATALOG
from llmprices.lake.tables import NEW_MODELS as NEW_MODELS_TABLE
from llmprices.lake.tables import UNMATCHED_MODELS as UNMATCHED_MODELS_TABLE

PRICED_MODELS_SIZED = "priced_models_sized"


class CatalogConfig(dg.Config):
    """Run config: ask the Hub about every open-weight repo it has no answer for, or one older than
    `hub_max_age_days`; off, the answers kept in the lake are used as they are."""

    enrich_from_hub: bool = True
    hub_max_age_days: int = DEFAULT_MAX_AGE.days


class NewModelsConfig(dg.Config):
    """Run config: ask the Hub about the repos of the days' new models it was never asked about."""

    ask_hub: bool = True


def _ask_hub(context: dg.AssetExecutionContext, lake: Lake, answers: HubAnswers, repos: list[str]) -> list[HubParams]:
    """Ask the Hub (resource `hf_hub`) about `repos`, keep its answers in the lake; returns them."""
    if not repos:
        return []
    hub = context.resources.hf_hub
    got = ask_hub(
        context.resources.http.client(), repos, answers, datetime.now(UTC),
        api_base=hub.api_base, files_base=hub.files_base,
    )  # fmt: skip
    if got:
        write_hub_answers(lake, answers)
    context.log.info(f"asked the Hub about {len(repos)} repos, {len(got)} answered")
    return got


@dg.asset(
    key=MODEL_CATALOG,
    deps=ALL_OBSERVATIONS,
    group_name=CATALOG_GROUP,
    kinds={"pandas", "parquet"},
    required_resource_keys={"lake", "http", "hf_hub"},
)
def model_catalog(context: dg.AssetExecutionContext, config: CatalogConfig) -> dg.MaterializeResult:
    """Every model curated or listed by any source, with its creator, size (total, active, vision towers),
    MoE flag, openness and license. Sizes: the curated `llmprices/catalog/models.csv` (a source link per row)
    first, then the Hugging Face Hub for the repo the model's source names (safetensors total, MoE active
    parameters from config.json; answers kept in the lake's `hub_params/`), then what the model's name says;
    `params_source` says which. Disagreements of the Hub with curated values over 10% are listed in the
    metadata. Lake: `catalog/`."""
    lake = context.resources.lake.lake()
    observations = listing_bounds(lake)
    answers = read_hub_answers(lake)
    asked: list[HubParams] = []
    if config.enrich_from_hub:
        offline = catalog_from_observations(observations, answers.params)
        max_age = timedelta(days=config.hub_max_age_days)
        asked = _ask_hub(context, lake, answers, answers.due(repos_to_ask(offline.catalog), datetime.now(UTC), max_age))
    built = catalog_from_observations(observations, answers.params)
    catalog = built.catalog
    path = lake.write_partition(CATALOG, (), CATALOG.from_frame(catalog))
    open_weights = catalog["open_weights"].astype("boolean").fillna(False).astype(bool)
    moe = catalog["is_moe"].astype("boolean").fillna(False).astype(bool)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(catalog),
            "curated_models": int(catalog["curated"].sum()),
            "open_weight_models": int(open_weights.sum()),
            "with_parameter_count": int(catalog["params_total_b"].notna().sum()),
            "open_weight_without_count": int((open_weights & catalog["params_total_b"].isna()).sum()),
            "moe_models": int(moe.sum()),
            "moe_without_active": int((moe & catalog["params_active_b"].isna()).sum()),
            "params_source": dg.MetadataValue.md(
                catalog["params_source"]
                .fillna("unknown")
                .value_counts()
                .rename_axis("value")
                .reset_index(name="models")
                .to_markdown(index=False)
            ),
            "hub_repos_asked": len(asked),
            "hub_answers_kept": len(answers.params),
            "disagreements_over_10pct": len(built.disagreements),
            "disagreements": rows_md(pd.DataFrame(built.disagreements), rows=50),
            "path": path,
        }
    )


@dg.asset(
    key=NEW_MODELS,
    deps=ALL_OBSERVATIONS,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=AFTER_ANY_SOURCE_LANDS,
    group_name=CATALOG_GROUP,
    kinds={"pandas", "parquet"},
    required_resource_keys={"lake", "http", "hf_hub"},
    check_specs=[
        dg.AssetCheckSpec(
            PRICED_MODELS_SIZED,
            asset=NEW_MODELS,
            description="Every open-weight model with a paid price that day has a size, unless the Hub has not "
            "been asked about its repo yet: one that fails had no size from the curated table, the Hub or its name.",
        )
    ],
)
def new_models(context: dg.AssetExecutionContext, config: NewModelsConfig) -> dg.MaterializeResult:
    """The models a source listed for the first time that day (no source had listed them before), with how
    they were sized (`params_source`: curated, Hub, name, or none), their sources and providers and their
    cheapest listing that day. The Hub is asked at once about the repos of the days' open-weight models it
    was never asked about. A day with nothing before it in the lake (or a source's first day) lists nothing:
    everything would be new. Lake: `new_models/snapshot_date=D/`; the `new_model` kind of alert rules."""
    lake = context.resources.lake.lake()
    days = partition_days(context)
    history = listing_bounds(lake, last_day=days[-1])
    answers = read_hub_answers(lake)
    built = catalog_from_observations(history, answers.params)
    if config.ask_hub and _ask_hub(context, lake, answers, repos_new_to_the_hub(built.catalog, days[0], answers)):
        built = catalog_from_observations(history, answers.params)
    first_day_of_source = history.groupby("source")["snapshot_date"].min()
    written, unsized = [], []
    for day in days:
        today = read_observations(lake, day, day, columns=[*OBSERVED_COLUMNS, *PRICE_COLUMNS])
        today = today.assign(model=listing_models(history, built.keys, today))
        rows = new_models_of_day(built.catalog, first_day_of_source, today, day, answers)
        lake.write_partition(
            NEW_MODELS_TABLE, NEW_MODELS_TABLE.partition(snapshot_date=day), NEW_MODELS_TABLE.from_frame(rows)
        )
        written.append(rows.assign(snapshot_date=day))
        unsized.append(unsized_priced(built.catalog, today, today["model"], answers).assign(day=day))
    fresh = pd.concat(written, ignore_index=True)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(fresh),
            "open_weight": int(fresh["open_weights"].astype("boolean").fillna(False).sum()),
            "sized_by": dg.MetadataValue.md(_sized_by(fresh)),
            "new_models": rows_md(
                fresh[["snapshot_date", "model", "params_total_b", "params_active_b", "params_source", "sources"]]
            ),
        },
        check_results=[_sized_check(pd.concat(unsized, ignore_index=True), days)],
    )


def _sized_by(fresh: pd.DataFrame) -> str:
    if fresh.empty:
        return "no new models"
    how = fresh["params_source"].fillna("not sized").value_counts().rename_axis("params_source")
    return how.reset_index(name="models").to_markdown(index=False)


def _sized_check(unsized: pd.DataFrame, days: list[date]) -> dg.AssetCheckResult:
    span = f"{days[0]}" if len(days) == 1 else f"{days[0]}..{days[-1]}"
    return dg.AssetCheckResult(
        check_name=PRICED_MODELS_SIZED,
        passed=unsized.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{unsized['model'].nunique()} priced open-weight model(s) without a size on {span}"
        if len(unsized)
        else f"every priced open-weight model the Hub was asked about is sized on {span}",
        metadata={"unsized": rows_md(unsized[["day", "model", "hf_repo", "sources"]])},
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
    listings = listing_counts(lake)
    unmatched = unmatched_ids(listings)
    lake.write_partition(UNMATCHED_MODELS_TABLE, (), pa.Table.from_pandas(unmatched, preserve_index=False))
    rows = int(listings["rows"].sum())
    metadata = {"dagster/row_count": len(unmatched), "observation_rows": rows}
    if rows:
        matched = int(listings.loc[listings["model_matched"].astype(bool), "rows"].sum())
        metadata["coverage_share"] = round(matched / rows, 4)
        metadata["coverage_by_source"] = dg.MetadataValue.md(coverage_by_source(listings).to_markdown(index=False))
    if len(unmatched):
        metadata["top_unmatched"] = dg.MetadataValue.md(unmatched.head(25).to_markdown(index=False))
    return dg.MaterializeResult(metadata=metadata)


CATALOG_ASSETS = [model_catalog, new_models, unmatched_models]
