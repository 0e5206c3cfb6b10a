"""Paths and URLs taken from payloads, served on 127.0.0.1: hostile model ids, and pagination links that leave
the API, fail half-way or never end."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb

from llmprices.http import HttpClient
from llmprices.lake.query import connect
from llmprices.lake.store import Lake
from llmprices.sources import openrouter
from llmprices.sources.common import encoded_path
from pipeline.runner import IngestRequest, InProcessRuns, run_ingest

FIXTURES = Path(__file__).parent / "fixtures" / "sources" / "openrouter_endpoints"


def today() -> date:
    """Today in UTC when asked, not when the module was imported: a suite may run across midnight."""
    return datetime.now(UTC).date()
HOSTILE = ["../../../admin", "meta-llama/../../../../etc/passwd", "a/./b", "x" * 400 + "/y", "q?x=1#frag/z"]


def model(model_id: str, price: str = "0.000001") -> dict:
    return {"id": model_id, "hugging_face_id": "org/repo", "pricing": {"prompt": price, "completion": price}}


def test_hostile_model_ids_stay_inside_the_api_and_the_lake_and_the_other_models_land(http_server, tmp_path):
    models = json.loads((FIXTURES / "models.json").read_text())
    models["data"] += [model(m) for m in HOSTILE]
    http_server.add("/api/v1/models", json.dumps(models))
    http_server.add_file(
        "/api/v1/models/meta-llama/llama-3.3-70b-instruct/endpoints", FIXTURES / "llama-3.3-70b-instruct.json"
    )
    request = IngestRequest(
        ["openrouter_endpoints"], today(), today(), lake_uri=str(tmp_path),
        resource_config={"openrouter_endpoints_source": {"api_base": f"{http_server.base_url}/api/v1"}},
    )  # fmt: skip
    with dg.instance_for_test() as instance:
        result = run_ingest(request, InProcessRuns(instance))
    assert result.success
    requested = http_server.paths_requested()
    assert all(path.startswith("/api/v1/models") for path in requested), requested
    assert not any(".." in path.split("/") for path in requested)
    assert "/api/v1/models/q%3Fx%3D1%23frag/z/endpoints" in requested  # percent-encoded, not a query

    raw = tmp_path / "raw" / "source=openrouter_endpoints" / f"snapshot_date={today()}"
    stored = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.is_relative_to(tmp_path) for p in stored)
    manifest, payloads = Lake(str(tmp_path)).read_raw("openrouter_endpoints", today())
    assert all((raw / entry["file"]).resolve().is_relative_to(raw) for entry in manifest.payloads)
    assert [p.name for p in payloads][:2] == ["models.json", "endpoints/meta-llama/llama-3.3-70b-instruct.json"]

    scan = f"read_parquet('{tmp_path}/observations/**/*.parquet', hive_partitioning = true)"
    assert duckdb.sql(f"select count(*) from {scan}").fetchall() == [(5,)]  # the llama fixture's endpoints
    quarantine = f"read_parquet('{tmp_path}/quarantine/**/*.parquet', hive_partitioning = true)"
    failed = duckdb.sql(f"select provider_model_id from {quarantine} where failed_check = 'fetch'").fetchall()
    assert {row[0] for row in failed} >= set(HOSTILE)


def test_encoded_paths_are_distinct_relative_and_short():
    ids = [*HOSTILE, "..", ".", "", "a//b", "a/%2E%2E", "a/%", "a/b:free"]
    encoded = [encoded_path(i) for i in ids]
    assert len(set(encoded)) == len(ids)
    for path in encoded:
        assert all(part not in ("", ".", "..") for part in path.split("/"))
        assert all(len(part) <= 200 for part in path.split("/"))
    assert encoded_path("a/b:free") == "a/b:free"


def page(models: list[dict], next_link: str | None = None) -> str:
    return json.dumps({"data": models, **({"links": {"next": next_link}} if next_link else {})})


def fetch_and_parse(base_url: str):
    client = HttpClient(backoff_factor_s=0, max_retries=1)
    payloads = openrouter.fetch(client, f"{base_url}/api/v1")
    return payloads, list(openrouter.parse(payloads, today()))


def test_a_next_link_off_the_configured_origin_is_not_followed_and_the_first_page_is_kept(http_server):
    http_server.add("/api/v1/models", page([model("a/one")], "http://169.254.169.254/latest/meta-data/"))
    payloads, parsed = fetch_and_parse(http_server.base_url)
    assert [p.name for p in payloads] == ["models.json", "fetch_errors.json"]
    assert [listing.provider_model_id for p in parsed for listing in p.listings] == ["a/one"]
    [stop] = parsed[1].rejections
    assert stop.failed_check == "fetch"
    assert "the next page's link leaves the configured API" in stop.reason
    assert http_server.paths_requested() == ["/api/v1/models"]


def test_a_failing_second_page_keeps_the_first(http_server):
    http_server.add("/api/v1/models", page([model("a/one"), model("a/two")], "/api/v1/models/page2"))
    http_server.add("/api/v1/models/page2", "upstream down", status=502)
    payloads, parsed = fetch_and_parse(http_server.base_url)
    assert [p.name for p in payloads] == ["models.json", "fetch_errors.json"]
    assert len(parsed[0].listings) == 2
    [failure] = parsed[1].rejections
    assert "answered HTTP 502: 'upstream down' (after 2 attempts)" in failure.reason


def test_paging_that_never_ends_stops_at_the_cap_and_says_so(http_server):
    served = iter(range(1, 1000))
    http_server.add(
        "/api/v1/models", lambda: page([model(f"a/m{next(served)}")], f"/api/v1/models?page={next(served)}").encode()
    )
    payloads, parsed = fetch_and_parse(http_server.base_url)
    assert len(payloads) == openrouter.MAX_PAGES + 1
    assert len(http_server.requests) == openrouter.MAX_PAGES
    [stop] = parsed[-1].rejections
    assert (
        stop.reason
        == f"fetch failed: stopped at the cap of {openrouter.MAX_PAGES} pages: the later pages were not fetched"
    )


def test_a_blank_model_id_is_quarantined_not_landed(http_server, tmp_path):
    http_server.add("/api/v1/models", page([model("a/one"), model(""), model("   ")]))
    request = IngestRequest(
        ["openrouter"], today(), today(), lake_uri=str(tmp_path),
        resource_config={"openrouter_source": {"api_base": f"{http_server.base_url}/api/v1"}},
    )  # fmt: skip
    with dg.instance_for_test() as instance:
        assert run_ingest(request, InProcessRuns(instance)).success
    con = connect(str(tmp_path))
    assert con.sql("select provider_model_id from observations").fetchall() == [("a/one",)]
    assert sorted(con.sql("select reason, failed_check from quarantine").fetchall()) == [
        ("provider_model_id='   ' is blank", "expect_column_values_to_match_regex"),  # its model: from its repo
        ("provider_model_id='' is blank", "expect_column_values_to_match_regex"),
    ]
