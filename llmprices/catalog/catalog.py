"""The model catalog: curated facts per canonical model, completed (never overridden) from the Hub.

Curated rows come from model cards and carry their `source_url`; the Hub fills counts the curated
table leaves empty. Where both exist and differ by more than 10% the curated value stays and the
difference is reported, because it means either the card or our reading of the Hub is wrong.

`models.csv`, one row per canonical model: counts in billions, blank when not known (never guessed);
`params_active_b` may stay blank for dense models (it equals the total); `params_source` blank means
"curated"; `source_url` is the model card or announcement the row's facts come from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from llmprices.catalog.hf_params import DEFAULT_API_BASE, DEFAULT_FILES_BASE, HubParams, fetch_hub_params
from llmprices.catalog.matcher import MODELS_CSV
from llmprices.http import HttpClient

log = logging.getLogger(__name__)

CATALOG_COLUMNS = [
    "model",
    "family",
    "creator",
    "params_total_b",
    "params_active_b",
    "is_moe",
    "open_weights",
    "license",
    "release_date",
    "hf_repo",
    "params_source",
    "source_url",
]
#: relative difference between curated and Hub counts above which the pair is reported
DISAGREEMENT_THRESHOLD = 0.10


def load_curated(path: Path = MODELS_CSV) -> pd.DataFrame:
    """`models.csv` typed: counts in billions (Float64), flags nullable boolean, dates datetime64."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = set(CATALOG_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    if frame["model"].duplicated().any():
        raise ValueError(f"{path}: duplicate models {sorted(frame.loc[frame['model'].duplicated(), 'model'])}")
    for column in ("params_total_b", "params_active_b"):
        frame[column] = pd.to_numeric(frame[column]).astype("Float64")
    for column in ("is_moe", "open_weights"):
        frame[column] = frame[column].str.lower().map({"true": True, "false": False}).astype("boolean")
    frame["release_date"] = pd.to_datetime(frame["release_date"], format="%Y-%m-%d")
    frame.loc[frame["params_total_b"].notna() & frame["params_source"].isna(), "params_source"] = "curated"
    return _dense_active(frame[CATALOG_COLUMNS])


def _dense_active(frame: pd.DataFrame) -> pd.DataFrame:
    """A dense model uses every parameter for every token: its active count is its total."""
    dense = frame["is_moe"].eq(False) & frame["params_active_b"].isna()
    frame.loc[dense, "params_active_b"] = frame.loc[dense, "params_total_b"]
    return frame


def merge_hub_params(curated: pd.DataFrame, hub: Iterable[HubParams]) -> tuple[pd.DataFrame, list[dict]]:
    """(catalog, disagreements): Hub values fill the curated table's gaps, matched on `hf_repo`.

    Each disagreement is `{model, hf_repo, field, curated, hub, relative_difference, hub_source}`.
    """
    catalog = curated.copy()
    by_repo = {params.repo.lower(): params for params in hub}
    disagreements = []
    for index, row in catalog.iterrows():
        params = by_repo.get(str(row["hf_repo"]).lower())
        if params is None:
            continue
        for field in ("params_total_b", "params_active_b"):
            theirs, ours = getattr(params, field), row[field]
            if theirs is None:
                continue
            if pd.isna(ours):
                catalog.at[index, field] = theirs
                if field == "params_total_b":
                    catalog.at[index, "params_source"] = params.params_source
            elif abs(theirs - ours) > DISAGREEMENT_THRESHOLD * ours:
                disagreements.append(
                    {
                        "model": row["model"],
                        "hf_repo": row["hf_repo"],
                        "field": field,
                        "curated": float(ours),
                        "hub": theirs,
                        "relative_difference": round((theirs - ours) / ours, 3),
                        "hub_source": params.params_source,
                    }
                )
        for field, value in (("is_moe", params.is_moe), ("license", params.license)):
            if pd.isna(row[field]) and value is not None:
                catalog.at[index, field] = value
        if pd.isna(row["release_date"]) and params.created:
            catalog.at[index, "release_date"] = pd.Timestamp(params.created)
    return _dense_active(catalog), disagreements


def build_catalog(
    http: HttpClient | None = None,
    *,
    api_base: str = DEFAULT_API_BASE,
    files_base: str = DEFAULT_FILES_BASE,
    give_up_after: int = 5,
) -> tuple[pd.DataFrame, list[dict]]:
    """The curated table, enriched from the Hub for every open-weight row with a repo when a client is given.

    Stops asking after `give_up_after` repos in a row got no answer at all: the Hub is unreachable, and
    hundreds of timeouts would only delay the curated catalog.
    """
    curated = load_curated()
    if http is None:
        return curated, []
    repos = curated.loc[curated["open_weights"].fillna(False) & curated["hf_repo"].notna(), "hf_repo"]
    hub, silent_in_a_row = [], 0
    for repo in repos:
        params = fetch_hub_params(http, repo, api_base=api_base, files_base=files_base)
        for note in params.notes:
            log.warning("%s: %s", repo, note)
        silent_in_a_row = silent_in_a_row + 1 if len(params.notes) >= 2 and params.params_total_b is None else 0
        if silent_in_a_row >= give_up_after:
            log.warning("the Hub did not answer for %d repos in a row; keeping curated values only", give_up_after)
            break
        hub.append(params)
    return merge_hub_params(curated, hub)
