"""The models sources list, read from observations: which catalog model each listing is, and what is known of it.

A listing is the catalog model the matcher makes of its id and of the repo its source names (`model_hint`):
a curated model when either is known, else the normalized repo, else the normalized id (see
`ModelMatch.normalized`). Before a source named repos (OpenRouter's `hugging_face_id` appeared in May 2025),
a listing takes the first repo the same source later named for the same id, so that a model has one
identity, and one first day, across its whole history. (Observations landed before then keep the id's own
form in their `model` column until they are re-landed.)
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from llmprices.catalog.matcher import ModelMatch

#: The observation columns the catalog reads.
OBSERVED_COLUMNS = ["snapshot_date", "source", "provider", "provider_model_id", "model_hint"]
#: One row per model observed: its repo, every name it was listed under, when and where.
OBSERVED_MODEL_COLUMNS = ["model", "hf_repo", "names", "first_seen", "last_seen", "sources"]

Resolve = Callable[..., ModelMatch]


def with_repos(observations: pd.DataFrame) -> pd.DataFrame:
    """The observations with `repo`: the row's `model_hint`, else the first one its source gave the same id."""
    hints = observations["model_hint"].where(observations["model_hint"].fillna("") != "")
    named = observations.assign(hint=hints).dropna(subset=["hint"]).sort_values("snapshot_date", kind="stable")
    first = named.drop_duplicates(["source", "provider_model_id"]).set_index(["source", "provider_model_id"])["hint"]
    keys = pd.MultiIndex.from_frame(observations[["source", "provider_model_id"]])
    later = pd.Series(first.reindex(keys).to_numpy(), index=observations.index)
    return observations.assign(repo=hints.fillna(later))


def model_keys(observations: pd.DataFrame, resolve: Resolve) -> pd.Series:
    """The catalog model of every row of `with_repos(observations)`, resolved once per distinct listing."""
    listings = observations[["provider_model_id", "provider", "repo"]].fillna({"repo": ""})
    distinct = listings.drop_duplicates()
    matches = [
        resolve(model_id, provider=provider, hint=repo or None)
        for model_id, provider, repo in distinct.itertuples(index=False)
    ]
    distinct = distinct.assign(model=[match.model or match.normalized for match in matches])
    keyed = listings.merge(distinct, on=list(listings.columns), how="left", validate="many_to_one")
    return pd.Series(keyed["model"].to_numpy(), index=observations.index, dtype=object)


def observed_models(observations: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """Per catalog model (`keys`, aligned with `with_repos(observations)`): its latest repo, the names it was
    listed under (repos first, the creator's own spelling), first and last day seen and the sources."""
    if observations.empty:
        return pd.DataFrame(columns=OBSERVED_MODEL_COLUMNS)
    frame = observations.assign(model=keys).sort_values("snapshot_date", kind="stable")
    grouped = frame.groupby("model", sort=True)
    repos = grouped["repo"].agg(lambda s: list(dict.fromkeys(s.dropna())))
    ids = grouped["provider_model_id"].agg(lambda s: list(dict.fromkeys(s)))
    return pd.DataFrame(
        {
            "hf_repo": repos.map(lambda names: names[-1] if names else None),
            "names": [[*r, *i] for r, i in zip(repos, ids, strict=True)],
            "first_seen": grouped["snapshot_date"].min(),
            "last_seen": grouped["snapshot_date"].max(),
            "sources": grouped["source"].agg(lambda s: ",".join(sorted(set(s)))),
        }
    ).reset_index()[OBSERVED_MODEL_COLUMNS]
