"""The rules that judge a price against other prices: `placeholder`, `unit_slip` and `outlier`.

- `placeholder`: one source gives one provider the same (input, output) price for several models whose dense
  sizes span an order of magnitude (LiteLLM's Hyperbolic at $0.12/$0.30 from Llama 3.2 3B to Llama 3.1 405B):
  a default filled in, not a price. A size tier (Fireworks' $0.90 for every dense model above 16B) spans less.
- `unit_slip`: a price in the wrong unit. Input and output both 100x or more off the model's reference price
  (the median of the other providers that day; the same provider in another source when it has no rival);
  *below* the market this needs three rivals, since with one rival the 1000x *higher* price is the slip. Or a
  per-token price equal to another source's per-character price of the model. Or a run of a listing's history
  10x off the runs on both sides, which agree with each other (a jump that came back).
- `outlier`: a blended price 20x or more from the median of at least three other providers that day, and not a
  unit slip. The seed's widest true spread is about 4x from the median ($0.20-$2.90 around $0.70); 10x would
  flag true cheap prices (Lambda's Llama 3.2 11B Vision at $0.0175 against about $0.20).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from llmprices.trust.config import TrustConfig
from llmprices.trust.frames import DAILY_LISTING, carried_forward, comparable, fmt, no_reason

if TYPE_CHECKING:
    from llmprices.trust.history import ListingHistory

DAY_MODEL = ["snapshot_date", "model"]


def dense_sizes(catalog: pd.DataFrame) -> pd.Series:
    """Billions of parameters of each dense model of the catalog (MoE and unknown sizes left out), by model."""
    is_moe = catalog["is_moe"].astype("boolean")
    sizes = pd.to_numeric(catalog["params_total_b"]).astype(float).where(is_moe.eq(False).fillna(False))
    return pd.Series(sizes.to_numpy(), index=catalog["model"]).dropna()


def market_reference(frame: pd.DataFrame, carry_days: int = 0) -> pd.DataFrame:
    """Per (day, model, provider) of the comparable rows: the provider's price (the median of its listings) and
    the median of the *other* providers' prices of the model that day, with their number (`n_others`). Each
    source's prices stand for the days until its next capture, at most `carry_days` (as in the reconciliation):
    a day one list was not captured still has that list's providers as the market."""
    columns = ["snapshot_date", "source", "model", "provider", "blended_usd_per_mtok", "input_usd_per_mtok",
               "output_usd_per_mtok"]  # fmt: skip
    rows = frame.loc[comparable(frame), columns]
    if carry_days:
        rows = carried_forward(rows, pd.DatetimeIndex(np.sort(rows["snapshot_date"].unique())), carry_days)
    prices = rows.groupby(["snapshot_date", "model", "provider"], as_index=False).agg(
        blended=("blended_usd_per_mtok", "median"),
        input=("input_usd_per_mtok", "median"),
        output=("output_usd_per_mtok", "median"),
    )
    return prices.assign(
        ref=_median_of_others(prices, "blended"),
        ref_input=_median_of_others(prices, "input"),
        ref_output=_median_of_others(prices, "output"),
        n_others=prices.groupby(DAY_MODEL)["provider"].transform("size") - 1,
    )


def _median_of_others(prices: pd.DataFrame, column: str) -> np.ndarray:
    """Per row, the median of `column` over the other rows of its (day, model) group; NaN for a lone row.

    Vectorised: in a group sorted by `column`, leaving out the row of rank r leaves m = n - 1 values whose
    median sits at positions (m - 1) // 2 and m // 2 of what is left; position p of what is left is sorted
    position p if p < r, else p + 1.
    """
    order = prices.sort_values([*DAY_MODEL, column], kind="stable")
    groups = order.groupby(DAY_MODEL, sort=False)
    n = groups[column].transform("size").to_numpy()
    rank = groups.cumcount().to_numpy()
    start = np.arange(len(order)) - rank
    values = order[column].to_numpy(dtype=float)
    m = n - 1
    low, high = (m - 1) // 2, m // 2
    defined = m >= 1
    median = np.full(len(order), np.nan)
    low_at = start + low + (low >= rank)
    high_at = start + high + (high >= rank)
    median[defined] = (values[low_at[defined]] + values[high_at[defined]]) / 2
    return pd.Series(median, index=order.index).reindex(prices.index).to_numpy()


def placeholder_reasons(frame: pd.DataFrame, catalog: pd.DataFrame, config: TrustConfig) -> pd.Series:
    """Per row: why its price is a placeholder, or ""."""
    reasons = no_reason(frame)
    block = ["snapshot_date", "source", "provider", "input_usd_per_mtok", "output_usd_per_mtok"]
    rows = frame.loc[comparable(frame), [*block, "model"]]
    rows = rows.assign(dense_b=rows["model"].map(dense_sizes(catalog)).astype(float))
    groups = rows.groupby(block)
    models = groups["model"].transform("nunique")
    smallest, largest = groups["dense_b"].transform("min"), groups["dense_b"].transform("max")
    hit = models.ge(config.placeholder_min_models) & largest.ge(config.placeholder_min_size_ratio * smallest)
    hits = rows[hit]
    reasons.loc[hits.index] = (
        "placeholder: "
        + hits["provider"]
        + " at "
        + fmt(hits["input_usd_per_mtok"], "{:g}")
        + "/"
        + fmt(hits["output_usd_per_mtok"], "{:g}")
        + " for "
        + models[hit].astype(str)
        + " models from "
        + fmt(smallest[hit], "{:g}B")
        + " to "
        + fmt(largest[hit], "{:g}B")
        + " in "
        + hits["source"]
    )
    return reasons


def unit_slip_and_outlier_reasons(
    frame: pd.DataFrame, reference: pd.DataFrame, config: TrustConfig, history: ListingHistory
) -> tuple[pd.Series, pd.Series]:
    """Per row: (why it is a unit slip, why it is an outlier), "" where not; a row is never both. `history`: the
    facts of the listings' whole history (`history.ListingHistory`)."""
    prices = ["input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"]
    rows = frame.loc[comparable(frame), ["snapshot_date", "model", "provider", "source", *prices]]
    judged = rows.join(
        reference.set_index(["snapshot_date", "model", "provider"])[["ref", "ref_input", "ref_output", "n_others"]],
        on=["snapshot_date", "model", "provider"],
    ).join(_same_provider_elsewhere(rows))
    slips = _far_from_reference(judged, config)
    per_character = _per_character(rows, history.per_character, config)
    slips = slips.mask(slips.eq(""), per_character.reindex(slips.index).fillna(""))
    slips = slips.mask(slips.eq(""), _spikes(frame, history.daily_changes, config).reindex(slips.index).fillna(""))
    unit_slip = no_reason(frame)
    unit_slip.loc[slips.index] = slips

    ratio = judged["blended_usd_per_mtok"] / judged["ref"]
    far = judged["n_others"].ge(config.outlier_min_other_providers) & (
        ratio.ge(config.outlier_factor) | ratio.le(1 / config.outlier_factor)
    )
    hits = judged[far & slips.eq("")]
    outlier = no_reason(frame)
    outlier.loc[hits.index] = (
        "outlier: "
        + fmt(hits["blended_usd_per_mtok"], "{:g}")
        + " vs median "
        + fmt(hits["ref"], "{:.3g}")
        + " of "
        + hits["n_others"].astype(int).astype(str)
        + " other providers (x"
        + fmt(ratio[hits.index], "{:.3g}")
        + ")"
    )
    return unit_slip, outlier


def _same_provider_elsewhere(rows: pd.DataFrame) -> pd.DataFrame:
    """Per row, the median input and output of the same provider and model that day in the *other* sources."""
    keys = ["snapshot_date", "model", "provider"]
    per_source = rows.groupby([*keys, "source"], as_index=False).agg(
        input=("input_usd_per_mtok", "median"), output=("output_usd_per_mtok", "median")
    )
    pairs = rows[[*keys, "source"]].reset_index().merge(per_source, on=keys, suffixes=("", "_other"))
    pairs = pairs[pairs["source"].ne(pairs["source_other"])]
    return pairs.groupby("index")[["input", "output"]].median().add_prefix("elsewhere_")


def _far_from_reference(judged: pd.DataFrame, config: TrustConfig) -> pd.Series:
    """Input and output both `unit_slip_factor` off the reference (one side may be a tenth of that: a free
    input, a rounded output); below the market only against enough rivals."""
    ref_input = judged["ref_input"].fillna(judged["elsewhere_input"])
    ref_output = judged["ref_output"].fillna(judged["elsewhere_output"])
    in_ratio, out_ratio = judged["input_usd_per_mtok"] / ref_input, judged["output_usd_per_mtok"] / ref_output
    f = config.unit_slip_factor
    high = (in_ratio.ge(f) & out_ratio.ge(f / 10)) | (out_ratio.ge(f) & in_ratio.ge(f / 10))
    low = (in_ratio.le(1 / f) & out_ratio.le(10 / f)) | (out_ratio.le(1 / f) & in_ratio.le(10 / f))
    far = high | (low & judged["n_others"].ge(config.outlier_min_other_providers))
    reasons = pd.Series("", index=judged.index, dtype=object)
    hits = judged[far]
    reasons.loc[hits.index] = (
        "unit slip: "
        + fmt(hits["input_usd_per_mtok"], "{:g}")
        + "/"
        + fmt(hits["output_usd_per_mtok"], "{:g}")
        + " vs reference "
        + fmt(ref_input[far], "{:.3g}")
        + "/"
        + fmt(ref_output[far], "{:.3g}")
        + " (x"
        + fmt(in_ratio[far], "{:.3g}")
        + ")"
    )
    return reasons


def _per_character(rows: pd.DataFrame, chars: pd.DataFrame, config: TrustConfig) -> pd.Series:
    """Rows whose per-token price equals a per-character price some source gives the model (any day: it is a
    fact about the model; `chars`: `history.ListingHistory.per_character`), e.g. genai-prices' Gemini 1.0 Pro
    at $0.125/$0.375 = LiteLLM's per-character price."""
    if chars.empty:
        return pd.Series(dtype=object)
    pairs = rows.reset_index().merge(chars, on="model", suffixes=("", "_stated"))
    tolerance = {"rtol": config.unit_match_rtol, "atol": 0}
    same = np.isclose(pairs["input_usd_per_mtok"], pairs["input_usd_per_mchar"], **tolerance) & np.isclose(
        pairs["output_usd_per_mtok"], pairs["output_usd_per_mchar"], **tolerance
    )
    hits = pairs[same].drop_duplicates("index").set_index("index")
    return (
        "unit slip: "
        + fmt(hits["input_usd_per_mtok"], "{:g}")
        + "/"
        + fmt(hits["output_usd_per_mtok"], "{:g}")
        + " per token = the per-character price in "
        + hits["source_stated"]
    )


def _spikes(frame: pd.DataFrame, changes: pd.DataFrame, config: TrustConfig) -> pd.Series:
    """Rows in a run of their listing's daily price that is `spike_factor` off the runs before and after it,
    which agree with each other within `spike_return_factor`. `changes`: the days each listing's daily price
    changed over its whole history (`history.ListingHistory.daily_changes`), so a run is judged by its
    neighbours even when they lie outside the frame's days."""
    key = list(DAILY_LISTING)
    runs = changes.rename(columns={"snapshot_date": "run"})
    by_listing = runs.groupby(key)["price"]
    before, after = by_listing.shift(1), by_listing.shift(-1)
    f, back = config.spike_factor, config.spike_return_factor
    off_before = runs["price"].ge(f * before) | (runs["price"] * f).le(before)
    off_after = runs["price"].ge(f * after) | (runs["price"] * f).le(after)
    came_back = after.le(back * before) & before.le(back * after)
    spikes = runs[off_before & off_after & came_back].assign(before=before, after=after)
    if spikes.empty:
        return pd.Series(dtype=object)
    rows = frame.loc[comparable(frame), [*key, "snapshot_date", "blended_usd_per_mtok"]].reset_index()
    rows = rows.assign(run=rows["snapshot_date"].astype("datetime64[ns]")).sort_values("run")
    starts = runs[key].assign(run=runs["run"].astype("datetime64[ns]"), run_start=runs["run"])
    in_run = pd.merge_asof(rows, starts.sort_values("run"), on="run", by=key, direction="backward")
    hits = in_run.merge(spikes[[*key, "run", "before", "after"]].rename(columns={"run": "run_start"}),
                        on=[*key, "run_start"])  # fmt: skip
    hits = hits.set_index("index")
    return (
        "unit slip: "
        + fmt(hits["blended_usd_per_mtok"], "{:g}")
        + " for a while, between "
        + fmt(hits["before"], "{:g}")
        + " and "
        + fmt(hits["after"], "{:g}")
        + " (a jump that came back)"
    )
