"""Who is selling: every observation says what kind of offer it is, and routers are resale whatever source
carried them; the routers table is one users extend."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd

from assets.sources.landing import land_days
from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.payloads import RawPayload
from llmprices.trust.sellers import ROUTERS_FILE_ENV, load_routers, offer_kinds, router_providers

DAY = date(2025, 9, 1)
FETCHED = datetime(2025, 9, 1, 6, tzinfo=UTC)


def litellm_payload(entries: dict[str, str]) -> RawPayload:
    """LiteLLM's file with one chat entry per key, `litellm_provider` as given."""
    document = {
        key: {"mode": "chat", "litellm_provider": provider, "input_cost_per_token": 1e-7, "output_cost_per_token": 2e-7}
        for key, provider in entries.items()
    }
    return RawPayload("model_prices_and_context_window.json", "x", 200, FETCHED, json.dumps(document).encode())


def test_each_landed_row_says_who_is_selling(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    lake.write_raw(
        "litellm",
        DAY,
        [
            litellm_payload(
                {
                    "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo": "together_ai",
                    "openrouter/meta-llama/llama-3.3-70b-instruct": "openrouter",
                    "vercel_ai_gateway/meta/llama-3.3-70b": "vercel_ai_gateway",
                }
            )
        ],
    )
    pricing = {"prompt": "1e-7", "completion": "2e-7"}
    models = {"data": [{"id": "meta-llama/llama-3.3-70b-instruct", "pricing": pricing}]}
    lake.write_raw("openrouter", DAY, [RawPayload("models.json", "x", 200, FETCHED, json.dumps(models).encode())])
    for source in ("litellm", "openrouter"):
        land_days(lake, source, [DAY])

    landed = read_observations(lake, DAY, DAY).sort_values(["source", "provider"])
    assert landed[["source", "provider", "offer_kind"]].values.tolist() == [
        ["litellm", "openrouter", "resale"],  # a curated copy of the router's price
        ["litellm", "together", "curated"],
        ["litellm", "vercel-ai-gateway", "resale"],
        ["openrouter", "openrouter", "resale"],  # the router's own list
    ]


def test_rows_landed_before_the_column_get_their_kind_from_source_and_provider():
    sources = pd.Series(["html", "openrouter_endpoints", "huggingface", "litellm", "genai_prices", "openrouter", "x"])
    providers = pd.Series(["together", "deepinfra", "nebius", "groq", "openrouter", "openrouter", "acme"])
    assert offer_kinds(sources, providers).tolist() == [
        "first_party",
        "marketplace",
        "marketplace",
        "curated",
        "resale",
        "resale",
        "curated",  # an unknown source is a list of prices like a CSV import
    ]


def test_users_add_routers_in_a_file_of_their_own(tmp_path, monkeypatch):
    assert {"openrouter", "vercel-ai-gateway", "github-copilot"} <= router_providers()
    extra = tmp_path / "routers.csv"
    extra.write_text('provider,kind,name,evidence\nAcme Router,router,Acme,"resells every lab\'s models"\n')
    assert load_routers(extra).set_index("provider").loc["acme-router", "kind"] == "router"
    monkeypatch.setenv(ROUTERS_FILE_ENV, str(extra))
    assert "acme-router" in router_providers()
    assert offer_kinds(pd.Series(["litellm"]), pd.Series(["acme-router"])).tolist() == ["resale"]
