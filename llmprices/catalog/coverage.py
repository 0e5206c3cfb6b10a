"""How much of the observed data the catalog can name: the matcher's coverage, measured reproducibly.

Analyses that group by canonical model silently drop what the matcher cannot resolve, so the share of
rows it resolves is reported per source, and measured over the real OpenRouter history for the
open-weight text models, which are what the price-vs-size analyses are about.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd

from llmprices.catalog.catalog import load_curated
from llmprices.catalog.matcher import resolve


def coverage_by_source(observations: pd.DataFrame) -> pd.DataFrame:
    """Per `source`: rows, matched rows, share matched and distinct unmatched ids.

    Reads the columns `source`, `provider_model_id` and `model_matched` (bool).
    """
    matched = observations["model_matched"].astype(bool)
    grouped = observations.groupby("source", sort=True)
    result = pd.DataFrame({"rows": grouped.size(), "matched": matched.groupby(observations["source"]).sum()})
    result["share"] = result["matched"] / result["rows"]
    unmatched = observations[~matched].groupby("source")["provider_model_id"].nunique()
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


def openrouter_open_weight_coverage(payload_dir: Path, top: int = 20) -> dict:
    """Matcher coverage of the open-weight text-model rows of OpenRouter payloads.

    Open-weight text-model rows: rows whose id, with its `:free`-style suffix stripped, is listed with a
    non-empty `hugging_face_id` on any day in `payload_dir`, and whose architecture outputs text
    (`output_modalities` contains "text", or, before that field existed, `modality` has text after "->").
    Returns days, rows, matched, share, `with_params` (rows whose model has a parameter count in
    the curated table) and the `top` unmatched ids with their row counts.
    """
    frame = openrouter_rows(payload_dir)
    base_id = frame["id"].str.split(":", n=1).str[0]
    open_weight_ids = set(base_id[frame["hugging_face_id"].notna()])
    selected = frame[base_id.isin(open_weight_ids) & frame["outputs_text"]]
    models = [
        resolve(model_id, provider="openrouter", hint=hint).model
        for model_id, hint in zip(selected["id"], selected["hugging_face_id"], strict=True)
    ]
    counted = set(load_curated().dropna(subset=["params_total_b"])["model"])
    selected = selected.assign(
        matched=[model is not None for model in models], with_params=[model in counted for model in models]
    )
    unmatched = selected.loc[~selected["matched"], "id"].value_counts().head(top)
    return {
        "days": int(frame["day"].nunique()),
        "rows": len(selected),
        "matched": int(selected["matched"].sum()),
        "share": float(selected["matched"].mean()) if len(selected) else 0.0,
        "with_params": int(selected["with_params"].sum()),
        "top_unmatched": list(unmatched.items()),
    }


def unmatched_ids(observations: pd.DataFrame) -> pd.DataFrame:
    """Every provider_model_id without a canonical model: its normalized id, sources, providers, rows and
    first and last day seen, newest first (the `unmatched_models` table)."""
    columns = ["provider_model_id", "normalized_model", "sources", "providers", "rows", "first_seen", "last_seen"]
    rows = observations[~observations["model_matched"].astype(bool)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    grouped = rows.groupby("provider_model_id")
    table = pd.DataFrame(
        {
            "normalized_model": grouped["model"].first(),
            "sources": grouped["source"].agg(lambda s: ",".join(sorted(set(s)))),
            "providers": grouped["provider"].agg(lambda s: ",".join(sorted(set(s)))),
            "rows": grouped.size(),
            "first_seen": grouped["snapshot_date"].min(),
            "last_seen": grouped["snapshot_date"].max(),
        }
    ).reset_index()
    return table.sort_values(["last_seen", "rows", "provider_model_id"], ascending=[False, False, True])[columns]
