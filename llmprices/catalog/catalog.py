"""The model catalog: one row per model curated or observed, sized curated > Hub > name.

`models.csv` is the override table: facts from model cards, each row with its `source_url`; counts in
billions, blank when not known (never guessed); `params_active_b` may stay blank for dense models (it equals
the total); `params_source` blank means "curated". It needs no row per model any more: every model a
source lists (`observed`) gets a row, sized by the Hugging Face Hub for the repo its source names
(`hf_params`, answers kept in the lake by `hub_cache`), else by what its name says (`name_sizes`). Each
size field takes the first of curated, Hub and name that has it; `params_source` says where the total
came from. Where the curated table and the Hub differ by more than 10% the curated value stays and the
difference is reported, because it means either the card or our reading of the Hub is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from llmprices.catalog.hf_params import HubParams
from llmprices.catalog.matcher import MODELS_CSV
from llmprices.catalog.matcher import resolve as default_resolve
from llmprices.catalog.name_sizes import NameSize, size_from_names
from llmprices.catalog.observed import OBSERVED_MODEL_COLUMNS, Resolve, model_keys, observed_models, with_repos
from llmprices.lake.tables import CATALOG

#: The columns of `models.csv`.
CURATED_COLUMNS = [
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
CATALOG_COLUMNS = CATALOG.schema.names
#: relative difference between curated and Hub counts above which the pair is reported
DISAGREEMENT_THRESHOLD = 0.10


def load_curated(path: Path = MODELS_CSV) -> pd.DataFrame:
    """`models.csv` typed: counts in billions (Float64), flags nullable boolean, dates datetime64."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = set(CURATED_COLUMNS) - set(frame.columns)
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
    return _dense_active(frame[CURATED_COLUMNS])


def _dense_active(frame: pd.DataFrame) -> pd.DataFrame:
    """A dense model uses every parameter for every token: its active count is its total."""
    dense = frame["is_moe"].eq(False) & frame["params_active_b"].isna()
    frame.loc[dense, "params_active_b"] = frame.loc[dense, "params_total_b"]
    return frame


@dataclass(frozen=True)
class ObservedCatalog:
    """The catalog of some observations, and the catalog model of each of their rows (`keys`)."""

    catalog: pd.DataFrame
    keys: pd.Series
    disagreements: list[dict]


def catalog_from_observations(
    observations: pd.DataFrame,
    hub: Mapping[str, HubParams],
    curated: pd.DataFrame | None = None,
    resolve: Resolve = default_resolve,
) -> ObservedCatalog:
    """The catalog of every curated model and every model of `observations` (`observed.OBSERVED_COLUMNS`);
    `curated` and `resolve` default to the shipped table and matcher."""
    curated = load_curated() if curated is None else curated
    observations = with_repos(observations)
    keys = model_keys(observations, resolve)
    catalog, disagreements = build_catalog(curated, observed_models(observations, keys), hub)
    return ObservedCatalog(catalog, keys, disagreements)


def repos_to_ask(catalog: pd.DataFrame) -> list[str]:
    """The repos of the catalog's open-weight models: what the Hub is asked about."""
    open_weights = catalog["open_weights"].astype("boolean").fillna(False).astype(bool)
    return catalog.loc[open_weights & catalog["hf_repo"].notna(), "hf_repo"].tolist()


def build_catalog(
    curated: pd.DataFrame, observed: pd.DataFrame, hub: Mapping[str, HubParams]
) -> tuple[pd.DataFrame, list[dict]]:
    """(catalog, disagreements): every curated model and every observed one (`observed.observed_models`),
    sized from the curated row, the Hub's answer for its repo (`hub`, keyed by lower-case repo), then its names.

    Each disagreement is `{model, hf_repo, field, curated, hub, relative_difference, hub_source}`.
    """
    known = curated.set_index("model")
    seen = observed.set_index("model") if len(observed) else pd.DataFrame(columns=OBSERVED_MODEL_COLUMNS[1:])
    rows, disagreements = [], []
    for model in sorted(set(known.index) | set(seen.index)):
        row = known.loc[model] if model in known.index else None
        sighting = seen.loc[model] if model in seen.index else None
        repo = first_known(
            row["hf_repo"] if row is not None else None, sighting["hf_repo"] if sighting is not None else None
        )
        answer = hub.get(repo.lower()) if repo else None
        names = [repo, *(sighting["names"] if sighting is not None else []), model]
        rows.append(_catalog_row(model, row, sighting, repo, answer, size_from_names(*names)))
        if row is not None and answer is not None:
            disagreements += _disagreements(model, row, answer)
    catalog = pd.DataFrame(rows, columns=CATALOG_COLUMNS)
    catalog["release_date"] = pd.to_datetime(catalog["release_date"])
    return catalog, disagreements


def first_known(*values):
    """The first value that is not missing (None, NaN, NA), as a Python scalar (not numpy's), else None."""
    found = next((value for value in values if value is not None and not pd.isna(value)), None)
    return found.item() if isinstance(found, np.generic) else found


def _catalog_row(
    model: str, row: pd.Series | None, sighting: pd.Series | None, repo: str | None, answer: HubParams | None,
    name: NameSize | None,
) -> dict:  # fmt: skip
    """One catalog row: each field from the curated row, else the Hub's answer, else the name."""
    curated = row if row is not None else pd.Series(dtype=object)
    hub = answer if answer is not None and answer.params_total_b is not None else None
    name_total = name.total_b if name else None
    total = first_known(curated.get("params_total_b"), hub.params_total_b if hub else None, name_total)
    if total is None:
        source = None
    elif pd.notna(curated.get("params_total_b")):
        source = curated["params_source"]
    elif hub is not None:
        source = hub.params_source
    else:
        source = "name (estimate)" if name.estimated else "name"
    is_moe = first_known(curated.get("is_moe"), answer.is_moe if answer else None, name.is_moe if name else None)
    active = first_known(
        curated.get("params_active_b"), hub.params_active_b if hub else None, name.active_b if name else None
    )
    if active is None and is_moe is False:
        active = total
    open_weights = first_known(curated.get("open_weights"), True if repo else None)
    effective = first_known(hub.params_effective_b if hub else None, name_total if name and name.effective else None)
    return {
        "model": model,
        "family": curated.get("family"),
        "creator": first_known(curated.get("creator"), model.partition("/")[0] if "/" in model else None),
        "params_total_b": total,
        "params_active_b": active,
        "is_moe": is_moe,
        "open_weights": open_weights,
        "license": first_known(curated.get("license"), answer.license if answer else None),
        "release_date": first_known(curated.get("release_date"), answer.created if answer else None),
        "hf_repo": repo,
        "params_source": source,
        "source_url": curated.get("source_url"),
        "params_vision_b": hub.params_vision_b if hub else None,
        "params_effective_b": effective,
        "name_token": name.token if name else None,
        "curated": row is not None,
        "first_seen": sighting["first_seen"] if sighting is not None else None,
        "last_seen": sighting["last_seen"] if sighting is not None else None,
        "sources": sighting["sources"] if sighting is not None else None,
    }


def _disagreements(model: str, row: pd.Series, answer: HubParams) -> list[dict]:
    """Where the curated row and the Hub both have a count and differ by more than the threshold."""
    found = []
    for field in ("params_total_b", "params_active_b"):
        theirs, ours = getattr(answer, field), row[field]
        if theirs is not None and pd.notna(ours) and abs(theirs - ours) > DISAGREEMENT_THRESHOLD * ours:
            found.append(
                {
                    "model": model,
                    "hf_repo": row["hf_repo"],
                    "field": field,
                    "curated": float(ours),
                    "hub": theirs,
                    "relative_difference": round((theirs - ours) / ours, 3),
                    "hub_source": answer.params_source,
                }
            )
    return found
