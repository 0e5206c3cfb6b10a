"""Property: whatever JSON value sits in whatever field of a source's payload, every record ends as a listing or a
quarantine record with a reason, and the day's rows build; a parser never raises (an unreadable payload is
quarantined whole). Hypothesis puts any JSON value (NaN, infinities, huge numbers, nesting, odd strings) at any
path of a small, valid payload of each source, or in any cell of a CSV or a pricing page."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmprices.observations.normalize import observations_table
from llmprices.observations.parse import parse_day
from llmprices.payloads import RawPayload
from llmprices.sources import SOURCES_BY_NAME
from llmprices.sources.common import fetch_errors_payload

DAY = date(2025, 6, 1)
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Values that broke parsers before: drawn about half of the time.
TROUBLE = [float("inf"), float("-inf"), float("nan"), 1e300, -1.5, 10**20, -1, 0, True, "", [], {}, {"p50": "x"}]
json_values = st.sampled_from(TROUBLE) | st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()  # NaN and the infinities included: Python's json writes and reads them
    | st.text(max_size=12)
    | st.sampled_from(["-1", "0", "1e400", "NaN", "0.000001", "live", "../..", "", " "]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)

TEMPLATES: dict[str, list[tuple[str, object]]] = {
    "openrouter": [
        ("models.json", {"data": [
            {"id": "meta-llama/llama-3.1-8b-instruct", "hugging_face_id": "meta-llama/Llama-3.1-8B-Instruct",
             "context_length": 131072, "pricing": {"prompt": "0.00000002", "completion": "0.00000005",
                                                   "input_cache_read": "0.00000001"}},
        ]}),
    ],
    "openrouter_endpoints": [
        ("models.json", {"data": [{"id": "meta-llama/llama-3.1-8b-instruct", "hugging_face_id": "meta-llama/x"}]}),
        ("endpoints/meta-llama/llama-3.1-8b-instruct.json", {"data": {"id": "meta-llama/llama-3.1-8b-instruct",
            "endpoints": [
                {"provider_name": "DeepInfra", "tag": "deepinfra/fp8", "model_id": "meta-llama/llama-3.1-8b-instruct",
                 "context_length": 131072, "quantization": "fp8", "uptime_last_30m": 99.5,
                 "latency_last_30m": {"p50": 300}, "throughput_last_30m": {"p50": 80},
                 "pricing": {"prompt": "0.00000002", "completion": "0.00000005", "discount": 0.1,
                             "input_cache_read": "0.00000001"}},
            ]}}),
    ],
    "huggingface": [
        ("models.json", {"data": [
            {"id": "meta-llama/Llama-3.1-8B-Instruct", "providers": [
                {"provider": "together", "status": "live", "context_length": 131072, "is_free": False,
                 "pricing": {"input": 0.18, "output": 0.18}, "first_token_latency_ms": 300, "throughput": 90},
            ]},
        ]}),
    ],
    "litellm": [
        ("model_prices_and_context_window.json", {
            "sample_spec": {"mode": "chat"},
            "together_ai/meta-llama/Llama-3.1-8B": {"litellm_provider": "together_ai", "mode": "chat",
                "input_cache_read": 1e-8, "input_cost_per_token": 1.8e-07, "output_cost_per_token": 1.8e-07,
                "max_input_tokens": 131072, "input_cost_per_token_above_200k_tokens": 3e-07,
                "cache_read_input_token_cost": 1e-08},
        }),
    ],
    "genai_prices": [
        ("data.json", [
            {"id": "deepseek", "pricing_urls": ["https://example.test"], "models": [
                {"id": "deepseek-chat", "context_window": 128000, "prices": [
                    {"prices": {"input_mtok": 0.27, "output_mtok": 1.1, "cache_read_mtok": 0.07}},
                    {"constraint": {"start_date": "2025-01-01", "start_time": "00:30:00Z", "end_time": "16:30:00Z"},
                     "prices": {"input_mtok": {"base": 0.14, "tiers": [{"start": 200000, "price": 0.3}]},
                                "output_mtok": 0.28}},
                ]},
            ]},
            {"id": "huggingface_together", "models": [{"id": "org/m", "prices": {"input_mtok": 1, "output_mtok": 2}}]},
        ]),
    ],
    "artificialanalysis": [
        ("models.json", {"data": [
            {"slug": "gpt-4o", "model_creator": {"slug": "openai", "name": "OpenAI"},
             "pricing": {"price_1m_input_tokens": 2.5, "price_1m_output_tokens": 10},
             "median_output_tokens_per_second": 90, "median_time_to_first_token_seconds": 0.4},
        ]}),
    ],
    "html": [
        ("pages.json", {"pages": [{"provider": "Example AI", "url": "https://example.test/pricing",
                                   "name": "pages/example-ai.html", "unit": None}]}),
        ("pages/example-ai.html",
         "<table><tr><th>Model</th><th>Input</th><th>Output</th></tr>"
         "<tr><td><code>ex-1</code></td><td>$0.20 / 1M tokens</td><td>$0.40</td></tr></table>"),
    ],
}  # fmt: skip


def paths(value, prefix=()) -> list[tuple]:
    """Every path into a JSON value (keys and list positions), the value itself included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def replaced(value, path: tuple, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    return [replaced(item, rest, new) if i == head else item for i, item in enumerate(value)]


def payload(name: str, body) -> RawPayload:
    data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    return RawPayload(name, f"https://example.test/{name}", 200, datetime(2025, 6, 1, 6, tzinfo=UTC), data)


def lands_or_is_quarantined(source: str, payloads: list[RawPayload]) -> None:
    """The property: no exception, every rejection with a reason, every listing a row of the lake's schema."""
    parsed, _ = parse_day(SOURCES_BY_NAME[source], payloads, DAY)
    assert [p.payload.name for p in parsed] == [p.name for p in payloads]
    for item in parsed:
        assert all(isinstance(r.reason, str) and r.reason.strip() for r in item.rejections)
        for listing in item.listings:
            assert isinstance(listing.provider, str) and isinstance(listing.provider_model_id, str)
            assert not math.isnan(listing.input_usd_per_mtok) and not math.isnan(listing.output_usd_per_mtok)
    observations, rejected = observations_table(parsed)
    assert observations.num_rows == sum(len(p.listings) for p in parsed)
    assert rejected.num_rows == sum(len(p.rejections) for p in parsed)


def json_mutation(source: str):
    """A source's payloads with one field (or a whole document) replaced by any JSON value."""
    templates = TEMPLATES[source]
    json_docs = [i for i, (_, body) in enumerate(templates) if not isinstance(body, str)]

    @st.composite
    def build(draw):
        index = draw(st.sampled_from(json_docs))
        name, body = templates[index]
        path = draw(st.sampled_from(paths(body)))
        mutated = replaced(body, path, draw(json_values))
        return [payload(n, mutated if i == index else b) for i, (n, b) in enumerate(templates)]

    return build()


@EXAMPLES
@given(json_mutation("openrouter"))
def test_openrouter_any_value_in_any_field(payloads):
    lands_or_is_quarantined("openrouter", payloads)


@EXAMPLES
@given(json_mutation("openrouter_endpoints"))
def test_openrouter_endpoints_any_value_in_any_field(payloads):
    lands_or_is_quarantined("openrouter_endpoints", payloads)


@EXAMPLES
@given(json_mutation("huggingface"))
def test_huggingface_any_value_in_any_field(payloads):
    lands_or_is_quarantined("huggingface", payloads)


@EXAMPLES
@given(json_mutation("litellm"))
def test_litellm_any_value_in_any_field(payloads):
    lands_or_is_quarantined("litellm", payloads)


@EXAMPLES
@given(json_mutation("genai_prices"))
def test_genai_prices_any_value_in_any_field(payloads):
    lands_or_is_quarantined("genai_prices", payloads)


@EXAMPLES
@given(json_mutation("artificialanalysis"))
def test_artificialanalysis_any_value_in_any_field(payloads):
    lands_or_is_quarantined("artificialanalysis", payloads)


@EXAMPLES
@given(json_mutation("html"))
def test_html_pages_any_value_in_any_hint(payloads):
    lands_or_is_quarantined("html", payloads)


cells = st.text(max_size=12) | st.sampled_from(
    ["=1+1", "-1", "1e400", "NaN", "\ufeff", "1,000.5", "2025-06-01", "99999999999999999999999", "-5"]
)


@EXAMPLES
@given(st.lists(st.tuples(cells, cells, cells, cells), min_size=1, max_size=4))
def test_html_pages_any_text_in_any_cell(rows):
    body = "<table><tr><th>Model</th><th>Input</th><th>Output</th></tr>" + "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in row[:3]) + "</tr>" for row in rows
    ) + "</table>"  # fmt: skip
    lands_or_is_quarantined("html", [payload("pages/example-ai.html", body)])


@EXAMPLES
@given(st.lists(st.tuples(cells, cells, cells, cells, cells), min_size=1, max_size=5))
def test_csv_any_text_in_any_cell(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["snapshot_date", "provider", "model", "input_usd_per_mtok", "output_usd_per_mtok", "context_length"]
    )
    writer.writerows([DAY.isoformat(), *row] for row in rows)
    lands_or_is_quarantined("csv", [payload("prices.csv", out.getvalue())])


@EXAMPLES
@given(json_values)
def test_fetch_errors_of_any_shape_are_quarantined(errors):
    made = fetch_errors_payload("https://example.test/models", [])
    body = json.dumps({"errors": errors}).encode()
    broken = RawPayload(made.name, made.url, made.http_status, made.fetched_at, body)
    for source in ("openrouter", "openrouter_endpoints", "html"):
        lands_or_is_quarantined(source, [broken])
