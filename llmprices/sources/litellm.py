"""LiteLLM's `model_prices_and_context_window.json`: per-token prices of every route LiteLLM knows.

Keys are LiteLLM model names (`azure/eu/gpt-4o-2024-08-06`), each with `litellm_provider`, `mode` and
per-token costs. Only `chat` and `completion` entries are LLM token prices; image, embedding, audio,
rerank ... entries and `sample_spec` (the file's documentation) are skipped without a trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, ParsedPayload, PayloadError, Rejection, SourceSpec
from llmprices.sources.common import int_or_none, load_json
from llmprices.sources.prices import PER_TOKEN, BadPrice, optional_usd_per_mtok, usd_per_mtok
from llmprices.sources.providers import canonical_provider

DEFAULT_URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
URL_ENV = "LITELLM_PRICES_URL"
PAYLOAD_NAME = "model_prices_and_context_window.json"
LLM_MODES = frozenset({"chat", "completion"})
DOCUMENTATION_KEYS = frozenset({"sample_spec"})
#: Runtimes people host themselves: LiteLLM lists them with a cost of 0, which is not a price.
SELF_HOSTED = frozenset({"ollama", "ollama_chat", "vllm", "hosted_vllm", "lm_studio", "llamafile", "xinference"})
#: `input_cost_per_token_above_200k_tokens` and the like: the price changes with the prompt length.
_TIER_KEY = re.compile(r"^(input|output)_cost_per_token_above_\w+$")


def fetch(http: HttpClient, url: str = DEFAULT_URL) -> list[RawPayload]:
    """LiteLLM's price file, as one payload."""
    return [RawPayload.from_response(PAYLOAD_NAME, http.get(url))]


def parse(payloads: list[RawPayload], day: date) -> Iterator[ParsedPayload]:
    for payload in payloads:
        document = load_json(payload)
        if not isinstance(document, dict):
            raise PayloadError(f"{payload.name} is not a JSON object of model entries (got {type(document).__name__})")
        parsed = ParsedPayload(payload)
        for key, entry in document.items():
            if key in DOCUMENTATION_KEYS or not isinstance(entry, dict) or not _is_llm(entry.get("mode")):
                continue
            _parse_entry(key, entry, parsed)
        yield parsed


def _is_llm(mode: object) -> bool:
    return isinstance(mode, str) and mode in LLM_MODES


def _parse_entry(key: str, entry: dict, parsed: ParsedPayload) -> None:
    record = {"key": key, **entry}
    raw_provider = entry.get("litellm_provider")
    if not isinstance(raw_provider, str) or not raw_provider.strip():
        parsed.rejections.append(Rejection("entry has no `litellm_provider`", record, None, key))
        return
    provider = canonical_provider(raw_provider)
    if raw_provider in SELF_HOSTED:
        reason = f"{raw_provider} is a self-hosted runtime: its cost of 0 is not a price"
        parsed.rejections.append(Rejection(reason, record, provider, key))
        return
    try:
        input_price = usd_per_mtok(entry.get("input_cost_per_token"), "input_cost_per_token", PER_TOKEN)
        output_price = usd_per_mtok(entry.get("output_cost_per_token"), "output_cost_per_token", PER_TOKEN)
    except BadPrice as exc:
        parsed.rejections.append(Rejection(str(exc), record, provider, key))
        return
    context = int_or_none(entry.get("max_input_tokens"))
    if context is None:
        context = int_or_none(entry.get("max_tokens"))
    cache_read = entry.get("cache_read_input_token_cost")
    parsed.listings.append(
        Listing(
            provider=provider,
            provider_model_id=key,
            input_usd_per_mtok=input_price,
            output_usd_per_mtok=output_price,
            context_length=context,
            price_is_tiered=any(_TIER_KEY.match(k) for k in entry),
            cache_read_usd_per_mtok=optional_usd_per_mtok(cache_read, PER_TOKEN),
        )
    )


SOURCE = SourceSpec(
    name="litellm",
    description="LiteLLM's price file (model_prices_and_context_window.json): per-token prices of every route.",
    parse=parse,
    archive_payload_name=PAYLOAD_NAME,
)
