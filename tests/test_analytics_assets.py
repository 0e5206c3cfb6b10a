"""The analytics assets as real Dagster runs: CSV captures -> observations -> daily_spreads -> cost_trends,
read back from the lake with DuckDB; the seed's figures reproduced through them; the schedules."""

from __future__ import annotations

import base64
import io
import math
import re
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from PIL import Image

from assets.analytics.assets import ANALYTICS_ASSETS, cost_trends, daily_spreads, provider_prices
from assets.catalog.assets import model_catalog
from assets.keys import COST_TRENDS, DAILY_SPREADS, PROVIDER_PRICES
from assets.sources import SOURCE_ASSETS
from llmprices.sources import ALL_SOURCES
from pipeline.jobs import daily_analytics, daily_ingest, monthly_trends
from pipeline.resources import HttpResource, HubResource, LakeResource
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest
from pipeline.schedules import daily_analytics_schedule, daily_ingest_schedule, monthly_trends_schedule

DEMO = Path(__file__).resolve().parent.parent / "pipeline" / "demo_data"
PNG_DATA_URI = "](data:image/png;base64,iVBORw0KGgo"  # a markdown image whose bytes start with the PNG signature
L8, L70, L405 = "Meta-Llama-3.1-8B-Instruct", "Meta-Llama-3.1-70B-Instruct", "Meta-Llama-3.1-405B-Instruct"

# The seed's market (USD per million tokens; blended = (3 x input + output) / 4): the cheapest full-precision,
# paid price of the 8B, 70B and 405B Llama 3.1 is 0.03, 0.20 and 0.90, each with >= 3 providers priced above;
# the 70B spans 0.20 .. ~0.70 (median) .. 2.90 and the 405B 0.90 .. 3.50 .. 9.50, as the seed's charts show.
# What the seed leaves out is there too, cheaper: FP8 builds, a free tier, a Qwen 72B with two providers.
SEED_ROWS = [
    ("DeepInfra", f"meta-llama/{L8}", 0.02, 0.06, ""),
    ("Groq", f"meta-llama/{L8}", 0.05, 0.08, ""),
    ("Together", f"meta-llama/{L8}", 0.18, 0.18, ""),
    ("Fireworks", f"meta-llama/{L8}", 0.20, 0.20, ""),
    ("Lambda", f"meta-llama/{L8}", 0.01, 0.01, "fp8"),
    ("Hyperbolic", f"meta-llama/{L8}", 0, 0, ""),
    ("Lambda", f"meta-llama/{L70}", 0.20, 0.20, "bf16"),
    ("DeepInfra", f"meta-llama/{L70}", 0.23, 0.40, ""),
    ("Hyperbolic", f"meta-llama/{L70}", 0.40, 0.40, ""),
    ("Together", f"meta-llama/{L70}", 0.70, 0.70, ""),
    ("Groq", f"meta-llama/{L70}", 0.79, 0.79, ""),
    ("Fireworks", f"meta-llama/{L70}", 0.90, 0.90, ""),
    ("Azure", f"meta-llama/{L70}", 2.60, 3.80, ""),
    ("DeepInfra", f"meta-llama/{L405}", 0.90, 0.90, ""),
    ("AWS Bedrock", f"meta-llama/{L405}", 2.40, 2.40, ""),
    ("Fireworks", f"meta-llama/{L405}", 3.00, 3.00, ""),
    ("Together", f"meta-llama/{L405}", 3.50, 3.50, ""),
    ("Hyperbolic", f"meta-llama/{L405}", 4.00, 4.00, ""),
    ("SambaNova", f"meta-llama/{L405}", 5.00, 10.00, ""),
    ("Azure", f"meta-llama/{L405}", 8.00, 14.00, ""),
    ("Lambda", f"meta-llama/{L405}", 0.80, 0.80, "fp8"),
    ("DeepInfra", "Qwen/Qwen2.5-72B-Instruct", 0.10, 0.10, ""),
    ("Together", "Qwen/Qwen2.5-72B-Instruct", 1.20, 1.20, ""),
    ("DeepInfra", "meta-llama/Llama-3.3-70B-Instruct", 0.23, 0.40, ""),
    ("Together", "meta-llama/Llama-3.3-70B-Instruct", 0.88, 0.88, ""),
    # MoE: Mixtral 8x22B, five providers from 0.60 to 3.00; DeepSeek-V3, its FP8 offer at 0.25 left out
    ("DeepInfra", "mistralai/Mixtral-8x22B-Instruct-v0.1", 0.60, 0.60, ""),
    ("Fireworks", "mistralai/Mixtral-8x22B-Instruct-v0.1", 1.20, 1.20, ""),
    ("Together", "mistralai/Mixtral-8x22B-Instruct-v0.1", 1.20, 1.20, ""),
    ("Nebius", "mistralai/Mixtral-8x22B-Instruct-v0.1", 0.90, 0.90, ""),
    ("Mistral", "mistralai/Mixtral-8x22B-Instruct-v0.1", 2.00, 6.00, ""),
    ("DeepSeek", "deepseek-ai/DeepSeek-V3", 0.27, 1.10, ""),
    ("Together", "deepseek-ai/DeepSeek-V3", 1.25, 1.25, ""),
    ("Fireworks", "deepseek-ai/DeepSeek-V3", 0.90, 0.90, ""),
    ("Novita", "deepseek-ai/DeepSeek-V3", 0.25, 0.25, "fp8"),
    # proprietary, at the seed's prices: 6.00, 0.50, 4.38, 0.75 and GPT-4's 37.50
    ("Anthropic", "anthropic/claude-3.5-sonnet", 3.00, 15.00, ""),
    ("Anthropic", "anthropic/claude-3-haiku", 0.25, 1.25, ""),
    ("OpenAI", "openai/gpt-4o-2024-08-06", 2.50, 10.00, ""),
    ("Google", "google/gemini-1.0-pro", 0.50, 1.50, ""),
    ("OpenAI", "openai/gpt-4", 30.00, 60.00, ""),
]
SEED_DAYS = [date(2025, 1, 13), date(2025, 1, 14), date(2025, 1, 15)]


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def write_captures(folder: Path, rows_by_day: dict[date, list[tuple]]) -> Path:
    """`<folder>/<day>.csv` in the csv source's format, as `llmprices import-csv` would split a file."""
    folder.mkdir(parents=True, exist_ok=True)
    for day, rows in rows_by_day.items():
        lines = [f"{day},{provider},{model},{inp},{out},{quant}" for provider, model, inp, out, quant in rows]
        header = "snapshot_date,provider,model,input_usd_per_mtok,output_usd_per_mtok,quantization\n"
        (folder / f"{day}.csv").write_text(header + "\n".join(lines) + "\n")
    return folder


def ingest(lake: Path, first: date, last: date, instance, **archive_dirs: Path) -> None:
    request = IngestRequest(
        list(archive_dirs), first, last, lake_uri=str(lake), archive_dirs={k: str(v) for k, v in archive_dirs.items()}
    )
    assert run_ingest(request, InProcessRuns(instance)).success


def materialize(assets, lake: Path, instance, first: str, last: str | None = None, config: dict | None = None):
    """One run of `assets` over one partition, or over first..last as a single ranged run (a backfill); `config`
    is the first asset's."""
    partition = (
        {"partition_key": first}
        if last is None
        else {"tags": {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}}
    )
    return dg.materialize(
        assets,
        resources={"lake": LakeResource(root_uri=str(lake))},
        instance=instance,
        run_config={"ops": {assets[0].op.name: {"config": config}}} if config else None,
        raise_on_error=False,
        **partition,
    )


#: What the `daily_analytics` job runs: one price per provider, then the spreads.
SPREADS = [provider_prices, daily_spreads]
TRENDS = [cost_trends]


def metadata_of(result, key: dg.AssetKey = None, partition: str | None = None) -> dict:
    """The metadata of a run's materialization of `key` (by default of its last asset) for `partition` (by
    default its last): a ranged run records each of its partitions with its own figures."""
    events = [e for e in result.get_asset_materialization_events() if key is None or e.asset_key == key]
    events = sorted(events, key=lambda e: e.partition)
    [event] = [e for e in events if e.partition == partition] if partition else events[-1:]
    return {name: value.value for name, value in event.materialization.metadata.items()}


def png_size(markdown: str) -> tuple[int, int]:
    """Width and height of the PNG a markdown data-URI image holds."""
    data = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)\)", markdown).group(1))
    return Image.open(io.BytesIO(data)).size


def query(sql: str, **tables: str):
    """DuckDB over lake tables: `{name}` in `sql` becomes a hive-partitioned scan of `tables[name]`."""
    scans = {name: f"read_parquet('{glob}', hive_partitioning = true)" for name, glob in tables.items()}
    return duckdb.sql(sql.format(**scans)).df()


def trend_table(lake: Path, name: str) -> str:
    return f"{lake}/trends/{name}/*/*.parquet"


def test_the_seed_figures_come_out_of_the_lake_through_the_assets_users_run(tmp_path, instance):
    lake = tmp_path / "lake"
    captures = write_captures(tmp_path / "csv", dict.fromkeys(SEED_DAYS, SEED_ROWS))
    ingest(lake, SEED_DAYS[0], SEED_DAYS[-1], instance, csv=captures)
    catalog_run = dg.materialize(
        [model_catalog],
        resources={"lake": LakeResource(root_uri=str(lake)), "http": HttpResource(), "hf_hub": HubResource()},
        run_config={"ops": {"model_catalog": {"config": {"enrich_from_hub": False}}}},
        instance=instance,
    )
    assert catalog_run.success
    spreads_run = materialize(SPREADS, lake, instance, "2025-01-13", "2025-01-15")
    assert spreads_run.success
    trends_run = materialize(TRENDS, lake, instance, "2025-01-01")
    assert trends_run.success

    # the seed's first charts: the same model, a 10x range of prices
    spreads = query(
        "select * from {spreads} where snapshot_date = '2025-01-15'", spreads=f"{lake}/spreads/*/*.parquet"
    ).set_index("model")
    llama70 = spreads.loc["meta-llama/llama-3.1-70b-instruct"]
    assert llama70["n_providers"] == 7
    assert (llama70["min"], llama70["median"], llama70["max"]) == pytest.approx((0.20, 0.70, 2.90))
    assert llama70["max_over_min"] == pytest.approx(14.5)
    assert (llama70["cheapest_provider"], llama70["priciest_provider"]) == ("lambda", "azure")
    assert (llama70["input_min"], llama70["output_max"]) == (0.20, 3.80)
    llama405 = spreads.loc["meta-llama/llama-3.1-405b-instruct"]
    assert llama405["n_providers"] == 7
    assert (llama405["min"], llama405["median"], llama405["max"]) == pytest.approx((0.90, 3.50, 9.50))
    llama8 = spreads.loc["meta-llama/llama-3.1-8b-instruct"]  # FP8 at 0.01 and the free tier left out
    assert (llama8["n_providers"], llama8["min"], llama8["cheapest_provider"]) == (4, pytest.approx(0.03), "deepinfra")
    assert spreads.loc["mistralai/mixtral-8x22b-instruct", ["n_providers", "min", "max"]].tolist() == pytest.approx(
        [5, 0.60, 3.00]
    )

    # the minimum-price trend: fixed cost ~0.03, variable cost ~0.0216 per 10B, ~22 USD for a 10T model
    [fit] = query("select * from {fit} where month = '2025-01'", fit=trend_table(lake, "min_price_fit")).to_dict(
        "records"
    )
    assert fit["sufficient"] and fit["n_models"] == 3 and fit["min_providers"] == 3
    assert set(fit["models"].split(",")) == {
        "meta-llama/llama-3.1-8b-instruct",
        "meta-llama/llama-3.1-70b-instruct",
        "meta-llama/llama-3.1-405b-instruct",
    }  # Qwen 72B at 0.10 from two providers is not a competitive price
    assert round(fit["intercept"], 2) == 0.03
    # the catalog's exact counts (8.03B, 70.6B, 405.9B) give 0.02154; nominal 8/70/405 give the seed's 0.02157
    assert fit["variable_cost_per_10b"] == pytest.approx(0.0216, abs=1e-4)
    assert round(fit["price_10t"]) == 22
    assert fit["mean_providers"] == pytest.approx(6.0)
    assert fit["slope_ci_low"] <= fit["slope"] <= fit["slope_ci_high"]
    assert fit["r2"] > 0.99 and fit["quad_r2"] == pytest.approx(1.0)

    # proprietary models: the largest dense model the market serves at their price, and GPT-4's mark-up
    implied = query("select * from {p}", p=trend_table(lake, "proprietary_implied")).set_index("model")
    size = implied["implied_max_params_b"]
    assert round(size["anthropic/claude-3.5-sonnet"] / 1000, 1) == 2.8
    assert size["anthropic/claude-3-haiku"] == pytest.approx(217, rel=0.01)  # 218.8 here (see test_analytics_trends)
    assert round(size["openai/gpt-4o"] / 1000) == 2
    assert size["google/gemini-1.0-pro"] == pytest.approx(332, rel=0.01)
    assert implied.loc["openai/gpt-4", "assumed_params_b"] == 950
    assert round(implied.loc["openai/gpt-4", "markup"]) == 18
    assert math.isnan(implied.loc["anthropic/claude-3-haiku", "markup"])

    # MoE: DeepSeek-V3 (its FP8 0.25 left out) between active and total, Mixtral 8x22B above its total size
    moe = query("select * from {m}", m=trend_table(lake, "moe_placement")).set_index("model")
    assert moe.loc["deepseek/deepseek-v3", "price"] == pytest.approx(0.4775)
    assert 0 < moe.loc["deepseek/deepseek-v3", "position"] < 1
    assert moe.loc["mistralai/mixtral-8x22b-instruct", "position"] > 1

    # a provider's own line needs five dense models: DeepInfra and Together price five, the others fewer
    providers = query("select * from {p} order by provider", p=trend_table(lake, "provider_fits"))
    assert providers["provider"].tolist() == ["deepinfra", "together"]
    assert providers["n_models"].tolist() == [5, 5]
    ratios = query("select * from {r}", r=trend_table(lake, "io_ratio")).set_index("provider")
    assert ratios.loc["anthropic", "median"] == 5.0 and ratios.loc["openai", "median"] == 3.0
    assert ratios.loc["fireworks", "share_equal"] == 1.0

    # what the UI shows: the same numbers, each day its own, as numbers (plotted), a markdown headline, a chart
    spreads_meta = metadata_of(spreads_run, DAILY_SPREADS, "2025-01-15")
    assert spreads_meta["run_days"] == 3 and spreads_meta["dagster/row_count"] == len(spreads)
    [row] = [line for line in spreads_meta["spreads"].splitlines() if "llama-3.1-70b" in line]
    assert [cell.strip() for cell in row.strip("|").split("|")] == [
        "meta-llama/llama-3.1-70b-instruct", "7", "0.2 (lambda)", "0.7", "2.9 (azure)", "14.5"
    ]  # fmt: skip
    assert (spreads_meta["min_price/llama-3.1-70b-instruct"], spreads_meta["max_over_min/llama-3.1-70b-instruct"]) == (
        pytest.approx(0.20),
        14.5,
    )
    assert spreads_meta["min_price/llama-3.1-405b-instruct"] == pytest.approx(0.90)
    assert spreads_meta["max_over_min/mixtral-8x22b-instruct"] == 5.0
    assert png_size(spreads_meta["provider_prices_chart"]) == (1000, 600)  # the latest day's, big enough to read
    assert "provider_prices_chart" not in metadata_of(spreads_run, DAILY_SPREADS, "2025-01-14")
    prices_meta = metadata_of(spreads_run, PROVIDER_PRICES, "2025-01-14")
    assert prices_meta["prices_from/csv"] == prices_meta["dagster/row_count"] > 0
    meta = metadata_of(trends_run, COST_TRENDS["min_price_fit"])
    assert meta["month"] == "2025-01" and meta["days_with_prices"] == 3 and meta["models_fitted"] == 3
    assert meta["fixed_cost_usd_per_mtok"] == pytest.approx(fit["intercept"], abs=1e-5)
    assert meta["variable_cost_usd_per_mtok_per_10b"] == pytest.approx(0.0216, abs=1e-4)
    assert round(meta["price_10t_usd_per_mtok"]) == 22
    assert re.search(r"\| predicted price of a 10T dense model +\| 21\.5", meta["minimum_price_trend"])
    assert "- **openai/gpt-4**: price 37.5; implied_max_params_b " in meta["proprietary_implied"]
    assert meta["catalog"] == "lake table catalog/ (model_catalog)"
    for chart in ("size_vs_price_chart", "moe_chart", "trend_history_chart"):
        assert PNG_DATA_URI in meta[chart] and png_size(meta[chart]) == (1000, 600)
        assert len(meta[chart]) < 40_000  # palette PNGs: the event log keeps one per month


def test_a_ranged_run_writes_every_day_and_the_seed_exclusions_are_config(tmp_path, instance):
    lake = tmp_path / "lake"
    llama8 = f"meta-llama/{L8}"
    rows = {
        day: [
            ("DeepInfra", llama8, 0.03 + 0.01 * i, 0.03 + 0.01 * i, ""),
            ("Together", llama8, 0.18, 0.18, ""),
            ("Lambda", llama8, 0.01, 0.01, "fp8"),
            ("Hyperbolic", llama8, 0, 0, ""),
        ]
        for i, day in enumerate(SEED_DAYS)
    }
    ingest(lake, SEED_DAYS[0], SEED_DAYS[-1], instance, csv=write_captures(tmp_path / "csv", rows),
           openrouter=DEMO / "openrouter")  # fmt: skip

    assert materialize(SPREADS, lake, instance, "2025-01-13", "2025-01-15").success
    for day in ("2025-01-13", "2025-01-14", "2025-01-15"):
        assert [p.name for p in (lake / "spreads" / f"snapshot_date={day}").iterdir()] == ["part-0.parquet"]
    scan = {"s": f"{lake}/spreads/*/*.parquet", "p": f"{lake}/provider_prices/*/*.parquet"}
    by_day = query("select snapshot_date, n_providers, min, providers from {s} order by 1", **scan)
    assert len(by_day) == 3  # only the CSV's model: OpenRouter's own listings are all resale
    assert by_day["min"].tolist() == pytest.approx([0.03, 0.04, 0.05])  # each day its own prices
    assert by_day["providers"].tolist() == ["deepinfra,together"] * 3  # no FP8, no free tier, no OpenRouter resale
    assert query("select count(*) as n from {p} where provider = 'openrouter'", **scan)["n"][0] == 0

    assert materialize(SPREADS, lake, instance, "2025-01-15", config={"include_quantized": True}).success
    everything = {"include_quantized": True, "include_free": True, "include_openrouter_resale": True}
    assert materialize(SPREADS, lake, instance, "2025-01-14", config=everything).success
    by_day = query(
        "select snapshot_date, n_providers, min, cheapest_provider, providers from {s} "
        "where model = 'meta-llama/llama-3.1-8b-instruct' order by 1",
        **scan,
    )
    assert by_day["providers"].tolist() == [
        "deepinfra,together",
        "deepinfra,hyperbolic,lambda,openrouter,together",
        "deepinfra,lambda,together",
    ]
    assert by_day["min"].tolist() == pytest.approx([0.03, 0.0, 0.01])
    assert by_day["cheapest_provider"].tolist() == ["deepinfra", "hyperbolic", "lambda"]  # ties: alphabetical
    flags = query(
        "select provider, source, is_quantized, is_free from {p} where snapshot_date = '2025-01-14' "
        "and model = 'meta-llama/llama-3.1-8b-instruct' order by 1",
        **scan,
    )
    assert flags.values.tolist() == [
        ["deepinfra", "csv", False, False],
        ["hyperbolic", "csv", False, True],
        ["lambda", "csv", True, False],
        ["openrouter", "openrouter", False, True],  # its cheapest listing of the model: the :free tier
        ["together", "csv", False, False],
    ]


def test_cost_trends_keeps_each_months_history_and_the_yearly_decline(tmp_path, instance):
    """Prices that fall 10x a year, one day a month for three months, refitted in one ranged run."""
    lake = tmp_path / "lake"
    start = date(2025, 1, 1)
    base = {L8: 0.03, L70: 0.20, L405: 0.90}

    def rows(day: date) -> list[tuple]:
        decay = 10 ** (-(day.replace(day=1) - start).days / 365.25)
        return [
            (provider, f"meta-llama/{model}", round(price * decay * markup, 6), round(price * decay * markup, 6), "")
            for model, price in base.items()
            for provider, markup in (("DeepInfra", 1.0), ("Together", 2.0), ("Fireworks", 3.0))
        ]

    days = [date(2025, 1, 31), date(2025, 2, 1), date(2025, 3, 1)]
    captures = write_captures(tmp_path / "csv", {day: rows(day) for day in days})
    ingest(lake, days[0], days[1], instance, csv=captures)
    ingest(lake, days[2], days[2], instance, csv=captures)
    spreads = materialize(SPREADS, lake, instance, "2025-01-31", "2025-03-01")
    assert spreads.success and metadata_of(spreads)["run_days_without_prices"] == 27
    row_counts = {e.partition: e.materialization.metadata["dagster/row_count"].value
                  for e in spreads.get_asset_materialization_events() if e.asset_key == DAILY_SPREADS}  # fmt: skip
    assert len(row_counts) == 30 and row_counts["2025-02-15"] == 0 and row_counts["2025-03-01"] == 3
    empty_day = query("select count(*) as n from {s}", s=f"{lake}/spreads/snapshot_date=2025-02-15/*.parquet")
    assert empty_day["n"][0] == 0  # a day without prices is written empty, so a rerun clears stale rows

    trends = materialize(TRENDS, lake, instance, "2025-01-01", "2025-03-01", config={"min_months": 3})
    assert trends.success
    meta = metadata_of(trends, COST_TRENDS["min_price_fit"])
    assert meta["month"] == "2025-03" and meta["run_months"] == 3
    assert meta["catalog"].startswith("curated llmprices/catalog/models.csv")  # model_catalog never materialized
    by_month = {
        month: metadata_of(trends, COST_TRENDS["min_price_fit"], f"{month}-01") for month in ("2025-01", "2025-03")
    }
    assert by_month["2025-01"]["month"] == "2025-01"  # each month its own fit, not the range's last
    assert by_month["2025-03"]["variable_cost_usd_per_mtok_per_10b"] / by_month["2025-01"][
        "variable_cost_usd_per_mtok_per_10b"
    ] == pytest.approx(10 ** (-59 / 365.25), rel=1e-3)
    prices = metadata_of(trends, COST_TRENDS["model_prices"], "2025-03-01")
    assert prices["min_price/llama-3.1-70b-instruct"] == pytest.approx(0.20 * 10 ** (-59 / 365.25), abs=1e-4)

    history = query(
        "select month, trend_month, variable_cost_per_10b from {h} order by 1, 2", h=trend_table(lake, "fit_history")
    )
    assert history[["month", "trend_month"]].astype(str).values.tolist() == [
        ["2025-01", "2025-01-01"],
        ["2025-02", "2025-01-01"],
        ["2025-02", "2025-02-01"],
        ["2025-03", "2025-01-01"],
        ["2025-03", "2025-02-01"],
        ["2025-03", "2025-03-01"],
    ]  # each month's partition keeps the history as it stood then
    latest = history[history["month"] == "2025-03"]["variable_cost_per_10b"].tolist()
    assert latest[1] / latest[0] == pytest.approx(10 ** (-31 / 365.25), rel=1e-4)
    assert latest[2] / latest[0] == pytest.approx(10 ** (-59 / 365.25), rel=1e-4)
    fits = query("select month, variable_cost_per_10b from {f} order by 1", f=trend_table(lake, "min_price_fit"))
    assert fits["variable_cost_per_10b"].tolist() == pytest.approx(latest)

    decline = query("select * from {d} where month = '2025-03'", d=trend_table(lake, "annual_decline"))
    assert sorted(decline["model"]) == [f"meta-llama/{m.lower().removeprefix('meta-')}" for m in (L405, L70, L8)]
    assert decline["n_months"].tolist() == [3, 3, 3]
    assert decline["factor"].tolist() == pytest.approx([10, 10, 10], rel=1e-3)
    assert (decline["factor_low"] <= decline["factor"] + 1e-9).all()
    assert (
        query("select count(*) as n from {d} where month < '2025-03'", d=trend_table(lake, "annual_decline"))["n"][0]
        == 0
    )  # fewer than three months of prices then


def test_cost_trends_of_a_month_without_spreads_fails_and_says_what_to_run(tmp_path, instance):
    result = materialize(TRENDS, tmp_path / "lake", instance, "2024-12-01")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "no provider prices for 2024-12: materialize provider_prices" in failure.step_failure_data.error.message


def definitions() -> dg.Definitions:
    """The code location with the analytics wired in as `pipeline/definitions.py` does, its resources included."""
    from pipeline.definitions import defs

    return dg.Definitions(
        assets=[*SOURCE_ASSETS, model_catalog, *ANALYTICS_ASSETS],
        jobs=[daily_ingest, daily_analytics, monthly_trends],
        schedules=[daily_ingest_schedule, daily_analytics_schedule, monthly_trends_schedule],
        resources=defs.resources,
    )


def test_the_daily_schedule_computes_todays_spreads_after_the_ingest():
    repository = definitions().get_repository_def()
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 27, 7, 0, tzinfo=UTC), repository_def=repository
    )
    [request] = daily_analytics_schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-27"
    assert daily_analytics_schedule.cron_schedule == "0 7 * * *"
    assert daily_analytics_schedule.execution_timezone == "UTC"
    graph = repository.asset_graph
    assert {key.to_user_string() for key in graph.get(daily_spreads.key).parent_keys} == {"provider_prices"}
    upstream = {key.to_user_string() for key in graph.get(provider_prices.key).parent_keys}
    assert upstream == {f"observations/{spec.name}" for spec in ALL_SOURCES}


def test_the_monthly_schedule_refits_the_previous_month_on_the_first():
    repository = definitions().get_repository_def()
    schedule = repository.get_schedule_def("monthly_trends_schedule")
    assert schedule.cron_schedule == "0 8 1 * *"
    tick = datetime(2025, 2, 1, 8, 0, tzinfo=UTC)
    [request] = schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=tick, repository_def=repository)
    ).run_requests
    assert request.partition_key == "2025-01-01"
    graph = repository.asset_graph
    assert {key.to_user_string() for key in graph.get(COST_TRENDS["min_price_fit"]).parent_keys} == {
        "provider_prices",
        "model_catalog",
    }
    # a month's model prices follow the months before them, which the trend's history is fitted on
    assert {key.to_user_string() for key in graph.get(COST_TRENDS["model_prices"]).parent_keys} == {
        "provider_prices",
        "model_catalog",
        "trends/model_prices",
    }
    assert set(cost_trends.keys) == set(COST_TRENDS.values())
