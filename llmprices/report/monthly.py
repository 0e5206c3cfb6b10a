"""The month's report, in the spirit of the seed's post: how far providers' prices for the same open model spread,
what serving a dense model of a given size costs (the minimum-price trend, and how it moved), where MoE models
sit, what proprietary prices imply, the month's notable price changes, and how clean the data was.

It reads what the pipeline computed (`provider_prices`, `spreads`, `trends_*`, `changes`, `observations`,
`quarantine`; `anomalies` when that table exists) through the read-only query layer and renders one HTML
string (`llmprices.report.html`); nothing is refitted here.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from llmprices.analysis import charts
from llmprices.analysis.trends import TrendFit, dense_points
from llmprices.catalog.catalog import load_curated
from llmprices.lake.query import LakeConnection
from llmprices.report.html import Section, figure, page, paragraph, percent, table, times, usd

#: Models shown in the spreads table: the most served open-weight models of the month's last day.
SPREAD_MODELS = 12
#: Price changes listed: the largest moves of the month.
NOTABLE_CHANGES = 15
#: Where issue 11's anomaly flags land, once computed; the report says "not computed" while it does not exist.
ANOMALIES_VIEW = "anomalies"


class NoPricesThatMonth(LookupError):
    """The lake has no provider prices in the month asked for."""


def monthly_report(con: LakeConnection, month: str) -> str:
    """The report of `month` (YYYY-MM) as one self-contained HTML page."""
    days = _month_days(con, month)
    catalog = _catalog(con)
    last = days["last"]
    prices = con.sql("from provider_prices where snapshot_date = $day", {"day": last}).df()
    prices["snapshot_date"] = last  # a date, as the charts title it (the frame holds timestamps)
    fit = _fit(con, month)
    points = dense_points(con.sql("from trends_model_prices where month = $m", {"m": month}).df(), catalog)
    sections = [
        _spreads(con, prices, catalog, days),
        _trend(con, month, fit, points),
        _moe(con, month, fit, points),
        _proprietary(con, month, fit),
        _changes(con, month),
        _quality(con, month),
    ]
    lead = _lead(con, month, days, fit)
    footer = (f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by the LLM price observatory from its lake tables "
              "provider_prices, spreads, trends_*, changes, observations and quarantine. Prices are USD per million "
              "tokens, blended 3:1 input:output as in the seed analysis.")  # fmt: skip
    return page(f"LLM inference prices, {month}", lead, sections, footer)


def _month_days(con: LakeConnection, month: str) -> dict:
    [(n_days, first, last, sources)] = con.sql(
        "select count(distinct snapshot_date), min(snapshot_date), max(snapshot_date), count(distinct source) "
        "from provider_prices where strftime(snapshot_date, '%Y-%m') = $m",
        {"m": month},
    ).fetchall()
    if not n_days:
        raise NoPricesThatMonth(
            f"no provider prices in {month}: the report reads what the pipeline computed (provider_prices, "
            "spreads, cost_trends); materialize them for the month first"
        )
    return {"n": n_days, "first": first, "last": last, "sources": sources}


def _catalog(con: LakeConnection) -> pd.DataFrame:
    """The materialized catalog, else the curated one the code ships (what `cost_trends` fitted with then)."""
    catalog = con.sql("from catalog").df()
    return catalog if len(catalog) else load_curated()


def _fit(con: LakeConnection, month: str) -> TrendFit | None:
    """The month's minimum-price trend as `cost_trends` stored it (None when it was not computed)."""
    rows = con.sql("from trends_min_price_fit where month = $m", {"m": month}).df()
    return _trend_fit(rows.iloc[0]) if len(rows) else None


def _trend_fit(row: pd.Series) -> TrendFit:
    """A `TrendFit` from its stored row (`TrendFit.as_row`): the comma-joined models and quadratic columns."""
    values = {}
    for field in fields(TrendFit):
        if field.name == "models":
            values["models"] = tuple(m for m in str(row["models"] or "").split(",") if m)
        elif field.name == "quad_coef":
            values["quad_coef"] = tuple(float(row[f"quad_c{i}"]) for i in range(3))
        elif field.name == "reason":
            values["reason"] = "" if pd.isna(row["reason"]) else str(row["reason"])
        elif field.name == "sufficient":
            values["sufficient"] = bool(row["sufficient"])
        elif field.name == "n_models":
            values["n_models"] = int(row["n_models"])
        else:
            values[field.name] = np.nan if pd.isna(row[field.name]) else float(row[field.name])
    return TrendFit(**values)


def _lead(con: LakeConnection, month: str, days: dict, fit: TrendFit | None) -> str:
    [(models, providers)] = con.sql(
        "select count(distinct model), count(distinct provider) from provider_prices "
        "where strftime(snapshot_date, '%Y-%m') = $m",
        {"m": month},
    ).fetchall()
    text = (f"{days['n']} days of prices ({days['first']} .. {days['last']}) from {days['sources']} sources: "
            f"{models} models at {providers} providers.")  # fmt: skip
    if fit is not None and fit.sufficient:
        text += (f" Serving a dense open model costs about {usd(fit.intercept)} per million tokens plus "
                 f"{usd(fit.variable_cost_per_10b)} per 10B parameters at the cheapest provider (R² {fit.r2:.2f}, "
                 f"{fit.n_models} models).")  # fmt: skip
    return text


# -- sections -----------------------------------------------------------------------------------------------
def _spreads(con: LakeConnection, prices: pd.DataFrame, catalog: pd.DataFrame, days: dict) -> Section:
    open_models = set(catalog.loc[catalog["open_weights"].astype("boolean").fillna(False), "model"])
    spreads = con.sql(
        "select model, n_providers, cheapest_provider, min, median, max, priciest_provider, max_over_min "
        "from spreads where snapshot_date = $day order by n_providers desc, model",
        {"day": days["last"]},
    ).df()
    popular = spreads[spreads["model"].isin(open_models)].head(SPREAD_MODELS)
    body = paragraph(
        f"Open-weight models are a commodity: the same weights, served by many providers. On {days['last']}, "
        "the most served ones cost this much per million tokens, cheapest to priciest provider (one price per "
        "provider: its own page first, then curated lists; quantized builds, free tiers and OpenRouter's resale "
        "left out)."
    )
    body += table(
        popular.rename(columns={"n_providers": "providers", "cheapest_provider": "cheapest", "max_over_min":
                                "max / min", "priciest_provider": "priciest"}),  # fmt: skip
        {"min": usd, "median": usd, "max": usd, "max / min": times},
        empty="No open-weight model had a price from any provider that day.",
    )
    served = prices[prices["model"].isin(popular["model"])]
    if len(served):
        body += figure(
            charts.provider_price_chart(served),
            "provider prices of the most served open models",
            "Each dot a provider's price (log scale), the red bar the median; in brackets the number of providers.",
        )
    competitive = popular[popular["n_providers"] >= 3]
    if len(competitive):
        body += paragraph(
            f"Across the {len(competitive)} models with at least 3 providers, the priciest provider charges a median "
            f"{competitive['max_over_min'].median():.1f}x the cheapest."
        )
    return Section("spreads", "Same model, different prices", body)


def _trend(con: LakeConnection, month: str, fit: TrendFit | None, points: pd.DataFrame) -> Section:
    if fit is None:
        return Section("trend", "Size vs price", paragraph(f"cost_trends was not computed for {month}.", "note"))
    body = paragraph(
        "In a competitive market the cheapest price approaches the cost of serving. Fitting each dense open "
        "model's minimum price (median over the month's days) against its size gives a fixed cost per million "
        "tokens and a variable cost per 10B parameters; models with fewer than 3 providers are drawn hollow and "
        "not fitted."
    )
    if fit.sufficient:
        figures = pd.DataFrame(
            [
                ("fixed cost a, per million tokens", usd(fit.intercept)),
                ("variable cost, per 10B parameters", usd(fit.variable_cost_per_10b)),
                ("R² (quadratic R²)", f"{fit.r2:.3f} ({fit.quad_r2:.3f})"),
                ("Theil-Sen variable cost per 10B", usd(10 * fit.theil_slope)),
                ("bootstrap 95% interval, per 10B", f"{usd(10 * fit.slope_ci_low)} .. {usd(10 * fit.slope_ci_high)}"),
                ("implied price of a 10T dense model", usd(fit.price_10t)),
                (f"models fitted ({fit.n_models})", ", ".join(fit.models)),
            ],
            columns=["figure", "value"],
        )
        body += table(figures)
    else:
        body += paragraph(f"No minimum-price trend this month: {fit.reason}.", "note")
    if len(points):
        caption = "Dense open-weight models: size against the cheapest provider's price, fitted line and quadratic."
        body += figure(charts.size_price_chart(points, fit), "size vs minimum price", caption)
    # each row is the trend fitted on one month up to this one (`month` is the partition: this month)
    history = con.sql("from trends_fit_history where month = $m order by trend_month", {"m": month}).df()
    history = history.drop(columns="month").rename(columns={"trend_month": "month"})
    if len(history):
        body += paragraph("The same trend refitted on each month so far: is serving getting cheaper?")
        caption = "Fixed cost and variable cost per 10B parameters, month by month (shaded: the slope's 95% interval)."
        body += figure(charts.trend_history_chart(history), "trend history", caption)
        shown = history[["month", "n_models", "intercept", "variable_cost_per_10b", "r2", "price_10t"]]
        body += table(shown.rename(columns={"intercept": "fixed cost", "variable_cost_per_10b": "per 10B params",
                                            "price_10t": "10T model"}),  # fmt: skip
                      {"month": lambda d: str(d)[:7], "fixed cost": usd, "per 10B params": usd, "10T model": usd,
                       "r2": lambda v: f"{v:.3f}"})  # fmt: skip
    return Section("trend", "Size vs price: the cost trend", body)


def _moe(con: LakeConnection, month: str, fit: TrendFit | None, points: pd.DataFrame) -> Section:
    placement = con.sql("from trends_moe_placement where month = $m order by position", {"m": month}).df()
    body = paragraph(
        "Mixture-of-Experts models run only some of their parameters per token. Where does their price put them "
        "on the dense trend? Position 0 is priced like a dense model of their active size, 1 like one of their "
        "total size."
    )
    shown = placement[["model", "price", "n_providers", "params_active_b", "params_total_b", "dense_equiv_b",
                       "position"]]  # fmt: skip
    body += table(
        shown.rename(columns={"n_providers": "providers", "params_active_b": "active (B)",
                              "params_total_b": "total (B)", "dense_equiv_b": "dense equivalent (B)"}),  # fmt: skip
        {"price": usd, "providers": lambda v: f"{v:g}", "active (B)": lambda v: f"{v:g}",
         "total (B)": lambda v: f"{v:g}", "dense equivalent (B)": lambda v: f"{v:,.0f}",
         "position": lambda v: f"{v:.2f}"},  # fmt: skip
        empty="No MoE model with known active and total sizes had enough providers this month.",
    )
    if len(placement) and fit is not None and fit.sufficient:
        body += figure(charts.moe_chart(placement, points, fit), "MoE placement", "Each MoE model at its price, "
                       "from its active (hollow) to its total (filled) size, against the dense trend.")  # fmt: skip
    return Section("moe", "Mixture-of-Experts placement", body)


def _proprietary(con: LakeConnection, month: str, fit: TrendFit | None) -> Section:
    implied = con.sql("from trends_proprietary_implied where month = $m order by price desc", {"m": month}).df()
    body = paragraph(
        "What a proprietary model's price would buy on the open-model trend: the largest dense model served at "
        "that price, and, where a size is assumed, the mark-up over the trend's price at that size."
    )
    shown = implied[["model", "price", "implied_max_params_b", "assumed_params_b", "trend_price_at_assumed", "markup"]]
    body += table(
        shown.rename(columns={"implied_max_params_b": "implied size (B)", "assumed_params_b": "assumed size (B)",
                              "trend_price_at_assumed": "trend price at that size"}),  # fmt: skip
        {"price": usd, "implied size (B)": lambda v: f"{v:,.0f}", "assumed size (B)": lambda v: f"{v:,.0f}",
         "trend price at that size": usd, "markup": times},  # fmt: skip
        empty="No proprietary model was priced this month (or the trend could not be fitted).",
    )
    return Section("proprietary", "Proprietary models: implied size and mark-up", body)


def _changes(con: LakeConnection, month: str) -> Section:
    in_month = "strftime(snapshot_date, '%Y-%m') = $m"
    kinds = con.sql(f"select kind, count(*) as changes from changes where {in_month} group by 1 order by 2 desc",
                    {"m": month}).df()  # fmt: skip
    body = paragraph("Changes each source recorded against its previous day with data, over the month:")
    body += table(kinds, empty="No change recorded this month (price_changes was not computed, or nothing moved).")
    moves = con.sql(
        f"""select snapshot_date as day, provider, model, old_blended_usd_per_mtok as before,
                   new_blended_usd_per_mtok as after, relative_change as change,
                   string_agg(source, ', ' order by source) as seen_by
            from changes where {in_month} and kind = 'price_changed'
            group by snapshot_date, provider, model, old_blended_usd_per_mtok, new_blended_usd_per_mtok,
                     relative_change
            order by abs(relative_change) desc nulls last, day, provider limit {NOTABLE_CHANGES}""",
        {"m": month},
    ).df()
    if len(moves):
        body += paragraph("The largest price moves (blended price; one row per move, with the sources that saw it):")
        body += table(moves, {"day": lambda d: str(d)[:10], "before": usd, "after": usd, "change": percent})
    cheapest = con.sql(
        f"""select snapshot_date as day, model, previous_provider as was, provider as now,
                   old_blended_usd_per_mtok as before, new_blended_usd_per_mtok as after
            from changes where {in_month} and kind = 'cheapest_provider_changed' order by day, model""",
        {"m": month},
    ).df()
    if len(cheapest):
        body += paragraph("Where the cheapest provider changed:")
        body += table(cheapest, {"day": lambda d: str(d)[:10], "before": usd, "after": usd})
    return Section("changes", "Notable price changes", body)


def _quality(con: LakeConnection, month: str) -> Section:
    in_month = "strftime(snapshot_date, '%Y-%m') = $m"
    per_source = con.sql(
        f"""with obs as (select source, count(distinct snapshot_date) as days, count(*) as rows
                         from observations where {in_month} group by 1),
                 bad as (select source, count(*) as quarantined from quarantine where {in_month} group by 1)
            select source, coalesce(days, 0) as days, coalesce(rows, 0) as rows,
                   coalesce(quarantined, 0) as quarantined,
                   coalesce(quarantined, 0) / (coalesce(rows, 0) + coalesce(quarantined, 0)) as share
            from obs full outer join bad using (source) order by source""",
        {"m": month},
    ).df()
    body = paragraph("Rows each source landed this month, and the records kept out of them (quarantined, with why):")
    body += table(per_source, {"share": lambda v: f"{v:.1%}"}, empty="No observations this month.")
    reasons = con.sql(
        f"select source, reason, count(*) as records from quarantine where {in_month} "
        "group by all order by records desc, source, reason limit 12",
        {"m": month},
    ).df()
    if len(reasons):
        body += table(reasons)
    body += _anomalies(con, month)
    return Section("quality", "Data quality", body)


def _anomalies(con: LakeConnection, month: str) -> str:
    if ANOMALIES_VIEW not in con.views():
        return paragraph("Anomalies (prices flagged as implausible): not computed for this lake.", "note")
    columns = [name for (name, *_rest) in con.sql(f"describe {ANOMALIES_VIEW}").fetchall()]
    by = next((c for c in ("trust_flags", "kind", "check", "reason", "rule") if c in columns), None)
    when = next((c for c in ("snapshot_date", "month") if c in columns), None)
    where = (f"where strftime({when}, '%Y-%m') = $m" if when == "snapshot_date" else
             f"where {when} = $m" if when else "")  # fmt: skip
    params = {"m": month} if when else None
    group = f"select {by}, count(*) as anomalies from {ANOMALIES_VIEW} {where} group by 1 order by 2 desc" if by else \
        f"select count(*) as anomalies from {ANOMALIES_VIEW} {where}"  # fmt: skip
    counts = con.sql(group, params).df()
    return paragraph("Anomalies flagged this month:") + table(counts, empty="No anomaly flagged this month.")
