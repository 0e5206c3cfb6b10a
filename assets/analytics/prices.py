"""Dagster assets of the prices analyses start from: the trust rules over the run's observations, judged with the
facts of every listing's history (`anomalies`: every flagged row with its reasons), and one reconciled price per
provider, model, variant and day (`provider_prices`), computed together so the rules run once, with a WARN check
on how often sources disagree.

The rules compare rows across sources, providers and days: each run judges its days a month at a time, with the
facts of every listing's whole history gathered from the lake (`llmprices.trust.history`), so re-materializing
old days after new ones landed may change their flags (a jump that came back, a newer statement of a
deprecation), while memory stays bounded by a month of observations. See `llmprices.trust`.
"""

from collections import Counter
from dataclasses import dataclass, field, fields
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
from llmprices.lake.store import Lake
from llmprices.lake.tables import ANOMALIES as ANOMALIES_TABLE
from llmprices.lake.tables import OBSERVATIONS as OBSERVATIONS_TABLE
from llmprices.lake.tables import PROVIDER_PRICES as PROVIDER_PRICES_TABLE
from llmprices.sources.base import RESALE
from llmprices.trust.config import TrustConfig
from llmprices.trust.flags import FLAGS, anomalies, flag_counts
from llmprices.trust.months import JudgedMonth, judged_months
from llmprices.trust.reconcile import disagreement_rates, stated_pairs

SOURCE_AGREEMENT = "source_agreement"
#: How many of the newest anomalies (besides resale) the run's metadata shows.
NEWEST_ANOMALIES = 15
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
    """The trust rules and one price per provider, model, variant and day over the run's days, a month at a time
    (`llmprices.trust.months`); both tables written a partition per day as each month is done."""
    lake = context.resources.lake.lake()
    days = partition_days(context)
    trust = config.trust_config()
    if not any(days[0] <= date.fromisoformat(day) <= days[-1] for day in lake.partition_values(OBSERVATIONS_TABLE)):
        raise dg.Failure(
            f"no observations from {days[0]} to {days[-1]}: materialize the observations/<source> assets for these "
            "days first",
            allow_retries=False,
        )
    catalog, catalog_source = catalog_of(lake)
    tally = _RunTally()
    for month in judged_months(lake, days, catalog, trust):
        prices = provider_price_rows(month.reconciled)
        found = anomalies(month.flagged)
        _write_days(lake, month.days, prices, found)
        tally.add(month.flagged, prices, found, stated_pairs(month.flagged, trust))
        _add_day_metadata(context, month, prices, found)
    if not tally.prices:
        raise dg.Failure(no_independent_prices(tally, days[0], days[-1]), allow_retries=False)

    yield dg.MaterializeResult(asset_key=PROVIDER_PRICES, metadata=tally.prices_metadata(lake, days, catalog_source))
    yield dg.MaterializeResult(asset_key=ANOMALIES, metadata=tally.anomalies_metadata(lake))
    rates = disagreement_rates(pd.concat(tally.pairs, ignore_index=True))
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


def _add_day_metadata(context: dg.AssetExecutionContext, month: JudgedMonth, prices: pd.DataFrame,
                      found: pd.DataFrame) -> None:  # fmt: skip
    """Each day its own figures, on its partition's materialization of both tables."""
    sources = sorted(prices["source"].unique())
    prices_by_day = dict(iter(prices.groupby(prices["snapshot_date"].dt.date)))
    anomalies_by_day = found.groupby(found["snapshot_date"].dt.date).size()
    flagged = month.flagged
    unmatched_by_day = flagged.loc[~flagged["model_matched"], "snapshot_date"].dt.date.value_counts()
    for day in month.days:
        day_prices = prices_by_day.get(day, prices.iloc[0:0])
        figures = provider_prices_day_figures(day_prices, sources, int(unmatched_by_day.get(day, 0)))
        context.add_asset_metadata(figures, asset_key=PROVIDER_PRICES, partition_key=day.isoformat())
        context.add_asset_metadata({"dagster/row_count": int(anomalies_by_day.get(day, 0))}, asset_key=ANOMALIES,
                                   partition_key=day.isoformat())  # fmt: skip


@dataclass
class _RunTally:
    """What the run's metadata says, summed month by month (so no month is kept once written)."""

    prices: int = 0
    flagged_prices: int = 0
    days_with_prices: set = field(default_factory=set)
    prices_by_source: Counter = field(default_factory=Counter)
    chosen_because: Counter = field(default_factory=Counter)
    observations_judged: int = 0
    observations_by_source: Counter = field(default_factory=Counter)
    resale_observations: int = 0
    run_anomalies: int = 0
    flags: pd.DataFrame = field(default_factory=pd.DataFrame)
    newest: pd.DataFrame = field(default_factory=pd.DataFrame)
    pairs: list = field(default_factory=list)

    def add(self, flagged: pd.DataFrame, prices: pd.DataFrame, found: pd.DataFrame, pairs: pd.DataFrame) -> None:
        self.prices += len(prices)
        self.flagged_prices += int((~prices["trusted"]).sum())
        self.days_with_prices |= set(prices["snapshot_date"].dt.date)
        self.prices_by_source.update(prices["source"].value_counts().to_dict())
        chosen = prices["chosen_because"].str.extract(r"^([a-z_ ]+?)(?::| over| \(|$)")[0]
        self.chosen_because.update(chosen.value_counts().to_dict())
        self.observations_judged += len(flagged)
        self.observations_by_source.update(flagged["source"].value_counts().to_dict())
        self.resale_observations += int(flagged["offer_kind"].eq(RESALE).sum())
        self.run_anomalies += len(found)
        counts = flag_counts(flagged).set_index("rule")
        self.flags = counts if self.flags.empty else self.flags.add(counts, fill_value=0).astype(int)
        besides_resale = found[found["trust_flags"].ne("resale")].head(NEWEST_ANOMALIES)
        # months come in order, each newest first: this month's come before the earlier ones'
        self.newest = pd.concat([besides_resale, self.newest]).head(NEWEST_ANOMALIES)
        self.pairs.append(pairs)

    def prices_metadata(self, lake: Lake, days: list[date], catalog_source: str) -> dict:
        return {
            "run_days": len(days),
            "run_days_without_prices": len(set(days) - self.days_with_prices),
            "flagged_prices": self.flagged_prices,
            "prices_by_source": rows_md(_counted(self.prices_by_source, "source", "prices")),
            "chosen_because": rows_md(_counted(self.chosen_because, "rule", "prices")),
            "catalog": catalog_source,
            "lake_path": lake.path(PROVIDER_PRICES_TABLE),
        }

    def anomalies_metadata(self, lake: Lake) -> dict:
        columns = ["snapshot_date", "source", "provider", "provider_model_id", "input_usd_per_mtok",
                   "output_usd_per_mtok", "trust_flags", "trust_reason"]  # fmt: skip
        newest = self.newest
        sources = sorted(set(self.flags.columns) - {"total"})
        flags = self.flags.reindex(index=list(FLAGS), columns=[*sources, "total"]).reset_index()
        return {
            "run_anomalies": self.run_anomalies,
            "observations_judged": self.observations_judged,
            "flags_per_rule_and_source": rows_md(flags),
            "newest_besides_resale": rows_md(newest.assign(snapshot_date=newest["snapshot_date"].dt.date)[columns]),
            "lake_path": lake.path(ANOMALIES_TABLE),
        }


def _counted(counts: Counter, what: str, how_many: str) -> pd.DataFrame:
    return pd.DataFrame(sorted(counts.items(), key=lambda item: (-item[1], item[0])), columns=[what, how_many])


def no_independent_prices(tally: _RunTally, first: date, last: date) -> str:
    """Why the run's flagged observations give no provider price, in the user's terms."""
    where = f"no independent provider prices from {first} to {last}"
    if tally.resale_observations == tally.observations_judged:
        by_source = ", ".join(f"{source} {n:,}" for source, n in tally.observations_by_source.most_common())
        return (
            f"{where}: their {tally.observations_judged:,} observations ({by_source}) are all resale (OpenRouter's "
            "own list and copies of it are a router's price, not a provider's); land a per-provider source "
            f"({PER_PROVIDER_SOURCES}) for these days"
        )
    return (
        f"{where}: none of their {tally.observations_judged - tally.resale_observations:,} per-provider listings "
        "has a canonical model (see unmatched_models; extend llmprices/catalog/models.csv or aliases.yaml)"
    )


def _write_days(lake: Lake, days: list[date], prices: pd.DataFrame, found: pd.DataFrame) -> None:
    """A partition of each table per day, an empty one too (so a rerun clears what a day no longer has)."""
    for table, frame in ((PROVIDER_PRICES_TABLE, prices), (ANOMALIES_TABLE, found)):
        by_day = table.from_frame_by_day(frame, days)
        lake.write_partitions(table, {table.partition(snapshot_date=day): rows for day, rows in by_day.items()})
