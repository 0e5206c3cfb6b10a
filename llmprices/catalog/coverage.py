"""How much of the observed data the catalog can name and size, measured reproducibly.

Analyses that group by canonical model silently drop what the matcher cannot resolve, and trends and MoE
placement only see sized models, so both shares are measured: per source over the lake (`unmatched_models`),
and over the real OpenRouter history for the open-weight text models, which are what the price-vs-size
analyses are about (`llmprices coverage`). "Rules alone" measures the sizing rules without the curated
sizes they can reproduce: `models.csv` reduced to the models whose name gives no size (or a different one).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from llmprices.catalog.catalog import catalog_from_observations, first_known, load_curated, repos_to_ask
from llmprices.catalog.hf_params import DEFAULT_API_BASE, DEFAULT_FILES_BASE, HubParams
from llmprices.catalog.hub_cache import HubAnswers, ask_hub
from llmprices.catalog.matcher import Matcher, default_matcher, read_aliases
from llmprices.catalog.name_sizes import agrees, size_from_names, sizes_from_name
from llmprices.http import HttpClient

#: What sized a row, by the catalog's `params_source`.
SIZED_BY = {"curated": "curated", "hub safetensors": "hub", "computed from config": "hub", "name": "name",
            "name (estimate)": "name"}  # fmt: skip


def coverage_by_source(listings: pd.DataFrame) -> pd.DataFrame:
    """Per `source`: rows, matched rows, share matched and distinct unmatched ids, from counted listings
    (`listings.count_listings`: `source`, `provider_model_id`, `model_matched`, `rows`)."""
    matched = listings["model_matched"].astype(bool)
    rows = listings["rows"].groupby(listings["source"], sort=True).sum()
    result = pd.DataFrame(
        {"rows": rows, "matched": listings["rows"].where(matched, 0).groupby(listings["source"]).sum()}
    )
    result["share"] = result["matched"] / result["rows"]
    unmatched = listings[~matched].groupby("source")["provider_model_id"].nunique()
    result["unmatched_ids"] = unmatched.reindex(result.index, fill_value=0)
    return result.reset_index()


def _outputs_text(architecture: dict | None) -> bool:
    architecture = architecture or {}
    outputs = architecture.get("output_modalities")
    if outputs:
        return "text" in outputs
    return "text" in str(architecture.get("modality") or "").partition("->")[2]


def openrouter_rows(payload_dir: Path) -> pd.DataFrame:
    """One row per model per day of `openrouter-models/*.json.gz`: day, id, hint, outputs_text."""
    rows = []
    for path in sorted(Path(payload_dir).glob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            models = json.load(handle)["data"]
        day = path.name.removesuffix(".json.gz")
        for model in models:
            hint = model.get("hugging_face_id") or None
            rows.append((day, model["id"], hint, _outputs_text(model.get("architecture"))))
    return pd.DataFrame(rows, columns=["day", "id", "hugging_face_id", "outputs_text"])


@dataclass(frozen=True)
class Curation:
    """The curated table and the matcher built from it (with the aliases of its models)."""

    curated: pd.DataFrame
    matcher: Matcher

    @classmethod
    def shipped(cls) -> Curation:
        return cls(load_curated(), default_matcher())

    def rules_alone(self) -> Curation:
        """Only the curated models whose size their names cannot give: no size in the name, a name that
        disagrees with the curated size, or a MoE whose name gives no active count; their aliases only."""
        kept = self.curated[[_name_cannot_size(row) for row in self.curated.itertuples(index=False)]]
        aliases = {alias: model for alias, model in read_aliases().items() if model in set(kept["model"])}
        repos = kept["hf_repo"].astype(object).where(kept["hf_repo"].notna(), None)
        return Curation(kept.reset_index(drop=True), Matcher.from_rows(zip(kept["model"], repos, strict=True), aliases))


def _name_cannot_size(row) -> bool:
    name = size_from_names(row.hf_repo if isinstance(row.hf_repo, str) else None, row.model)
    if name is None or name.total_b is None:
        return True
    if pd.isna(row.params_total_b):
        return False  # the name gives a size the curated row does not
    verdict = agrees(name, float(row.params_total_b), None if pd.isna(row.params_active_b) else row.params_active_b)
    moe = pd.notna(row.is_moe) and bool(row.is_moe)
    active_given = verdict["active"] is True or (not moe and name.active_b is None)
    return not (verdict["total"] and active_given)


def open_weight_text_rows(payload_dir: Path) -> pd.DataFrame:
    """The open-weight text-model rows of `openrouter-models/*.json.gz` as observations of the `openrouter`
    source: rows whose id, `:free`-style suffix stripped, is listed with a non-empty `hugging_face_id` on any
    day, and whose architecture outputs text (`output_modalities` contains "text", or, before that field
    existed, `modality` has text after "->")."""
    frame = openrouter_rows(payload_dir)
    base_id = frame["id"].str.split(":", n=1).str[0]
    open_weight_ids = set(base_id[frame["hugging_face_id"].notna()])
    selected = frame[base_id.isin(open_weight_ids) & frame["outputs_text"]]
    return pd.DataFrame(
        {
            "snapshot_date": selected["day"],
            "source": "openrouter",
            "provider": "openrouter",
            "provider_model_id": selected["id"],
            "model_hint": selected["hugging_face_id"],
        }
    ).reset_index(drop=True)


def sized_rows(rows: pd.DataFrame, curation: Curation, hub: Mapping[str, HubParams] | None = None) -> pd.DataFrame:
    """Per observation row: its catalog `model`, whether that is `matched` (a curated model), what sized it
    (`sized_by`: curated, hub, name or None), `is_moe`, and whether a MoE has `both` total and active."""
    observed = catalog_from_observations(rows, hub or {}, curation.curated, curation.matcher.resolve)
    catalog = observed.catalog.set_index("model")
    models = observed.keys
    is_moe = models.map(catalog["is_moe"]).astype("boolean").fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "day": rows["snapshot_date"],
            "id": rows["provider_model_id"],
            "model": models,
            "matched": models.isin(set(curation.curated["model"])),
            "sized_by": models.map(catalog["params_source"]).map(SIZED_BY),
            "is_moe": is_moe,
            "both": models.map(catalog["params_total_b"]).notna() & models.map(catalog["params_active_b"]).notna(),
        }
    )


def summarize(rows: pd.DataFrame, top: int = 20) -> dict:
    """The coverage figures of `sized_rows`: over all days, per day (worst), the newest day, and MoE rows."""
    sized = rows["sized_by"].notna()
    per_day = sized.groupby(rows["day"]).mean()
    newest = rows["day"] == rows["day"].max()
    moe = rows["is_moe"]
    return {
        "days": int(rows["day"].nunique()),
        "rows": len(rows),
        "matched": int(rows["matched"].sum()),
        "sized": int(sized.sum()),
        "sized_by": {how: int((rows["sized_by"] == how).sum()) for how in ("curated", "hub", "name")},
        "worst_day": str(per_day.idxmin()) if len(rows) else None,
        "worst_day_share": float(per_day.min()) if len(rows) else 0.0,
        "days_below_90": int((per_day < 0.9).sum()),
        "newest_day": str(rows["day"].max()) if len(rows) else None,
        "newest_rows": int(newest.sum()),
        "newest_sized": int((sized & newest).sum()),
        "moe_rows": int(moe.sum()),
        "moe_both": int((moe & rows["both"]).sum()),
        "newest_moe_rows": int((moe & newest).sum()),
        "newest_moe_both": int((moe & rows["both"] & newest).sum()),
        "top_unmatched": list(rows.loc[~rows["matched"], "id"].value_counts().head(top).items()),
        "top_unsized": list(rows.loc[~sized, "id"].value_counts().head(top).items()),
    }


def describe(figures: dict) -> str:
    """`summarize`'s figures as `llmprices coverage` prints them."""
    rows, by, moe = max(figures["rows"], 1), figures["sized_by"], max(figures["moe_rows"], 1)
    lines = [
        f"{figures['days']} days, {figures['rows']} open-weight text-model rows: {figures['matched']} with a curated "
        f"model ({figures['matched'] / rows:.2%}), {figures['sized']} sized ({figures['sized'] / rows:.2%}: curated "
        f"{by['curated']}, Hub {by['hub']}, name {by['name']})",
        f"worst day {figures['worst_day']}: {figures['worst_day_share']:.2%} sized; {figures['days_below_90']} days "
        "below 90%",
        f"newest day {figures['newest_day']}: {figures['newest_rows']} rows, {figures['newest_sized']} sized "
        f"({figures['newest_sized'] / max(figures['newest_rows'], 1):.2%})",
        f"MoE rows with both total and active: {figures['moe_both']} of {figures['moe_rows']} "
        f"({figures['moe_both'] / moe:.2%}); newest day {figures['newest_moe_both']} of {figures['newest_moe_rows']}",
        *(f"  unsized: {model_id} ({count} rows)" for model_id, count in figures["top_unsized"]),
    ]
    return "\n".join(lines)


def ask_hub_about(
    rows: pd.DataFrame,
    curation: Curation,
    answers: HubAnswers,
    http: HttpClient,
    now: datetime,
    *,
    api_base: str = DEFAULT_API_BASE,
    files_base: str = DEFAULT_FILES_BASE,
) -> list[HubParams]:
    """Ask the Hub about the open-weight repos of the models of `rows` that `answers` has no (fresh) answer
    for; returns the answers, also added to `answers`."""
    observed = catalog_from_observations(rows, answers.params, curation.curated, curation.matcher.resolve)
    due = answers.due(repos_to_ask(observed.catalog[observed.catalog["model"].isin(set(observed.keys))]), now)
    return ask_hub(http, due, answers, now, api_base=api_base, files_base=files_base)


def name_agreement(listings: pd.DataFrame, curation: Curation) -> pd.DataFrame:
    """Every distinct listing id and repo (`provider_model_id`, `model_hint`) whose name states a size, read by
    `sizes_from_name` and set against the curated size of the model the listing resolves to (the repo as hint):
    `kind` (id / repo), `name`, `model`, `token`, name and curated total and active, and `agrees` (True when
    every field both give agrees within the name's rounding, None when there is nothing to compare)."""
    curated = curation.curated.set_index("model")
    records = {}
    for model_id, hint in listings[["provider_model_id", "model_hint"]].drop_duplicates().itertuples(index=False):
        hint = hint if isinstance(hint, str) and hint else None
        model = curation.matcher.resolve(model_id, hint=hint).model
        for kind, name in (("id", model_id), ("repo", hint)):
            if name and (size := sizes_from_name(name)) is not None:
                records.setdefault((kind, name, model), size)
    rows = []
    for (kind, name, model), size in sorted(records.items(), key=lambda item: tuple(map(str, item[0]))):
        row = curated.loc[model] if model in curated.index else None
        total = first_known(row["params_total_b"]) if row is not None else None
        active = first_known(row["params_active_b"]) if row is not None else None
        verdict = [v for v in agrees(size, total, active).values() if v is not None]
        rows.append((kind, name, model, size.token, size.total_b, size.active_b, total, active,
                     all(verdict) if verdict else None))  # fmt: skip
    columns = ["kind", "name", "model", "token", "name_total_b", "name_active_b", "curated_total_b",
               "curated_active_b", "agrees"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def unmatched_ids(listings: pd.DataFrame) -> pd.DataFrame:
    """Every provider_model_id without a canonical model: its normalized id, sources, providers, rows and
    first and last day seen, newest first (the `unmatched_models` table), from counted listings
    (`listings.count_listings`)."""
    columns = ["provider_model_id", "normalized_model", "sources", "providers", "rows", "first_seen", "last_seen"]
    unmatched = listings[~listings["model_matched"].astype(bool)]
    if unmatched.empty:
        return pd.DataFrame(columns=columns)
    grouped = unmatched.sort_values("first_seen", kind="stable").groupby("provider_model_id")
    table = pd.DataFrame(
        {
            "normalized_model": grouped["model"].first(),
            "sources": grouped["source"].agg(lambda s: ",".join(sorted(set(s)))),
            "providers": grouped["provider"].agg(lambda s: ",".join(sorted(set(s)))),
            "rows": grouped["rows"].sum(),
            "first_seen": grouped["first_seen"].min(),
            "last_seen": grouped["last_seen"].max(),
        }
    ).reset_index()
    return table.sort_values(["last_seen", "rows", "provider_model_id"], ascending=[False, False, True])[columns]
