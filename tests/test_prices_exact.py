"""Prices land as the decimals sources quote, without the float noise some payloads carry (0.7900000000000001)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from llmprices.lake.tables import blended_usd_per_mtok
from llmprices.observations.normalize import observations_table
from llmprices.payloads import RawPayload
from llmprices.sources import litellm
from llmprices.sources.prices import PER_TOKEN, usd_per_mtok

DEMO = Path(__file__).resolve().parent.parent / "pipeline" / "demo_data"


def significant_digits(value: float) -> int:
    mantissa = repr(value).split("e")[0].replace("-", "").replace(".", "").strip("0")
    return len(mantissa)


def payload(body: bytes) -> RawPayload:
    return RawPayload(litellm.PAYLOAD_NAME, "file://litellm.json", 200, datetime(2025, 1, 13, tzinfo=UTC), body)


def test_a_real_litellm_payload_lands_the_prices_it_quotes(shared_data: Path):
    body = gzip.decompress((shared_data / "litellm-prices" / "2025-12-02.json.gz").read_bytes())
    entries = json.loads(body)
    noisy = [
        (key, field)
        for key, entry in entries.items()
        if isinstance(entry, dict) and entry.get("mode") in litellm.LLM_MODES
        for field in ("input_cost_per_token", "output_cost_per_token")
        if isinstance(entry.get(field), float) and significant_digits(entry[field]) > 15
    ]
    # the file itself is noisy: Databricks' prices, among others (e.g. 1.5000999999999998e-07 per token)
    assert len(noisy) >= 20

    [parsed] = litellm.parse([payload(body)], date(2025, 12, 2))
    databricks_8b = "databricks/databricks-meta-llama-3-1-8b-instruct"
    listing = next(i for i in parsed.listings if i.provider_model_id == databricks_8b)
    assert (databricks_8b, "input_cost_per_token") in noisy
    assert (listing.input_usd_per_mtok, listing.output_usd_per_mtok) == (0.15001, 0.45003)
    observations, _ = observations_table([parsed])
    for column in ("input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"):
        values = observations[column].to_pylist()
        assert len(values) > 1000
        assert [v for v in values if significant_digits(v) > 15] == [], column
    rows = observations.select(["input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"]).to_pylist()
    exact = [float((3 * Decimal(repr(r["input_usd_per_mtok"])) + Decimal(repr(r["output_usd_per_mtok"]))) / 4)
             for r in rows]  # fmt: skip
    assert [r["blended_usd_per_mtok"] for r in rows] == exact  # the blend is decimal arithmetic's, every row
    floats = [(3 * r["input_usd_per_mtok"] + r["output_usd_per_mtok"]) / 4 for r in rows]
    assert sum(f != e for f, e in zip(floats, exact, strict=True)) > 100  # which float arithmetic is not


def test_the_demo_payload_s_groq_price_lands_as_0_79_and_blends_exactly():
    body = (DEMO / "litellm" / "2025-01-13.json").read_bytes()
    assert b'"output_cost_per_token": 7.900000000000001e-07' in body  # as LiteLLM's file had it
    [parsed] = litellm.parse([payload(body)], date(2025, 1, 13))
    observations, _ = observations_table([parsed])
    rows = {r["provider_model_id"]: r for r in observations.to_pylist()}
    groq = rows["groq/llama-3.1-70b-versatile"]
    assert (groq["input_usd_per_mtok"], groq["output_usd_per_mtok"], groq["blended_usd_per_mtok"]) == (0.59, 0.79, 0.64)
    assert repr(groq["output_usd_per_mtok"]) == "0.79"


def test_strings_are_exact_and_floats_keep_the_15_digits_a_price_can_carry():
    assert usd_per_mtok("0.0000001", "p", PER_TOKEN) == 0.1
    assert usd_per_mtok(7.900000000000001e-07, "p", PER_TOKEN) == 0.79
    assert usd_per_mtok(2.0345052083e-09, "p", PER_TOKEN) == 0.0020345052083  # 11 quoted digits all kept
    assert usd_per_mtok(2.9999900000000002e-06, "p", PER_TOKEN) == 2.99999
    assert blended_usd_per_mtok(0.12, 0.3) == 0.165
    blends = blended_usd_per_mtok(np.array([0.12, 2.68, 0.23, np.nan]), np.array([0.3, 3.54, 0.4, 1.0]))
    assert blends[:3].tolist() == [0.165, 2.895, 0.2725] and np.isnan(blends[3])
    assert [(3 * 0.12 + 0.3) / 4, (3 * 2.68 + 3.54) / 4] == [0.16499999999999998, 2.8950000000000005]  # float's
