"""Hand-written observations and catalog rows for the trust tests, with the lake's columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from llmprices.lake.tables import OBSERVATIONS, blended_usd_per_mtok

DEFAULTS = {
    "snapshot_date": "2025-06-01",
    "source": "litellm",
    "provider": "together",
    "provider_model_id": "x",
    "variant": "",
    "model": "meta-llama/llama-3.1-8b-instruct",
    "model_variant": "",
    "model_matched": True,
    "input_usd_per_mtok": 0.1,
    "output_usd_per_mtok": 0.1,
    "context_length": None,
    "quantization": None,
    "is_free": False,
    "price_is_tiered": False,
    "cache_read_usd_per_mtok": None,
    "latency_ms": None,
    "throughput_tps": None,
    "uptime_pct": None,
    "raw_sha256": "0" * 64,
    "offer_kind": None,  # filled from source and provider, as for partitions landed before the column
    "deprecation_date": None,
    "input_usd_per_mchar": None,
    "output_usd_per_mchar": None,
    "router_id_share": None,
    "model_hint": None,
}


def observations(rows: list[dict]) -> pd.DataFrame:
    """Observations with `snapshot_date` and `source` as the lake's readers return them (dates as dates)."""
    frame = pd.DataFrame([DEFAULTS | row for row in rows], columns=list(DEFAULTS))
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"]).dt.date
    frame["deprecation_date"] = pd.to_datetime(frame["deprecation_date"]).dt.date
    frame["observed_at"] = datetime(2025, 6, 1, tzinfo=UTC)
    frame["blended_usd_per_mtok"] = blended_usd_per_mtok(frame["input_usd_per_mtok"], frame["output_usd_per_mtok"])
    assert set(OBSERVATIONS.schema.names) <= set(frame.columns)
    return frame


CATALOG_COLUMNS = ["model", "family", "creator", "params_total_b", "params_active_b", "is_moe", "open_weights",
                   "license", "hf_repo"]  # fmt: skip
CATALOG_ROWS = [
    ("meta-llama/llama-3.1-8b-instruct", "llama-3.1", "meta-llama", 8.03, None, False, True, "llama3.1",
     "meta-llama/Llama-3.1-8B-Instruct"),
    ("meta-llama/llama-3.1-70b-instruct", "llama-3.1", "meta-llama", 70.6, None, False, True, "llama3.1",
     "meta-llama/Llama-3.1-70B-Instruct"),
    ("meta-llama/llama-3.1-405b-instruct", "llama-3.1", "meta-llama", 405.9, None, False, True, "llama3.1",
     "meta-llama/Llama-3.1-405B-Instruct"),
    ("meta-llama/llama-3.2-3b-instruct", "llama-3.2", "meta-llama", 3.21, None, False, True, "llama3.2",
     "meta-llama/Llama-3.2-3B-Instruct"),
    ("meta-llama/llama-3.2-90b-vision-instruct", "llama-3.2", "meta-llama", 88.6, None, False, True, "llama3.2",
     "meta-llama/Llama-3.2-90B-Vision-Instruct"),
    ("qwen/qwen-2.5-72b-instruct", "qwen2.5", "qwen", 72.7, None, False, True, "qwen", "Qwen/Qwen2.5-72B-Instruct"),
    ("qwen/qwen2.5-32b-instruct", "qwen2.5", "qwen", 32.5, None, False, True, "apache-2.0",
     "Qwen/Qwen2.5-32B-Instruct"),
    ("deepseek/deepseek-r1-distill-qwen-32b", "deepseek-r1-distill", "deepseek", 32.8, None, False, True, "mit",
     "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"),
    ("deepseek/deepseek-r1-distill-qwen-7b", "deepseek-r1-distill", "deepseek", 7.62, None, False, True, "mit",
     "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"),
    ("deepseek/deepseek-v3", "deepseek-v3", "deepseek", 671, 37, True, True, "mit", "deepseek-ai/DeepSeek-V3"),
    ("nousresearch/hermes-3-llama-3.1-70b", "hermes-3", "nousresearch", 70.6, None, False, True, "llama3",
     "NousResearch/Hermes-3-Llama-3.1-70B"),
    ("mistralai/mistral-large-2407", "mistral-large-2", "mistralai", 123, None, False, True, "mrl",
     "mistralai/Mistral-Large-Instruct-2407"),
    ("meta-llama/llama-guard-3-8b", "llama-guard-3", "meta-llama", 8.03, None, False, True, "llama3.1",
     "meta-llama/Llama-Guard-3-8B"),
    ("google/gemini-1.0-pro", "gemini-1.0", "google", None, None, None, False, None, None),
]  # fmt: skip


def catalog() -> pd.DataFrame:
    """Catalog rows typed as `load_curated` and the lake's catalog give them (nullable booleans and floats)."""
    frame = pd.DataFrame(CATALOG_ROWS, columns=CATALOG_COLUMNS)
    return frame.astype({"is_moe": "boolean", "open_weights": "boolean", "params_total_b": "Float64",
                         "params_active_b": "Float64"})  # fmt: skip


NO_RETIREMENTS = pd.DataFrame(
    {
        "provider": pd.Series(dtype=str),
        "provider_model_id": pd.Series(dtype=str),
        "retired_on": pd.Series(dtype="datetime64[ns]"),
        "evidence": pd.Series(dtype=str),
    }
)
