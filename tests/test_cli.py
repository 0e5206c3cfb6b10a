"""The README's main command and the CSV import, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent


def llmprices(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PRICE_LAKE_URI")}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_demo_runs_the_whole_pipeline_offline_and_shows_rows_checks_and_spreads(tmp_path):
    done = llmprices("demo", "--lake", str(tmp_path / "demo-lake"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Dagster run" in out and "succeeded" in out and "FAILED" not in out
    assert out.count(" passed") == 18  # 3 checks x 6 sources
    spread = next(line for line in out.splitlines() if line.strip().startswith("meta-llama/llama-3.1-70b-instruct"))
    assert spread.split()[1:6] == ["11", "0.165", "0.540", "2.895", "17.5"]
    assert "DAGSTER_HOME=" in out and "dagster dev" in out
    for job in ("catalog_refresh", "daily_analytics", "price_changes_backfill", "monthly_trends"):
        assert f"{job} succeeded" in " ".join(out.split())
    changes = [line.split() for line in out.splitlines() if " 2025-01-14 " in line and "listed" in line]
    assert ["openrouter", "2025-01-14", "listed", "1"] in changes  # mistral-nemo appears on the 15th
    assert ["openrouter_endpoints", "2025-01-14", "delisted", "1"] in changes  # cerebras stops serving 70B
    trend = next(line.split() for line in out.splitlines() if line.strip().startswith("4 "))
    assert trend[1:5] == ["0.0328", "0.019", "0.997", "19.03"]

    counts = (
        duckdb.sql(
            f"select source, count(distinct snapshot_date) as days, count(*) as n "
            f"from read_parquet('{tmp_path}/demo-lake/observations/**/*.parquet', hive_partitioning=true) group by all"
        )
        .df()
        .set_index("source")
    )
    assert counts["days"].to_dict() == dict.fromkeys(
        ["csv", "genai_prices", "huggingface", "litellm", "openrouter", "openrouter_endpoints"], 3
    )
    assert counts.loc["openrouter", "n"] == 14 + 14 + 15
    settings = (tmp_path / ".dagster_home" / "dagster.yaml").read_text()
    assert "enabled: false" in settings  # telemetry off; Dagster's own storage otherwise
    runs = list((tmp_path / ".dagster_home" / "history" / "runs").glob("*.db"))
    assert len(runs) == 1 + 5  # the index and the demo's five runs, where the home's event log says


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
    assert "daily_analytics          FAILED: reconciled_prices failed: " in alone.stdout
    assert (
        "no independent provider prices from 2025-01-13 to 2025-01-15: their 43 observations (openrouter 43) are all "
        "resale (OpenRouter's own list and copies of it are a router's price, not a provider's); land a per-provider "
        "source (litellm, genai_prices, openrouter_endpoints, huggingface) for these days" in alone.stdout
    )
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
