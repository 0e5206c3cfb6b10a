"""`llmprices query`, `history` and `report` on the lake `llmprices demo` builds, run as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from PIL import Image

from llmprices.lake.query import connect


def llmprices(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PRICE_LAKE_URI")}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


SPREAD = "select model, n_providers, min, max from spreads where snapshot_date = '2025-01-15' order by n_providers desc"


def test_query_prints_an_aligned_table_csv_or_json(demo_lake, tmp_path):
    lake = str(demo_lake.path)
    table = llmprices("query", SPREAD + " limit 2", "--lake", lake, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines() == [
        "model                                n_providers     min    max",
        "---------------------------------  -------------  ------  -----",
        "meta-llama/llama-3.1-70b-instruct             11   0.165  2.895",
        "meta-llama/llama-3.1-8b-instruct               9  0.0275   0.22",
        "(2 rows)",
    ]
    as_csv = llmprices("query", SPREAD, "--format", "csv", "--lake", lake, cwd=tmp_path)
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["model", "n_providers", "min", "max"]
    assert rows[1] == ["meta-llama/llama-3.1-70b-instruct", "11", "0.165", "2.895"]  # exact: no float noise
    groq = ("select snapshot_date, provider, blended, null as missing from provider_prices "
            "where provider = 'groq' and model like '%70b%' order by 1")  # fmt: skip
    records = json.loads(llmprices("query", groq, "--format", "json", "--lake", lake, cwd=tmp_path).stdout)
    assert records[0] == {"snapshot_date": "2025-01-13", "provider": "groq", "blended": 0.64, "missing": None}
    assert len(records) == 3


def test_the_lake_holds_no_float_noise(demo_lake):
    con = connect(str(demo_lake.path))
    prices = con.sql("select input_usd_per_mtok, output_usd_per_mtok, blended_usd_per_mtok from observations")
    prices = prices.fetchall()
    assert len(prices) > 300
    noisy = [price for row in prices for price in row if float(format(price, ".15g")) != price]
    assert noisy == []  # every price has at most the 15 significant digits a quote can carry
    [(groq,)] = con.sql("select distinct output_usd_per_mtok from observations where provider = 'groq' "
                        "and source = 'litellm'").fetchall()  # fmt: skip
    assert repr(groq) == "0.79"  # LiteLLM's file says 7.900000000000001e-07 per token


def test_history_resolves_a_model_as_people_write_it_and_draws_its_providers(demo_lake, tmp_path):
    done = llmprices("history", "Llama-3.1-70B", "--lake", str(demo_lake.path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0].startswith("meta-llama/llama-3.1-70b-instruct ('Llama-3.1-70B'): 12 providers, 2025-01-13 .. ")
    stretches = [line.split() for line in out if line.split()[:1] in (["together"], ["cerebras"], ["lambda"])]
    assert stretches == [
        ["cerebras", "2025-01-13", "2025-01-14", "2", "0.6", "0.6", "0.6", "openrouter_endpoints"],  # then gone
        ["lambda", "2025-01-13", "2025-01-15", "3", "0.12", "0.3", "0.165", "openrouter_endpoints"],
        # the full-precision build (its FP8 and Turbo builds are not what a spread counts), then cut to 0.54
        ["together", "2025-01-13", "2025-01-13", "1", "0.88", "0.88", "0.88", "huggingface"],
        ["together", "2025-01-14", "2025-01-15", "2", "0.54", "0.54", "0.54", "huggingface"],
    ]
    assert "(13 rows)" in out
    assert "2025-01-15: cheapest lambda 0.165, priciest azure 2.895 (17.5x), 11 providers" in out
    chart = tmp_path / "history-meta-llama_llama-3.1-70b-instruct.png"
    assert out[-1] == f"chart: {chart.name}"
    assert Image.open(chart).size[0] >= 900

    only = llmprices("history", "meta-llama/llama-3.1-70b-instruct", "--provider", "together", "--since",
                     "2025-01-14", "--out", "t.png", "--lake", str(demo_lake.path), cwd=tmp_path)  # fmt: skip
    assert [line.split()[:4] for line in only.stdout.splitlines() if line.startswith("together")] == [
        ["together", "2025-01-14", "2025-01-15", "2"]
    ]
    vague = llmprices("history", "llama", "--lake", str(demo_lake.path), cwd=tmp_path)
    assert vague.returncode == 2
    assert vague.stderr.strip() == (
        "llmprices history: 'llama' could be meta-llama/llama-3.1-405b-instruct, meta-llama/llama-3.1-70b-instruct, "
        "meta-llama/llama-3.1-8b-instruct: name one"
    )


def test_report_writes_one_self_contained_page_and_cost_trends_links_it(demo_lake, tmp_path):
    done = llmprices("report", "--month", "2025-01", "--lake", str(demo_lake.path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report-2025-01.html").read_text()
    for title in ("Same model, different prices", "Size vs price: the cost trend", "Mixture-of-Experts placement",
                  "Proprietary models: implied size and mark-up", "Notable price changes", "Data quality"):  # fmt: skip
        assert f">{title}</h2>" in page
    assert page.count('<img src="data:image/png;base64,') == 4  # spreads, size vs price, trend history, MoE
    assert "http://" not in page and "https://" not in page and "<script" not in page  # nothing fetched
    assert "$0.03283" in page and "$0.019" in page  # the month's fixed and per-10B costs (as the demo prints them)
    assert "Anomalies flagged this month:" in page  # 43 resale rows in the demo's January: OpenRouter's own list
    assert "<tr><td>resale</td><td class=num>43</td></tr>" in page

    written = demo_lake.path / "reports" / "month=2025-01" / "report.html"  # by the demo's monthly_trends run
    assert written.read_text().count("<img") == 4
    instance = dg.DagsterInstance.from_config(str(demo_lake.home))
    event = instance.get_latest_materialization_event(dg.AssetKey(["trends", "min_price_fit"]))
    assert event.asset_materialization.metadata["report"].value == str(written)

    missing = llmprices("report", "--month", "2024-12", "--lake", str(demo_lake.path), cwd=tmp_path)
    assert missing.returncode == 2 and "no provider prices in 2024-12" in missing.stderr
