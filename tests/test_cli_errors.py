"""Mistakes at the shell, run as a user runs them: one or two lines saying what was wrong and what to do, exit 2
for a usage error, never a traceback (unless --debug); a run ends with what landed and why rows were kept out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
HEADER = "snapshot_date,provider,model,input_usd_per_mtok,output_usd_per_mtok\n"


def llmprices(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PRICE_LAKE_URI")}
    environ["DAGSTER_HOME"] = str(cwd / "home")
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, env={**environ, **env},
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def assert_usage_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and done.stdout == ""
    assert 1 <= len(done.stderr.strip().splitlines()) <= 2, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr


def test_a_misspelt_source_says_which_it_might_be(tmp_path):
    done = llmprices("run", "--source", "openruter", "--lake", str(tmp_path / "lake"), cwd=tmp_path)
    assert_usage_error(done, "unknown source 'openruter'; did you mean 'openrouter'?", "sources: artificialanalysis")
    done = llmprices("backfill", "--source", "openruter", "--from-dir", str(tmp_path), cwd=tmp_path)
    assert_usage_error(done, "did you mean 'openrouter'?")


def test_missing_files_and_folders_are_named(tmp_path):
    assert_usage_error(llmprices("import-csv", "missing.csv", cwd=tmp_path), "argument file: missing.csv: no such file")
    done = llmprices("backfill", "--source", "openrouter", "--from-dir", "/nonexistent", cwd=tmp_path)
    assert_usage_error(done, "argument --from-dir: /nonexistent: no such folder")
    assert_usage_error(llmprices("coverage", "/nonexistent", cwd=tmp_path), "/nonexistent: no such folder")
    assert_usage_error(llmprices("run", "--date", "2025-13-01", cwd=tmp_path), "'2025-13-01' is not a YYYY-MM-DD date")
    assert not (tmp_path / "lake").exists()


def test_a_csv_with_a_wrong_header_is_refused_before_anything_runs(tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text("snapshot_date,provider,model,input,output\n2025-01-10,DeepInfra,llama-3.1-8b,0.03,0.05\n")
    done = llmprices("import-csv", str(csv), "--lake", str(tmp_path / "lake"), cwd=tmp_path)
    assert_usage_error(done, "prices.csv: line 1: the header lacks input_usd_per_mtok, output_usd_per_mtok "
                       "(it has snapshot_date,provider,model,input,output)")  # fmt: skip
    assert not (tmp_path / "lake").exists() and not (tmp_path / "home").exists()  # no run started


def test_an_import_whose_every_row_is_rejected_says_so_and_cites_the_file_s_lines(tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text(HEADER + "2025-01-10,DeepInfra,llama-3.1-8b,0.03,abc\n2025-01-11,Lambda,llama-3.1-8b,,0.05\n")
    done = llmprices("import-csv", str(csv), "--lake", str(tmp_path / "lake"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    assert ["csv", "2", "0", "2"] in lines  # source, days, rows landed, quarantined
    assert "line 2: output_usd_per_mtok='abc' is not a number" in done.stdout
    assert "line 3: input_usd_per_mtok is empty" in done.stdout  # the file's line 3, though the 11th's only row
    assert done.stderr.strip() == f"no row of {csv} landed: 2 quarantined (why above)"


def test_a_query_that_would_write_is_refused_and_the_lake_is_unchanged(tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text(HEADER + "2025-01-10,DeepInfra,meta-llama/Meta-Llama-3.1-8B-Instruct,0.03,0.05\n")
    lake = tmp_path / "lake"
    assert llmprices("import-csv", str(csv), "--lake", str(lake), cwd=tmp_path).returncode == 0
    files = sorted((p, p.stat().st_mtime_ns) for p in lake.rglob("*"))
    for sql, kind in (
        ("drop view observations", "DROP"),
        (f"copy (select 1) to '{lake}/observations/x.parquet'", "COPY"),
        ("create table t as select 1", "CREATE"),
        (f"attach '{lake}/x.duckdb'", "ATTACH"),
        ("install httpfs", "INSTALL"),
    ):
        done = llmprices("query", sql, "--lake", str(lake), cwd=tmp_path)
        assert_usage_error(done, f"the lake is read-only: {kind} statements are refused")
    assert sorted((p, p.stat().st_mtime_ns) for p in lake.rglob("*")) == files
    assert_usage_error(llmprices("query", "select * from nope", "--lake", str(lake), cwd=tmp_path),
                       "Table with name nope does not exist")  # fmt: skip
    elsewhere = tmp_path / "elsewhere"  # no ./lake there
    elsewhere.mkdir()
    assert_usage_error(llmprices("query", "select 1", cwd=elsewhere), "no lake at lake:", "llmprices demo")
    debug = llmprices("query", "select 1", "--debug", cwd=elsewhere)  # --debug anywhere: the traceback
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "UsageError: no lake at lake" in debug.stderr


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_source_says_which_host_and_what_failed_once(tmp_path):
    port = closed_port()
    done = llmprices("run", "--source", "openrouter", "--lake", str(tmp_path / "lake"), cwd=tmp_path,
                     OPENROUTER_API_BASE=f"http://127.0.0.1:{port}/api/v1")  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    failure = (f"raw/openrouter failed: 127.0.0.1:{port} could not be reached: ConnectionRefusedError: Connection "
               f"refused (after 5 attempts) (http://127.0.0.1:{port}/api/v1/models)")  # fmt: skip
    assert output.count(failure) == 1, output
    assert [line for line in output.splitlines() if f"127.0.0.1:{port}" in line] == [f"step {failure}"]
    assert "nothing: no rows and no quarantined records for openrouter" in done.stdout
    assert len(output.splitlines()) < 12, output


def test_import_csv_ends_with_rows_landed_and_quarantined_read_back_from_the_lake(tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text(
        HEADER + "2025-01-10,DeepInfra,meta-llama/Meta-Llama-3.1-8B-Instruct,0.03,0.05\n"
        "2025-01-11,Lambda,llama3.1-8b-instruct,abc,0.04\n"
        "2025-01-11,DeepInfra,meta-llama/Meta-Llama-3.1-8B-Instruct,0.02,0.05\n"
        "2025-01-11,DeepInfra,meta-llama/Meta-Llama-3.1-8B-Instruct,0.02,0.05\n"
    )
    lake = tmp_path / "lake"
    done = llmprices("import-csv", str(csv), "--lake", str(lake), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ["csv", "2", "2", "2"] in [line.split() for line in done.stdout.splitlines()]
    assert "line 3: input_usd_per_mtok='abc' is not a number" in done.stdout
    assert "line 5: repeats line 4 (DeepInfra, meta-llama/Meta-Llama-3.1-8B-Instruct, quantization None)" in done.stdout
    scan = f"read_parquet('{lake}/quarantine/**/*.parquet', hive_partitioning=true)"
    assert duckdb.sql(f"select count(*) from {scan}").fetchall() == [(2,)]


def test_a_source_that_answers_an_error_says_which_host_and_the_status(tmp_path, http_server):
    http_server.add("/api/v1/models", b'{"error": "gone"}', status=404)
    done = llmprices("run", "--source", "openrouter", "--lake", str(tmp_path / "lake"), cwd=tmp_path,
                     OPENROUTER_API_BASE=f"{http_server.base_url}/api/v1")  # fmt: skip
    host = http_server.base_url.removeprefix("http://")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    failures = [line for line in done.stdout.splitlines() if host in line]
    assert failures == [f"step raw/openrouter failed: {host} answered HTTP 404: '{{\"error\": \"gone\"}}' "
                        f"({http_server.base_url}/api/v1/models)"]  # fmt: skip
