"""A model's price per provider over time, from `provider_prices` (one price per provider and canonical model a
day, the source that speaks for it): the days, the stretches at one price, and a chart.

A model can be named as people write it (`Llama-3.1-70B`): the catalog's matcher resolves it, and a name it
does not know resolves to the one priced model whose id contains it.
"""

from __future__ import annotations

import difflib
import re
from datetime import date

import pandas as pd
from matplotlib import colormaps, ticker
from matplotlib import dates as mdates

from llmprices.analysis.spreads import spread_prices
from llmprices.catalog.matcher import resolve
from llmprices.lake.query import LakeConnection
from llmprices.report.figures import figure, png

PRICE_COLUMNS = ["input", "output", "blended"]


def resolve_model(con: LakeConnection, text: str) -> str:
    """The canonical model `text` names among the models `provider_prices` holds; LookupError saying which
    models it could be otherwise."""
    models = [model for (model,) in con.sql("select distinct model from provider_prices order by 1").fetchall()]
    if text in models:
        return text
    match = resolve(text)
    if match.model in models:
        return match.model
    key = _key(match.normalized)
    candidates = [model for model in models if key and key in _key(model)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        listed = ", ".join(candidates[:8]) + (f" and {len(candidates) - 8} more" if len(candidates) > 8 else "")
        raise LookupError(f"{text!r} could be {listed}: name one")
    close = difflib.get_close_matches(match.model or match.normalized, models, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else f" ({len(models)} models have prices)"
    raise LookupError(f"no provider prices for {text!r}{hint}")


def _key(name: str) -> str:
    """Letters and digits only: `llama-3.1-70b` -> `llama3170b`, found in `meta-llama/llama-3.1-70b-instruct`."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def provider_history(
    con: LakeConnection, model: str, providers: list[str] | None = None, since: date | None = None
) -> pd.DataFrame:
    """One row per day and provider pricing `model` (USD per million tokens): snapshot_date, provider, source,
    input, output, blended; optionally only some providers, from a day on. A provider's price on a day is the one
    its spread counts (`spread_prices`: trusted, full precision, paid, the cheapest of its variants), not one of
    its FP8 or turbo builds."""
    query = """
        select * from provider_prices
        where model = $model and ($providers is null or list_contains($providers, provider))
              and ($since is null or snapshot_date >= $since)
    """
    rows = con.sql(query, {"model": model, "providers": providers or None, "since": since}).df()
    prices = spread_prices(rows)
    return prices.drop(columns="model").sort_values(["snapshot_date", "provider"], ignore_index=True)


def price_stretches(history: pd.DataFrame) -> pd.DataFrame:
    """Per provider, each stretch of its priced days at one price, in order: provider, from, to, days, input,
    output, blended, source. A year of daily prices reads as the handful of times each provider changed."""
    rows = []
    for provider, days in history.sort_values("snapshot_date").groupby("provider", sort=True):
        changed = days[["input", "output"]].ne(days[["input", "output"]].shift()).any(axis=1).cumsum()
        for _, stretch in days.groupby(changed, sort=True):
            first, last = stretch.iloc[0], stretch.iloc[-1]
            span = {"from": _day(first["snapshot_date"]), "to": _day(last["snapshot_date"]), "days": len(stretch)}
            prices = {column: first[column] for column in PRICE_COLUMNS}
            rows.append({"provider": provider, **span, **prices, "source": last["source"]})
    columns = ["provider", "from", "to", "days", *PRICE_COLUMNS, "source"]
    return pd.DataFrame(rows, columns=columns)


def _day(value) -> date:
    return pd.Timestamp(value).date()


def history_chart(history: pd.DataFrame, model: str) -> bytes:
    """Each provider's blended price over time as a step line (a price holds until it changes), the legend in
    the order of their latest prices, on a log axis when the prices span more than 10x."""
    fig = figure(10.0, 5.5)
    ax = fig.add_subplot()
    ordered = history.sort_values("snapshot_date")
    latest = ordered.groupby("provider")["blended"].last().sort_values(ascending=False, kind="stable")
    colors = colormaps["tab20"].colors
    for i, provider in enumerate(latest.index):
        days = ordered[ordered["provider"] == provider]
        ax.step(pd.to_datetime(days["snapshot_date"]), days["blended"], where="post", marker="o", markersize=3,
                color=colors[i % len(colors)], label=f"{provider} ({latest[provider]:g})")  # fmt: skip
    positive = history.loc[history["blended"] > 0, "blended"]
    if len(positive) and positive.max() > 10 * positive.min():
        ax.set_yscale("log")
    plain = ticker.FuncFormatter(lambda value, _: f"{value:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.tick_params(axis="y", which="minor", labelsize=7)
    span = pd.to_datetime(history["snapshot_date"]).agg(["min", "max"]) if len(history) else None
    if span is not None and (span["max"] - span["min"]).days <= 14:
        ax.xaxis.set_major_locator(mdates.DayLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.set_ylabel("USD per million tokens (3:1 blend)")
    ax.set_title(f"{model}: price per provider (legend: latest price)", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.autofmt_xdate()
    return png(fig)
