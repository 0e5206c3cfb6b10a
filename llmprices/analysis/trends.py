"""Cost trends: what serving a dense model of a given size costs, refitted every month.

The seed's argument: in a competitive market the cheapest provider's price approaches marginal cost,
so the minimum price across providers of dense open-weight models, against parameter count, traces a
cost curve `price = a + b * params_b` (a: fixed cost per million tokens, b: cost per billion
parameters). That line then prices models nobody serves (a 10T dense model), bounds the size of
proprietary models from their price, and says where MoE models sit between their active and total
parameter counts. Refitting it each month turns the one-off snapshot into a time series.

Every function is pure over DataFrames; every random draw comes from a seeded generator so a
re-materialized month gives identical numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

#: 10T parameters, the seed's extrapolation target.
TEN_T_PARAMS_B = 10_000.0
#: Dense-equivalent sizes for proprietary models, in billions: GPT-4's 950B is the seed's estimate
#: (its MoE inference cost from an analysis of MoE serving costs, not a disclosed figure).
SEED_ASSUMED_SIZES_B = {"openai/gpt-4": 950.0}
#: Fewest points a trend is fitted on: two points always fit a line exactly and say nothing.
MIN_FIT_POINTS = 3


@dataclass(frozen=True)
class TrendFit:
    """A size -> price line (USD per million tokens vs billions of parameters) and how well it fits.

    `sufficient` is False (and the numbers NaN) when fewer than `MIN_FIT_POINTS` models of at least
    two distinct sizes were available: callers report "no fit this month" instead of crashing.
    """

    n_models: int
    models: tuple[str, ...] = ()
    sufficient: bool = False
    intercept: float = np.nan  # a: fixed cost per million tokens
    slope: float = np.nan  # b: cost per billion parameters
    r2: float = np.nan
    quad_coef: tuple[float, float, float] = (np.nan, np.nan, np.nan)  # c0 + c1 x + c2 x^2
    quad_r2: float = np.nan
    theil_slope: float = np.nan
    theil_intercept: float = np.nan
    slope_ci_low: float = np.nan  # bootstrap 95% interval of `slope`
    slope_ci_high: float = np.nan
    mean_providers: float = np.nan
    reason: str = field(default="", compare=False)

    @property
    def variable_cost_per_10b(self) -> float:
        return 10 * self.slope

    @property
    def price_10t(self) -> float:
        """The line's price for a 10,000B dense model (the seed's "about $22")."""
        return self.predict(TEN_T_PARAMS_B)

    def predict(self, params_b: float | np.ndarray) -> float | np.ndarray:
        return self.intercept + self.slope * np.asarray(params_b, dtype=float)

    def predict_quadratic(self, params_b: float | np.ndarray) -> float | np.ndarray:
        c0, c1, c2 = self.quad_coef
        x = np.asarray(params_b, dtype=float)
        return c0 + c1 * x + c2 * x**2

    def implied_size(self, price: float | np.ndarray) -> float | np.ndarray:
        """Dense size the line serves at `price`: (price - a) / b; NaN unless the line rises."""
        slope = self.slope if self.slope > 0 else np.nan
        return (np.asarray(price, dtype=float) - self.intercept) / slope

    def as_row(self) -> dict:
        """Flat, parquet-friendly record (tuples become scalar columns, models a comma string)."""
        row = asdict(self)
        row["models"] = ",".join(self.models)
        row.pop("quad_coef")
        row.update(zip(("quad_c0", "quad_c1", "quad_c2"), self.quad_coef, strict=True))
        row["variable_cost_per_10b"] = self.variable_cost_per_10b
        row["price_10t"] = self.price_10t
        return row


def _r2(y: np.ndarray, fitted: np.ndarray) -> float:
    total = np.sum((y - y.mean()) ** 2)
    return float(1 - np.sum((y - fitted) ** 2) / total) if total > 0 else np.nan


def _ols_slope(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """The OLS slope along `axis`; NaN where x has a single distinct value (no slope to speak of)."""
    dx = x - x.mean(axis=axis, keepdims=True)
    sxx = np.sum(dx**2, axis=axis)
    defined = sxx > 1e-12 * max(1.0, float(np.max(np.abs(x)) ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.sum(dx * (y - y.mean(axis=axis, keepdims=True)), axis=axis) / sxx
    return np.where(defined, slope, np.nan)


def _bootstrap_slope(x: np.ndarray, y: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    """95% percentile interval of the OLS slope over models resampled in pairs (`scipy.stats.bootstrap`).

    Resamples that drew a single distinct size have no slope: they are left out of the percentiles, not
    redrawn, so the interval stays a pure function of (data, seed). (scipy's own interval would be NaN
    then, hence the percentiles taken here from its bootstrap distribution.)
    """
    from scipy import stats  # here, not at the top: scipy.stats is slow to import

    with warnings.catch_warnings():  # scipy warns of the NaN slopes its own interval would carry
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            (x, y), _ols_slope, paired=True, vectorized=True, n_resamples=n_boot, method="percentile",
            rng=np.random.default_rng(seed),
        )  # fmt: skip
    slopes = result.bootstrap_distribution
    if np.isnan(slopes).all():
        return np.nan, np.nan
    low, high = np.nanpercentile(slopes, [2.5, 97.5])
    return float(low), float(high)


def fit_price_trend(points: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0) -> TrendFit:
    """Fit price ~ params_b over `points` (columns model, params_b, price; n_providers optional).

    OLS line (the seed's fixed + variable cost), quadratic (the seed's better-fitting curve on Deep
    Infra), Theil-Sen (robust to one mispriced model, like Bedrock's Llama 3 70B), and a bootstrap
    interval of the slope (how much one model more or less moves the variable cost).
    """
    points = points.dropna(subset=["params_b", "price"])
    x = points["params_b"].to_numpy(dtype=float)
    y = points["price"].to_numpy(dtype=float)
    models = tuple(points["model"].astype(str))
    mean_providers = float(points["n_providers"].mean()) if "n_providers" in points and len(points) else np.nan
    if len(x) < MIN_FIT_POINTS or len(np.unique(x)) < 2:
        why = f"{len(x)} models with {len(np.unique(x))} distinct sizes; need {MIN_FIT_POINTS} and 2"
        return TrendFit(n_models=len(x), models=models, mean_providers=mean_providers, reason=why)
    slope, intercept = np.polyfit(x, y, 1)
    quad = np.polyfit(x, y, 2)[::-1] if len(np.unique(x)) >= 3 else np.full(3, np.nan)
    quad_r2 = _r2(y, np.polyval(quad[::-1], x)) if np.isfinite(quad).all() else np.nan
    from scipy import stats  # here, not at the top: scipy.stats is slow to import

    theil = stats.theilslopes(y, x)
    ci_low, ci_high = _bootstrap_slope(x, y, n_boot, seed)
    return TrendFit(
        n_models=len(x),
        models=models,
        sufficient=True,
        intercept=float(intercept),
        slope=float(slope),
        r2=_r2(y, intercept + slope * x),
        quad_coef=tuple(float(c) for c in quad),
        quad_r2=quad_r2,
        theil_slope=float(theil.slope),
        theil_intercept=float(theil.intercept),
        slope_ci_low=ci_low,
        slope_ci_high=ci_high,
        mean_providers=mean_providers,
    )


def fit_min_price_trend(points: pd.DataFrame, min_providers: int = 3, *, n_boot: int = 2000, seed: int = 0) -> TrendFit:
    """The seed's minimum-price trend: `fit_price_trend` over models with >= `min_providers` providers.

    `points`: one row per dense open-weight model (see `dense_points`) with model, params_b, price
    (its minimum price across providers) and n_providers. The provider floor is the point: a minimum
    over one or two providers is one firm's price, not a competitive one.
    """
    return fit_price_trend(points[points["n_providers"] >= min_providers], n_boot=n_boot, seed=seed)


def _catalog_view(catalog: pd.DataFrame) -> pd.DataFrame:
    """Catalog with plain float counts and plain bool flags (it arrives with nullable dtypes)."""
    return pd.DataFrame(
        {
            "model": catalog["model"],
            "params_total_b": pd.to_numeric(catalog["params_total_b"]).astype(float),
            "params_active_b": pd.to_numeric(catalog["params_active_b"]).astype(float),
            "is_moe": catalog["is_moe"].astype("boolean").fillna(False).astype(bool),
            "is_moe_known": catalog["is_moe"].notna(),
            "open_weights": catalog["open_weights"].astype("boolean").fillna(False).astype(bool),
        }
    )


def dense_points(prices: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """`prices` (model, price, ...) restricted to dense open-weight models of known size, with params_b.

    A model whose MoE-ness is unknown is left out: a MoE priced as if dense would bend the line.
    """
    view = _catalog_view(catalog)
    dense = view[view["open_weights"] & view["is_moe_known"] & ~view["is_moe"] & view["params_total_b"].notna()]
    merged = prices.merge(dense[["model", "params_total_b"]], on="model", how="inner")
    return merged.rename(columns={"params_total_b": "params_b"})


def moe_points(prices: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """`prices` restricted to open-weight MoE models with both counts, with params_total_b/active_b."""
    view = _catalog_view(catalog)
    moe = view[view["open_weights"] & view["is_moe"] & view["params_total_b"].notna() & view["params_active_b"].notna()]
    return prices.merge(moe[["model", "params_total_b", "params_active_b"]], on="model", how="inner")


def _month(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.to_period("M").dt.to_timestamp()


def _comparable(provider_prices: pd.DataFrame) -> pd.DataFrame:
    """Full-precision, paid listings only, whatever config built the table (the seed's exclusions)."""
    keep = pd.Series(True, index=provider_prices.index)
    for flag in ("is_quantized", "is_free"):
        if flag in provider_prices:
            keep &= ~provider_prices[flag].astype(bool)
    return provider_prices[keep]


def monthly_model_prices(provider_prices: pd.DataFrame) -> pd.DataFrame:
    """A model's price per month: the median over the month's days of its daily minimum price.

    Median of daily minima rather than the month's minimum, so one day's mistyped price or flash
    promotion does not become the month. Columns: month (Timestamp, first of month), model, price,
    n_providers (median daily provider count), n_days.
    """
    prices = _comparable(provider_prices)
    daily = prices.groupby(["snapshot_date", "model"], as_index=False).agg(
        price=("blended", "min"), n_providers=("provider", "nunique")
    )
    daily["month"] = _month(daily["snapshot_date"])
    monthly = daily.groupby(["month", "model"], as_index=False).agg(
        price=("price", "median"), n_providers=("n_providers", "median"), n_days=("snapshot_date", "nunique")
    )
    return monthly[["month", "model", "price", "n_providers", "n_days"]]


def monthly_provider_prices(provider_prices: pd.DataFrame) -> pd.DataFrame:
    """Each provider's price per (month, model): the median over the month's days.

    Columns: month, provider, model, price, input, output. Input of `per_provider_trends`.
    """
    prices = _comparable(provider_prices).assign(month=lambda f: _month(f["snapshot_date"]))
    return prices.groupby(["month", "provider", "model"], as_index=False).agg(
        price=("blended", "median"), input=("input", "median"), output=("output", "median")
    )


def trend_history(
    monthly_prices: pd.DataFrame,
    catalog: pd.DataFrame,
    min_providers: int = 3,
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The minimum-price trend refitted on each month of `monthly_model_prices`: one `TrendFit` row
    per month (insufficient months included, marked), so fixed and variable cost become series."""
    points = dense_points(monthly_prices, catalog)
    rows = [
        {"month": month}
        | fit_min_price_trend(points[points["month"] == month], min_providers, n_boot=n_boot, seed=seed).as_row()
        for month in sorted(monthly_prices["month"].unique())
    ]
    return pd.DataFrame(rows)


def per_provider_trends(
    provider_month_prices: pd.DataFrame,
    catalog: pd.DataFrame,
    min_models: int = 5,
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The size -> price line within each provider that prices >= `min_models` dense open-weight models.

    The seed's Bedrock and Deep Infra charts: a provider's own line, whose 10T price or GPT-4 markup
    can be compared with the market minimum's. `provider_month_prices` has provider, model, price and
    optionally month (then one fit per month and provider). One `TrendFit.as_row()` per group.
    """
    points = dense_points(provider_month_prices, catalog)
    keys = ["month", "provider"] if "month" in points else ["provider"]
    counts = points.groupby(keys)["model"].transform("nunique")
    points = points[counts >= max(min_models, MIN_FIT_POINTS)]
    rows = [
        dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        | fit_price_trend(group, n_boot=n_boot, seed=seed).as_row()
        for key, group in points.groupby(keys, sort=True)
    ]
    columns = [*keys, *TrendFit(0).as_row()]
    return pd.DataFrame(rows, columns=columns)


def moe_placement(moe: pd.DataFrame, fit: TrendFit) -> pd.DataFrame:
    """Where each MoE model's price puts it on the dense line, between its active and total size.

    `moe`: model, price, params_total_b, params_active_b. Adds dense_equiv_b = (price - a) / b and
    position = (dense_equiv_b - active) / (total - active): 0 prices it like its active parameters,
    1 like its total, above 1 dearer than a dense model of its total size (the seed found 3 of 5
    between 0 and 1, leaning to 1).
    """
    out = moe.copy()
    out["dense_equiv_b"] = fit.implied_size(out["price"])
    span = (out["params_total_b"] - out["params_active_b"]).astype(float)
    out["position"] = (out["dense_equiv_b"] - out["params_active_b"]) / span.where(span > 0)
    return out


def proprietary_implied(
    prices: pd.DataFrame, fit: TrendFit, assumed_sizes: dict[str, float] | None = None
) -> pd.DataFrame:
    """What the dense trend says about proprietary models, from their price alone.

    `prices`: model, price. implied_max_params_b = (price - a) / b, the largest dense model the
    market serves at that price without a loss (an upper bound on size if the price is at cost).
    Where an assumed dense-equivalent size S is known (`assumed_sizes`, default the seed's GPT-4 at
    950B), trend_price_at_assumed = a + b * S and markup = price / (a + b * S).
    """
    sizes = SEED_ASSUMED_SIZES_B if assumed_sizes is None else assumed_sizes
    out = prices.copy()
    out["implied_max_params_b"] = fit.implied_size(out["price"])
    out["assumed_params_b"] = out["model"].map(sizes).astype(float)
    out["trend_price_at_assumed"] = fit.predict(out["assumed_params_b"])
    out["markup"] = out["price"] / out["trend_price_at_assumed"].where(out["trend_price_at_assumed"] > 0)
    return out


def io_ratio_by_provider(provider_prices: pd.DataFrame) -> pd.DataFrame:
    """Output/input price ratio per provider: median, p10, p90 and the share priced equally.

    One ratio per (provider, model), the median over days, so a model listed all year does not
    outweigh one listed for a week. Listings with a zero input price have no ratio. Columns:
    provider, n_models, median, p10, p90, share_equal.
    """
    prices = _comparable(provider_prices)
    prices = prices[prices["input"] > 0].assign(ratio=lambda f: f["output"] / f["input"])
    per_model = prices.groupby(["provider", "model"], as_index=False)["ratio"].median()
    per_model["equal"] = np.isclose(per_model["ratio"], 1.0, rtol=1e-6, atol=0)
    grouped = per_model.groupby("provider")
    out = grouped.agg(n_models=("model", "size"), median=("ratio", "median"), share_equal=("equal", "mean"))
    quantiles = grouped["ratio"].quantile([0.1, 0.9]).unstack().reindex(columns=[0.1, 0.9])
    out.insert(2, "p10", quantiles[0.1])
    out.insert(3, "p90", quantiles[0.9])
    return out.reset_index()


DECLINE_COLUMNS = ["model", "n_months", "first_month", "last_month", "slope_per_year", "factor", "factor_low",
                   "factor_high"]  # fmt: skip


def annual_decline(monthly_prices: pd.DataFrame, min_months: int = 6, confidence: float = 0.90) -> pd.DataFrame:
    """Per model present >= `min_months` months: how many times cheaper it gets per year.

    Fits log(price) = c + s * t (t in years) per model (`scipy.stats.linregress`); factor = exp(-s) (10 means
    a tenth of the price a year later, as Epoch AI reports), with the `confidence` interval from the slope's
    t-interval. Columns: `DECLINE_COLUMNS`.
    """
    from scipy import stats

    rows = []
    priced = monthly_prices[monthly_prices["price"] > 0]
    for model, group in priced.groupby("model", sort=True):
        months = pd.to_datetime(group["month"])
        if months.nunique() < min_months:
            continue
        fit = stats.linregress((months - pd.Timestamp("2000-01-01")).dt.days / 365.25, np.log(group["price"]))
        half_width = stats.t.ppf(0.5 + confidence / 2, len(group) - 2) * fit.stderr
        rows.append(
            {
                "model": model,
                "n_months": months.nunique(),
                "first_month": group["month"].min(),
                "last_month": group["month"].max(),
                "slope_per_year": fit.slope,
                "factor": np.exp(-fit.slope),
                "factor_low": np.exp(-(fit.slope + half_width)),
                "factor_high": np.exp(-(fit.slope - half_width)),
            }
        )
    floats = dict.fromkeys(["slope_per_year", "factor", "factor_low", "factor_high"], "float64")
    return pd.DataFrame(rows, columns=DECLINE_COLUMNS).astype({"model": "str", "n_months": "int64", **floats})
