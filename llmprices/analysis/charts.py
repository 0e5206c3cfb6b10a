"""The seed's charts as small PNGs (bytes), for Dagster asset metadata and the report.

Figures are built on `matplotlib.figure.Figure` and rendered by the Agg canvas without pyplot, so
there is no global figure state to leak between runs or threads. 10x6 inches at 100 dpi (1000x600 px) is
what the Dagster UI shows at full size, big enough to read its labels.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from llmprices.analysis.spreads import latest_day
from llmprices.analysis.trends import TrendFit

FIGSIZE = (10.0, 6.0)
DPI = 100


def _figure() -> Figure:
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _short(model: str) -> str:
    return model.split("/")[-1]


def provider_price_chart(provider_prices: pd.DataFrame, n_models: int = 10) -> bytes:
    """The seed's first chart: for the most-served models on the latest day, one row per model and a
    dot per provider on a log price axis, the median marked, so a 10x range is visible at a glance."""
    day = latest_day(provider_prices)
    counts = day.groupby("model")["provider"].nunique().sort_values(ascending=False, kind="stable")
    models = list(counts.index[:n_models])[::-1]  # most served on top
    fig = _figure()
    ax = fig.add_subplot()
    for row, model in enumerate(models):
        prices = day.loc[day["model"] == model, "blended"].to_numpy()
        prices = prices[prices > 0]
        ax.scatter(prices, np.full(len(prices), row), s=14, alpha=0.7, color="tab:blue")
        if len(prices):
            ax.scatter([np.median(prices)], [row], marker="|", s=200, color="tab:red")
    ax.set_yticks(range(len(models)), [f"{_short(m)} ({counts[m]})" for m in models], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("USD per million tokens (3:1 blend), log scale")
    title = f"Provider prices, {day['snapshot_date'].max()}" if len(day) else "Provider prices (no data)"
    ax.set_title(f"{title}; red: median", fontsize=9)
    ax.grid(axis="x", which="both", alpha=0.3)
    return _png(fig)


def _plot_trend(ax, fit: TrendFit, x_max: float, x_data_max: float) -> None:
    """The OLS line out to `x_max`; the quadratic only over the fitted sizes, since extrapolated it
    bends down and would claim bigger models get cheaper."""
    if not fit.sufficient:
        return
    x = np.linspace(0, x_max, 200)
    label = f"OLS: {fit.intercept:.3f} + {fit.variable_cost_per_10b:.4f}/10B (R²={fit.r2:.2f})"
    ax.plot(x, fit.predict(x), color="tab:red", label=label)
    if np.isfinite(fit.quad_r2):
        xq = np.linspace(0, x_data_max, 200)
        ax.plot(xq, fit.predict_quadratic(xq), color="tab:green", ls="--", label=f"quadratic (R²={fit.quad_r2:.2f})")


def _fitted_sizes_max(points: pd.DataFrame, fit: TrendFit) -> float:
    return float(points.loc[points["model"].isin(fit.models), "params_b"].max()) if fit.sufficient else 0.0


def size_price_chart(points: pd.DataFrame, fit: TrendFit) -> bytes:
    """Dense model size vs minimum price with the fitted line and quadratic (the seed's cost trend).

    Models the fit left out (too few providers) are drawn hollow, so the chart shows what was fitted.
    """
    fig = _figure()
    ax = fig.add_subplot()
    fitted = points["model"].isin(fit.models)
    ax.scatter(points.loc[fitted, "params_b"], points.loc[fitted, "price"], s=18, color="tab:blue", zorder=3)
    ax.scatter(
        points.loc[~fitted, "params_b"],
        points.loc[~fitted, "price"],
        s=18,
        facecolors="none",
        edgecolors="tab:gray",
        zorder=3,
        label="too few providers, not fitted",
    )
    for _, point in points.iterrows():
        ax.annotate(_short(str(point["model"])), (point["params_b"], point["price"]), fontsize=6, alpha=0.8)
    _plot_trend(ax, fit, float(points["params_b"].max()) * 1.05 if len(points) else 1.0, _fitted_sizes_max(points, fit))
    ax.set_xlabel("parameters (billions)")
    ax.set_ylabel("minimum price, USD per million tokens")
    ax.set_title(f"Dense open-weight models: size vs minimum price ({fit.n_models} fitted)", fontsize=9)
    if fit.sufficient or (~fitted).any():
        ax.legend(fontsize=7)
    return _png(fig)


def moe_chart(placement: pd.DataFrame, points: pd.DataFrame, fit: TrendFit) -> bytes:
    """MoE models against the dense trend: each drawn at its price from its active (hollow) to its
    total (filled) parameter count, so "the line crosses the bar" means priced between the two."""
    fig = _figure()
    ax = fig.add_subplot()
    ax.scatter(points["params_b"], points["price"], s=14, color="tab:gray", label="dense models")
    for _, moe in placement.iterrows():
        y = moe["price"]
        ax.plot([moe["params_active_b"], moe["params_total_b"]], [y, y], color="tab:purple", lw=1)
        ax.scatter([moe["params_active_b"]], [y], facecolors="none", edgecolors="tab:purple", s=22)
        ax.scatter([moe["params_total_b"]], [y], color="tab:purple", s=22)
        ax.annotate(_short(str(moe["model"])), (moe["params_total_b"], y), fontsize=6)
    x_max = max([1.0, *points["params_b"].dropna(), *placement["params_total_b"].dropna()]) * 1.05
    _plot_trend(ax, fit, x_max, _fitted_sizes_max(points, fit))
    ax.set_xlabel("parameters (billions): hollow active, filled total")
    ax.set_ylabel("minimum price, USD per million tokens")
    ax.set_title("MoE models against the dense minimum-price trend", fontsize=9)
    ax.legend(fontsize=7)
    return _png(fig)


def trend_history_chart(history: pd.DataFrame) -> bytes:
    """Month-by-month refits of the minimum-price trend: fixed cost and variable cost per 10B
    parameters (with the slope's bootstrap 95% band), i.e. whether serving got cheaper."""
    fitted = history[history["sufficient"].astype(bool)] if len(history) else history
    fig = _figure()
    top, bottom = fig.subplots(2, 1, sharex=True)
    months = pd.to_datetime(fitted["month"]) if len(fitted) else pd.Series(dtype="datetime64[ns]")
    top.plot(months, fitted["intercept"], marker="o", color="tab:blue")
    top.set_ylabel("fixed cost\nUSD/Mtok", fontsize=8)
    bottom.plot(months, fitted["variable_cost_per_10b"], marker="o", color="tab:red")
    bottom.fill_between(
        months, 10 * fitted["slope_ci_low"], 10 * fitted["slope_ci_high"], color="tab:red", alpha=0.2, lw=0
    )
    bottom.set_ylabel("variable cost\nUSD/Mtok per 10B", fontsize=8)
    top.set_title("Minimum-price trend refitted monthly", fontsize=9)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    bottom.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, -(-len(fitted) // 6))))
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    return _png(fig)
