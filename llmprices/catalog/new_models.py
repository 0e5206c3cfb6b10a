"""The models sources list for the first time on a day, with how they were sized, and the priced models the
catalog still cannot size.

A model is new on a day when no source listed it before and at least one source that lists it that day
had listed anything before: a lake's first day, or a source's first day in the lake, would otherwise
report everything it lists as new.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from llmprices.catalog.hub_cache import HubAnswers
from llmprices.lake.tables import NEW_MODELS

#: The observation columns these read, besides `observed.OBSERVED_COLUMNS`.
PRICE_COLUMNS = ["input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok", "is_free"]
_FROM_CATALOG = ["model", "hf_repo", "open_weights", "params_total_b", "params_active_b", "params_vision_b",
                 "params_effective_b", "is_moe", "params_source", "name_token", "curated"]  # fmt: skip
_LISTING = ["source", "provider", "provider_model_id", *PRICE_COLUMNS[:3]]


def new_models_of_day(
    catalog: pd.DataFrame, first_day_of_source: pd.Series, today: pd.DataFrame, day: date, answers: HubAnswers
) -> pd.DataFrame:
    """The `new_models/` rows of `day`: catalog models first seen that day, each with the day's sources and
    providers and its cheapest paid listing (a free one if none is paid). `today`: the day's observations with
    their catalog `model`; `first_day_of_source`: each source's first day in the lake."""
    known_sources = today[today["source"].map(first_day_of_source) < day]
    fresh = catalog[(catalog["first_seen"] == day) & catalog["model"].isin(set(known_sources["model"]))]
    if fresh.empty:
        return pd.DataFrame(columns=NEW_MODELS.schema.names)
    listings = today[today["model"].isin(set(fresh["model"]))].sort_values(
        ["is_free", "blended_usd_per_mtok", "source", "provider", "provider_model_id"]
    )
    grouped = listings.groupby("model")
    rows = fresh[_FROM_CATALOG].merge(listings.drop_duplicates("model")[["model", *_LISTING]], on="model")
    rows["sources"] = rows["model"].map(grouped["source"].agg(lambda s: ",".join(sorted(set(s)))))
    rows["providers"] = rows["model"].map(grouped["provider"].agg(lambda s: ",".join(sorted(set(s)))))
    rows["hub_asked"] = [isinstance(repo, str) and answers.asked(repo) for repo in rows["hf_repo"]]
    return rows[NEW_MODELS.schema.names].sort_values("model", ignore_index=True)


def repos_new_to_the_hub(catalog: pd.DataFrame, since: date, answers: HubAnswers) -> list[str]:
    """The repos of open-weight models seen since `since` that the curated table does not size and the Hub
    was never asked about: what a day's new models need asked at once (the catalog refresh asks the rest)."""
    seen = catalog["last_seen"].map(lambda day: isinstance(day, date) and day >= since)
    open_weights = catalog["open_weights"].astype("boolean").fillna(False).astype(bool)
    uncurated = ~(catalog["curated"].astype(bool) & catalog["params_source"].eq("curated"))
    repos = catalog.loc[seen & open_weights & uncurated & catalog["hf_repo"].notna(), "hf_repo"]
    return [repo for repo in repos if not answers.asked(repo)]


def unsized_priced(catalog: pd.DataFrame, day_rows: pd.DataFrame, day_keys: pd.Series, answers: HubAnswers):
    """Open-weight models with a paid price in `day_rows` (their catalog models in `day_keys`) and no size
    although the Hub was asked about their repo, or there is no repo to ask: what no rule could size.
    Models whose repo the Hub was not asked about yet are not listed (offline runs do not ask)."""
    paid = set(day_keys[~day_rows["is_free"].astype(bool) & (day_rows["blended_usd_per_mtok"] > 0)])
    open_weights = catalog["open_weights"].astype("boolean").fillna(False).astype(bool)
    unsized = catalog[catalog["model"].isin(paid) & open_weights & catalog["params_total_b"].isna()]
    asked = [not isinstance(repo, str) or answers.asked(repo) for repo in unsized["hf_repo"]]
    return unsized.loc[asked, ["model", "hf_repo", "sources"]].reset_index(drop=True)
