"""Dagster assets of the prices analyses start from: the trust rules over every observation in the lake
(`anomalies`: every flagged row with its reasons) and one reconciled price per provider, model, variant and day
(`provider_prices`), computed together so the rules run once, with a WARN check on how often sources disagree.

The rules compare rows across sources, providers and days, so each run reads every observation in the lake and
judges the days of its partitions with all of it: re-materializing old days after new ones landed may change
their flags (a jump that came back, a newer statement of a deprecation). See `llmprices.trust`.
"""

from dataclasses import fields
from datetime import date

import dagster as dg
import pandas as pd
from pydantic import Field

from assets.analytics.figures import provider_prices_day_figures
from assets.analytics.reads import catalog_of
from assets.keys import ALL_OBSERVATIONS, ANALYTICS_GROUP, ANOMALIES, MODEL_CATALOG, PROVIDER_PRICES
from assets.metadata import rows_md
from assets.partitions import DAILY_PARTITIONS, partition_days
from llmprices.analysis.spreads import provider_price_rows
from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import ANOMALIES as ANOMALIES_TABLE
from llmprices.lake.tables import PROVIDER_PRICES as PROVIDER_PRICES_TABLE
from llmprices.sources.base import RESALE
from llmprices.trust.config import TrustConfig
from llmprices.trust.flags import anomalies, flag_counts, flag_observations
from llmprices.trust.reconcile import disagreement_rates, reconcile

SOURCE_AGREEMENT = "source_agreement"
PER_PROVIDER_SOURCES = "litellm, genai_prices, openrouter_endpoints, huggingface"


class ProviderPricesConfig(dg.Config):
    """Thresholds of the trust rules and of the disagreement warning (`llmprices.trust.config.TrustConfig`)."""

    trust_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="Overrides of TrustConfig fields, e.g. {'outlier_factor': 10, 'carry_days': 5}; "
        "docs/trust-rules.md says what each one does.",
    )
    max_disagreement_rate: float = Field(
        0.10,
        description="The source_agreement check warns when two sources disagree on more than this share of the "
        "(day, provider, model, variant) prices they both state.",
    )

    def trust_config(self) -> TrustConfig:
        known = {field.name: field for field in fields(TrustConfig)}
        unknown = sorted(set(self.trust_thresholds) - set(known))
        if unknown:
            raise dg.Failure(f"unknown trust thresholds {unknown}; known: {sorted(known)}", allow_retries=False)
        typed = {name: type(known[name].default)(value) for name, value in self.trust_thresholds.items()}
        return TrustConfig(**typed)


@dg.multi_asset(
    name="reconciled_prices",
    specs=[
        dg.AssetSpec(
            PROVIDER_PRICES,
            deps=[*ALL_OBSERVATIONS, MODEL_CATALOG],
            description="One price per provider, canonical model, variant and day, reconciled across sources "
            "(fresher and more first-hand first; resale never), with its trust flags and provenance: which sources "
            "agree, which disagree and by how much, which one was chosen and why. What daily_spreads and "
            f"cost_trends read. Lake: `{PROVIDER_PRICES_TABLE.name}/snapshot_date=D/`.",
            group_name=ANALYTICS_GROUP,
            kinds={"pandas", "parquet"},
        ),
        dg.AssetSpec(
            ANOMALIES,
            deps=[*ALL_OBSERVATIONS, MODEL_CATALOG],
            description="Every observation a trust rule flagged (resale, stale, placeholder, unit_slip, outlier, "
            f"order_violation) with its reasons, newest first. Lake: `{ANOMALIES_TABLE.name}/snapshot_date=D/`.",
            group_name=ANALYTICS_GROUP,
            kinds={"pandas", "parquet"},
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            SOURCE_AGREEMENT,
            asset=PROVIDER_PRICES,
            description="Per pair of sources, the share of the prices both state for a provider, model and variant "
            "the same day on which they disagree (beyond 1% or $0.005 on input or output); warns above the run "
            "config's max_disagreement_rate (10%).",
        )
    ],
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    required_resource_keys={"lake"},
)
def reconciled_prices(context: dg.AssetExecutionContext, config: ProviderPricesConfig):
    """The trust rules over every observation in the lake, then one price per provider, model, variant and day
    of the run's partitions; both tables written a partition per day."""
    lake = context.resources.lake.lake()
    days = partition_days(context)
    trust = config.trust_config()
    observations = read_observations(lake)
    in_run = observations["snapshot_date"].between(days[0], days[-1])
    if not in_run.any():
        raise dg.Failure(
            f"no observations from {days[0]} to {days[-1]}: materialize the observations/<source> assets for these "
            "days first",
            allow_retries=False,
        )
    catalog, catalog_source = catalog_of(lake)
    flagged = flag_observations(observations, catalog, trust)
    run_days = pd.date_range(days[0], days[-1])
    prices = provider_price_rows(reconcile(flagged, run_days, trust))
    flagged = flagged[flagged["snapshot_date"].isin(run_days)]
    if prices.empty:
        raise dg.Failure(no_independent_prices(flagged, days[0], days[-1]), allow_retries=False)
    found = anomalies(flagged)
    _write_days(lake, days, prices, found)
    sources = sorted(prices["source"].unique())
    prices_by_day = dict(iter(prices.groupby(prices["snapshot_date"].dt.date)))
    anomalies_by_day = found.groupby(found["snapshot_date"].dt.date).size()
    unmatched_by_day = flagged.loc[~flagged["model_matched"], "snapshot_date"].dt.date.value_counts()
    for day in days:  # each day its own figures
        day_prices = prices_by_day.get(day, prices.iloc[0:0])
        figures = provider_prices_day_figures(day_prices, sources, int(unmatched_by_day.get(day, 0)))
        context.add_asset_metadata(figures, asset_key=PROVIDER_PRICES, partition_key=day.isoformat())
        context.add_asset_metadata({"dagster/row_count": int(anomalies_by_day.get(day, 0))}, asset_key=ANOMALIES,
                                   partition_key=day.isoformat())  # fmt: skip

    yield dg.MaterializeResult(asset_key=PROVIDER_PRICES, metadata=_prices_metadata(lake, days, prices, catalog_source))
    yield dg.MaterializeResult(asset_key=ANOMALIES, metadata=_anomalies_metadata(lake, flagged, found))
    rates = disagreement_rates(flagged, trust)
    too_high = rates[rates["disagreement_rate"] > config.max_disagreement_rate]
    pairs = [f"{r.source_a} x {r.source_b} on {r.disagreement_rate:.1%} of {r.keys:,}" for r in too_high.itertuples()]
    yield dg.AssetCheckResult(
        check_name=SOURCE_AGREEMENT,
        asset_key=PROVIDER_PRICES,
        passed=too_high.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description="sources disagree: " + "; ".join(pairs) if pairs else "no pair of sources disagrees too often",
        metadata={"max_disagreement_rate": config.max_disagreement_rate, "by_source_pair": rows_md(rates)},
    )


def no_independent_prices(observations: pd.DataFrame, first: date, last: date) -> str:
    """Why the days' flagged observations give no provider price, in the user's terms."""
    resale = observations["offer_kind"].eq(RESALE)
    where = f"no independent provider prices from {first} to {last}"
    if resale.all():
        by_source = ", ".join(f"{source} {n:,}" for source, n in observations["source"].value_counts().items())
        return (
            f"{where}: their {len(observations):,} observations ({by_source}) are all resale (OpenRouter's own list "
            "and copies of it are a router's price, not a provider's); land a per-provider source "
            f"({PER_PROVIDER_SOURCES}) for these days"
        )
    return (
        f"{where}: none of their {int((~resale).sum()):,} per-provider listings has a canonical model "
        "(see unmatched_models; extend llmprices/catalog/models.csv or aliases.yaml)"
    )


def _write_days(lake: Lake, days: list[date], prices: pd.DataFrame, found: pd.DataFrame) -> None:
    """A partition of each table per day, an empty one too (so a rerun clears what a day no longer has)."""
    for table, frame in ((PROVIDER_PRICES_TABLE, prices), (ANOMALIES_TABLE, found)):
        by_day = table.from_frame_by_day(frame, days)
        lake.write_partitions(table, {table.partition(snapshot_date=day): rows for day, rows in by_day.items()})


def _prices_metadata(lake: Lake, days: list[date], prices: pd.DataFrame, catalog_source: str) -> dict:
    chosen = prices["chosen_because"].str.extract(r"^([a-z_ ]+?)(?::| over| \(|$)")[0]
    return {
        "run_days": len(days),
        "run_days_without_prices": len(set(days) - set(prices["snapshot_date"].dt.date)),
        "flagged_prices": int((~prices["trusted"]).sum()),
        "prices_by_source": rows_md(prices.groupby("source").size().rename_axis("source").reset_index(name="prices")),
        "chosen_because": rows_md(chosen.value_counts().rename_axis("rule").reset_index(name="prices")),
        "catalog": catalog_source,
        "lake_path": lake.path(PROVIDER_PRICES_TABLE),
    }


def _anomalies_metadata(lake: Lake, flagged: pd.DataFrame, found: pd.DataFrame) -> dict:
    newest = found[found["trust_flags"].ne("resale")].head(15)
    columns = ["snapshot_date", "source", "provider", "provider_model_id", "input_usd_per_mtok", "output_usd_per_mtok",
               "trust_flags", "trust_reason"]  # fmt: skip
    return {
        "run_anomalies": len(found),
        "observations_judged": len(flagged),
        "flags_per_rule_and_source": rows_md(flag_counts(flagged)),
        "newest_besides_resale": rows_md(newest.assign(snapshot_date=newest["snapshot_date"].dt.date)[columns]),
        "lake_path": lake.path(ANOMALIES_TABLE),
    }
