"""What the trust rules know of every listing's whole history: the few facts a day's flags depend on beyond the
days around it, gathered from the lake a week at a time.

Most rules compare a row with rows of its own day, or of the days a capture stands for (`carry_days`, the
router copies' `copy_lookback_days`). Four look further, at days long before or after:
- `stale` rule 1: each source's *latest* statement of a listing's deprecation (`deprecations`);
- `stale` rule 3: the days each source captured, the days an exact-id source listed each provider, and the last
  day it listed each of a provider's models (`snapshots`, `covering`, `last_listed`);
- `price_since` (read by `stale` rule 3 and the reconciliation): the days each listing's price changed
  (`price_changes`);
- `unit_slip`: the days a listing's daily price changed (`daily_changes`: a jump that came back) and the
  per-character prices any source gives a model (`per_character`).
These facts grow with listings and price changes, not with rows: the assets judge a month of days from that
month's observations (and a lead-in) plus these facts, never the lake in one frame, and the flags are the same
as over the whole history at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from llmprices.sources.base import RESALE
from llmprices.trust.config import TrustConfig
from llmprices.trust.copies import ROUTER_LIST_SOURCES, router_copy_reasons
from llmprices.trust.frames import DAILY_LISTING, LISTING, comparable, prepare
from llmprices.trust.stale import EXACT_ID_SOURCES, api_ids

#: Landed days of observations `gather_history` holds at a time: about 1M rows at 100x today's load.
GATHER_DAYS = 7
#: The observation columns the rules read.
TRUST_COLUMNS = [
    "snapshot_date", "source", "provider", "provider_model_id", "variant", "model", "model_variant", "model_matched",
    "input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok", "quantization", "is_free", "offer_kind",
    "deprecation_date", "input_usd_per_mchar", "output_usd_per_mchar", "router_id_share",
]  # fmt: skip


@dataclass(frozen=True)
class ListingHistory:
    """The facts, each a small frame (see the module's docstring)."""

    #: source, provider, api_id, day, date: each (source, provider, API id)'s latest statement (date NaT: none)
    deprecations: pd.DataFrame
    #: source, snapshot_date: the days each source was captured
    snapshots: pd.DataFrame
    #: source, provider, snapshot_date: the days an exact-id source listed a provider's matched models
    covering: pd.DataFrame
    #: source, provider, model, model_variant, last_listed
    last_listed: pd.DataFrame
    #: LISTING, snapshot_date: the days a listing's "input/output" price changed (its first day included)
    price_changes: pd.DataFrame
    #: DAILY_LISTING, snapshot_date, price: the days a listing's daily median blended price changed, and to what
    daily_changes: pd.DataFrame
    #: model, source, input_usd_per_mchar, output_usd_per_mchar: the first source to state each such price
    per_character: pd.DataFrame

    @classmethod
    def of(cls, frame: pd.DataFrame) -> ListingHistory:
        """The facts of a frame that holds all the history there is (prepared, router copies marked)."""
        return combined([_facts_of(frame)])


def with_copies_marked(frame: pd.DataFrame, open_weight_models: set[str], config: TrustConfig) -> pd.DataFrame:
    """A prepared frame with curated copies of a router's price marked resale (`copies`), their reasons in
    `copy_reason`."""
    copies = router_copy_reasons(frame, open_weight_models, config)
    return frame.assign(offer_kind=frame["offer_kind"].mask(copies.ne(""), RESALE), copy_reason=copies)


def gather_history(
    lake: Lake, open_weight_models: set[str], config: TrustConfig, last_day: date | None = None
) -> ListingHistory:
    """The facts of every observation in the lake (up to `last_day`), read `GATHER_DAYS` days at a time."""
    return combined(_facts_of(span) for span in _spans_of(lake, open_weight_models, config, last_day))


def _spans_of(lake: Lake, open_weight_models: set[str], config: TrustConfig, last_day: date | None) -> Iterator:
    """The observations, `GATHER_DAYS` landed days at a time, prepared and with router copies marked (a copy is
    matched with the router's capture of up to `copy_lookback_days` before: those are read too)."""
    days = sorted(date.fromisoformat(d) for d in lake.partition_values(OBSERVATIONS))
    days = [day for day in days if last_day is None or day <= last_day]
    for at in range(0, len(days), GATHER_DAYS):
        first, last = days[at], days[min(at + GATHER_DAYS, len(days)) - 1]
        before = first - timedelta(days=1)
        lookback = read_observations(lake, first - timedelta(days=config.copy_lookback_days), before,
                                     sources=sorted(ROUTER_LIST_SOURCES), columns=TRUST_COLUMNS)  # fmt: skip
        span = read_observations(lake, first, last, columns=TRUST_COLUMNS)
        marked = with_copies_marked(prepare(pd.concat([lookback, span], ignore_index=True)), open_weight_models, config)
        yield marked[marked["snapshot_date"].ge(pd.Timestamp(first))]


def _facts_of(frame: pd.DataFrame) -> ListingHistory:
    """The facts of one stretch of consecutive days (a month, or all of them)."""
    ordered = frame.sort_values("snapshot_date", kind="stable")
    deprecations = (
        pd.DataFrame(
            {
                "source": ordered["source"],
                "provider": ordered["provider"],
                "api_id": api_ids(ordered),
                "day": ordered["snapshot_date"],
                "date": ordered["deprecation_date"],
            }
        )
        .groupby(["source", "provider", "api_id"])
        .tail(1)
    )
    exact = frame[frame["source"].isin(EXACT_ID_SOURCES) & frame["offer_kind"].ne(RESALE) & frame["model_matched"]]
    stated = frame[frame["input_usd_per_mchar"].gt(0) & frame["output_usd_per_mchar"].notna()]
    per_character = ["model", "source", "input_usd_per_mchar", "output_usd_per_mchar"]
    return ListingHistory(
        deprecations=deprecations,
        snapshots=frame[["source", "snapshot_date"]].drop_duplicates(),
        covering=exact[["source", "provider", "snapshot_date"]].drop_duplicates(),
        last_listed=_last_listed(exact),
        price_changes=_changes(ordered[[*LISTING, "snapshot_date"]].assign(price=_price_text(ordered)), LISTING),
        daily_changes=_changes(_daily_prices(frame), DAILY_LISTING),
        per_character=stated[per_character].drop_duplicates(["model", "input_usd_per_mchar", "output_usd_per_mchar"]),
    )


def combined(parts: Iterable[ListingHistory]) -> ListingHistory:
    """The facts of consecutive stretches of days, given in order, as those of all their days at once."""
    parts = list(parts)
    if not parts:
        return ListingHistory.of(prepare(pd.DataFrame(columns=TRUST_COLUMNS)))

    def concat(name: str) -> pd.DataFrame:
        return pd.concat([getattr(part, name) for part in parts], ignore_index=True)

    deprecations = concat("deprecations").sort_values("day", kind="stable")
    last_listed = concat("last_listed")
    return ListingHistory(
        deprecations=deprecations.groupby(["source", "provider", "api_id"]).tail(1).reset_index(drop=True),
        snapshots=concat("snapshots").drop_duplicates(ignore_index=True),
        covering=concat("covering").drop_duplicates(ignore_index=True),
        last_listed=_last_listed(last_listed.rename(columns={"last_listed": "snapshot_date"})),
        price_changes=_changes(concat("price_changes"), LISTING),
        daily_changes=_changes(concat("daily_changes"), DAILY_LISTING),
        per_character=concat("per_character").drop_duplicates(
            ["model", "input_usd_per_mchar", "output_usd_per_mchar"], ignore_index=True
        ),
    )


def _price_text(frame: pd.DataFrame) -> pd.Series:
    """A listing's price as one comparable value (missing prices compare equal to each other)."""
    return frame["input_usd_per_mtok"].astype(str) + "/" + frame["output_usd_per_mtok"].astype(str)


def _daily_prices(frame: pd.DataFrame) -> pd.DataFrame:
    """The median blended price of each comparable listing each day it is listed."""
    rows = frame.loc[comparable(frame), [*DAILY_LISTING, "snapshot_date", "blended_usd_per_mtok"]]
    daily = rows.groupby([*DAILY_LISTING, "snapshot_date"], as_index=False)["blended_usd_per_mtok"].median()
    return daily.rename(columns={"blended_usd_per_mtok": "price"})


def _changes(points: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The rows of (key, snapshot_date, price) whose price differs from the key's previous row: the days each
    price began."""
    ordered = points.sort_values([*key, "snapshot_date"], kind="stable", ignore_index=True)
    price = ordered["price"]
    changed = price.ne(price.groupby([ordered[column] for column in key]).shift())
    return ordered[changed].reset_index(drop=True)


def _last_listed(rows: pd.DataFrame) -> pd.DataFrame:
    keys = ["source", "provider", "model", "model_variant"]
    return rows.groupby(keys, as_index=False)["snapshot_date"].max().rename(columns={"snapshot_date": "last_listed"})
