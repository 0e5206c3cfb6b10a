"""The README's main command and the CSV import, run as a user runs them."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
from test_ui import DEMO_JOBS

from pipeline.homes import LOCATION

REPO = Path(__file__).resolve().parent.parent


def llmprices(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PRICE_LAKE_URI")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def test_demo_runs_the_whole_pipeline_offline_and_shows_rows_checks_and_spreads(demo_ui):
    done = demo_ui.demo  # `llmprices demo`, run beside `llmprices ui --lake demo-lake` (tests/conftest.py)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Dagster run" in out and "succeeded" in out and "FAILED" not in out
    assert out.count(" passed") == 18  # 3 checks x 6 sources
    spread = next(line for line in out.splitlines() if line.strip().startswith("meta-llama/llama-3.1-70b-instruct"))
    assert spread.split()[1:6] == ["11", "0.165", "0.540", "2.895", "17.5"]
    assert "Open the UI:         llmprices ui --lake demo-lake" in out
    for job in DEMO_JOBS - {"daily_ingest"}:
        assert f"{job} succeeded" in " ".join(out.split())
    changes = [line.split() for line in out.splitlines() if " 2025-01-14 " in line and "listed" in line]
    assert ["openrouter", "2025-01-14", "listed", "1"] in changes  # mistral-nemo appears on the 15th
    assert ["openrouter_endpoints", "2025-01-14", "delisted", "1"] in changes  # cerebras stops serving 70B
    trend = next(line.split() for line in out.splitlines() if line.strip().startswith("4 "))
    assert trend[1:5] == ["0.0328", "0.019", "0.997", "19.03"]

    counts = (
        duckdb.sql(
            f"select source, count(distinct snapshot_date) as days, count(*) as n "
            f"from {scan(demo_ui.lake, 'observations')} group by all"
        )
        .df()
        .set_index("source")
    )
    assert counts["days"].to_dict() == dict.fromkeys(
        ["csv", "genai_prices", "huggingface", "litellm", "openrouter", "openrouter_endpoints"], 3
    )
    assert counts.loc["openrouter", "n"] == 14 + 14 + 15

    # the runs are the code location's, in the lake's own home
    with dg.DagsterInstance.from_config(str(demo_ui.home)) as instance:
        runs = [record.dagster_run for record in instance.get_run_records()]
    assert sorted(run.job_name for run in runs) == sorted(DEMO_JOBS)
    assert {run.remote_job_origin.location_name for run in runs} == {LOCATION}

    # the alerts of the demo's changes, delivered to a file beside the lake
    [(changed,)] = duckdb.sql(f"select count(*) from {scan(demo_ui.lake, 'changes')}").fetchall()
    alerts = [json.loads(line) for line in (demo_ui.folder / "demo-lake-alerts.jsonl").read_text().splitlines()]
    assert len(alerts) == changed > 0 and {a["rule"] for a in alerts} == {"every-change"}
    assert f"Alerts delivered to: {demo_ui.folder / 'demo-lake-alerts.jsonl'}" in out


def test_import_csv_lands_each_day_and_quarantines_bad_lines(tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text(
        "snapshot_date,provider,model,input_usd_per_mtok,output_usd_per_mtok\n"
        "2025-01-10,DeepInfra,meta-llama/Meta-Llama-3.1-8B-Instruct,0.03,0.05\n"
        "2025-01-10,Together,meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo,0.18,0.18\n"
        "2025-01-11,DeepInfra,meta-llama/Meta-Llama-3.1-8B-Instruct,0.02,0.05\n"
        "2025-01-11,Lambda,llama3.1-8b-instruct,abc,0.04\n"
        "2025-01-20,DeepInfra,meta-llama/Meta-Llama-3.1-8B-Instruct,0.02,0.05\n"
    )
    done = llmprices("import-csv", str(csv), "--lake", str(tmp_path / "lake"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("succeeded") == 2  # 10-11 as one run, the 20th in another: no run over the gap
    [home] = (tmp_path / ".dagster_home").iterdir()  # the lake's own home
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = [record.dagster_run for record in instance.get_run_records()]
    assert [run.job_name for run in runs] == ["daily_ingest"] * 2
    assert {run.remote_job_origin.location_name for run in runs} == {LOCATION}  # on daily_ingest's page
    assert (home / "webserver.log").exists()  # through a webserver the command started (no UI was running)

    rows = duckdb.sql(
        f"select snapshot_date::varchar as day, provider, model, input_usd_per_mtok as i "
        f"from read_parquet('{tmp_path}/lake/observations/**/*.parquet', hive_partitioning=true) order by all"
    ).fetchall()
    assert rows == [
        ("2025-01-10", "deepinfra", "meta-llama/llama-3.1-8b-instruct", 0.03),
        ("2025-01-10", "together", "meta-llama/llama-3.1-8b-instruct", 0.18),
        ("2025-01-11", "deepinfra", "meta-llama/llama-3.1-8b-instruct", 0.02),
        ("2025-01-20", "deepinfra", "meta-llama/llama-3.1-8b-instruct", 0.02),
    ]
    [(reason,)] = duckdb.sql(
        f"select reason from read_parquet('{tmp_path}/lake/quarantine/**/*.parquet', hive_partitioning=true)"
    ).fetchall()
    assert "abc" in reason


def scan(lake: Path, table: str) -> str:
    return f"read_parquet('{lake}/{table}/**/*.parquet', hive_partitioning=true)"


def test_backfill_downstream_computes_history_spreads_and_changes_over_the_landed_days(tmp_path):
    demo, lake = REPO / "pipeline" / "demo_data", tmp_path / "lake"
    alone = llmprices("backfill", "--source", "openrouter", "--from-dir", str(demo / "openrouter"),
                      "--lake", str(lake), "--downstream", cwd=tmp_path)  # fmt: skip
    # OpenRouter's own (reseller) prices alone give no spread across providers: said, in one line
    assert "daily_history            succeeded" in alone.stdout
    assert "daily_analytics          FAILED: provider_prices failed: " in alone.stdout
    assert "no priced listings with a canonical model from 2025-01-13 to 2025-01-15" in alone.stdout
    assert "Traceback" not in alone.stdout + alone.stderr and alone.returncode == 1

    both = llmprices("backfill", "--source", "openrouter_endpoints", "--from-dir", str(demo / "openrouter_endpoints"),
                     "--lake", str(lake), "--downstream", cwd=tmp_path)  # fmt: skip
    assert both.returncode == 0, both.stdout + both.stderr
    for job in ("daily_history", "daily_analytics", "price_changes_backfill"):
        assert f"{job:<24} succeeded" in both.stdout

    days = duckdb.sql(f"select distinct snapshot_date::varchar from {scan(lake, 'spreads')} order by 1").fetchall()
    assert [d for (d,) in days] == ["2025-01-13", "2025-01-14", "2025-01-15"]
    current = duckdb.sql(f"select source, count(*) from {scan(lake, 'history')} where valid_to is null group by 1")
    last_day = duckdb.sql(
        f"select source, count(*) from {scan(lake, 'observations')} where snapshot_date = '2025-01-15' group by 1"
    )
    assert sorted(current.fetchall()) == sorted(last_day.fetchall())  # one open interval per listing listed last
    delisted = duckdb.sql(
        f"select snapshot_date::varchar, provider, model from {scan(lake, 'changes')} "
        "where source = 'openrouter_endpoints' and kind = 'delisted'"
    ).fetchall()
    assert delisted == [("2025-01-15", "cerebras", "meta-llama/llama-3.1-70b-instruct")]  # gone after the 14th


def test_coverage_reports_sized_rows_per_day_and_asks_the_hub_when_told(tmp_path, hub_server):
    captures = tmp_path / "openrouter-models"
    captures.mkdir()
    text = {"modality": "text->text", "output_modalities": ["text"]}
    days = {
        "2025-12-30": [{"id": "qwen/qwen3-30b-a3b", "hugging_face_id": "Qwen/Qwen3-30B-A3B", "architecture": text}],
        "2025-12-31": [
            {"id": "z-ai/glm-4.7", "hugging_face_id": "zai-org/GLM-4.7", "architecture": text},  # no size in its name
            {"id": "lab/new-open-9b", "hugging_face_id": "Lab/New-Open-9B", "architecture": text},
        ],
    }
    for day, models in days.items():
        with gzip.open(captures / f"{day}.json.gz", "wt") as handle:
            json.dump({"data": models}, handle)
    offline = llmprices("coverage", str(captures), cwd=tmp_path)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.splitlines()[:4] == [
        "2 days, 3 open-weight text-model rows: 2 with a curated model (66.67%), 2 sized (66.67%: curated 1, Hub 0, "
        "name 1)",
        "worst day 2025-12-31: 50.00% sized; 1 days below 90%",
        "newest day 2025-12-31: 2 rows, 1 sized (50.00%)",
        "MoE rows with both total and active: 1 of 2 (50.00%); newest day 0 of 1",
    ]
    assert "  unsized: z-ai/glm-4.7 (1 rows)" in offline.stdout
    hub = {"HF_HUB_API_BASE": f"{hub_server.base_url}/api", "HF_HUB_FILES_BASE": hub_server.base_url}
    online = llmprices("coverage", str(captures), "--ask-hub", "--rules-alone", cwd=tmp_path, env=hub)
    assert online.returncode == 0, online.stderr
    lines = online.stdout.splitlines()
    assert lines[0].startswith("rules alone: models.csv reduced to the 104 of ")
    assert lines[1] == f"asked the Hub at {hub_server.base_url}/api: 3 repos answered"
    assert lines[3:5] == [
        "worst day 2025-12-30: 100.00% sized; 0 days below 90%",
        "newest day 2025-12-31: 2 rows, 2 sized (100.00%)",
    ]
