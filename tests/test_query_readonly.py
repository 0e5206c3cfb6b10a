"""The lake's SQL entry point (`llmprices.lake.query.connect`) reads and never writes: every statement that could
change something is refused, DuckDB itself reads only the lake's folder, and the lake's files stay as they were."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from llmprices.lake.query import RefusedStatement, connect
from llmprices.lake.store import Lake
from llmprices.lake.tables import PROVIDER_PRICES


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    lake = Lake(str(tmp_path / "lake"))
    for day, prices in ((date(2025, 1, 14), (0.2, 0.7)), (date(2025, 1, 15), (0.165, 0.6))):
        frame = pd.DataFrame(
            {
                "model": "meta-llama/llama-3.1-70b-instruct",
                "provider": ["deepinfra", "together"],
                "source": "openrouter_endpoints",
                "input": prices,
                "output": prices,
                "blended": prices,
                "is_quantized": False,
                "is_free": False,
            }
        ).reindex(columns=PROVIDER_PRICES.schema.names)  # provenance and trust columns left empty
        partition = PROVIDER_PRICES.partition(snapshot_date=day)
        lake.write_partition(PROVIDER_PRICES, partition, PROVIDER_PRICES.from_frame(frame))
    return tmp_path / "lake"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the sha256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


REFUSED = {
    "create table t as select 1": "CREATE",
    "create view v as select 1": "CREATE",
    "create or replace view provider_prices as select 1 as x": "CREATE",
    "drop view provider_prices": "DROP",
    "insert into provider_prices values (1)": "INSERT",
    "update provider_prices set blended = 0": "UPDATE",
    "delete from provider_prices": "DELETE",
    "copy (select * from provider_prices) to '{lake}/provider_prices/evil.parquet'": "COPY",
    "copy provider_prices from '{lake}/x.csv'": "COPY",
    "export database '{lake}/dump'": "EXPORT",
    "attach '{lake}/other.duckdb' as other": "ATTACH",
    "install httpfs": "INSTALL",
    "load httpfs": "LOAD",
    "set enable_external_access = true": "SET",
    "pragma enable_profiling": "PRAGMA",
    "call checkpoint()": "CALL",
    "explain analyze copy (select 1) to '{lake}/e.csv'": "EXPLAIN",  # it would run the COPY
    "select 1; drop view provider_prices": "DROP",  # one query first does not let the rest through
}


@pytest.mark.parametrize("statement", sorted(REFUSED))
def test_every_statement_that_could_write_is_refused_and_the_lake_is_unchanged(lake_dir, statement):
    before = snapshot(lake_dir)
    con = connect(str(lake_dir))
    with pytest.raises(RefusedStatement, match=f"read-only: {REFUSED[statement]} statements are refused"):
        con.sql(statement.format(lake=lake_dir))
    assert con.sql("select count(*) from provider_prices").fetchall() == [(4,)]  # views intact
    assert snapshot(lake_dir) == before


def test_queries_run_with_parameters_and_return_rows_not_relations(lake_dir):
    con = connect(str(lake_dir))
    result = con.execute(
        "select snapshot_date, min(blended) as cheapest from provider_prices where model = ? group by 1 order by 1",
        ["meta-llama/llama-3.1-70b-instruct"],
    )
    assert result.columns == ["snapshot_date", "cheapest"]
    assert result.fetchall() == [(date(2025, 1, 14), 0.2), (date(2025, 1, 15), 0.165)]
    frame = con.sql("from provider_prices where provider = $p order by snapshot_date", {"p": "together"}).df()
    assert frame["blended"].tolist() == [0.7, 0.6]
    assert con.sql("describe provider_prices").fetchall()[0][:2] == ("model", "VARCHAR")
    assert "provider_prices" in con.views() and "observations" in con.views()


def test_duckdb_itself_reads_only_the_lake_and_its_settings_are_locked(lake_dir, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("secret\n42\n")
    con = connect(str(lake_dir))
    with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
        con.sql(f"select * from read_csv('{outside}')").fetchall()
    with pytest.raises(duckdb.PermissionException):
        con.sql("select * from glob('/etc/*')").fetchall()
    # reading the lake's own files directly is fine
    assert con.sql(f"select count(*) from read_parquet('{lake_dir}/provider_prices/*/*.parquet')").fetchall() == [(4,)]
    settings = dict(
        con.sql(
            "select name, value from duckdb_settings() where name in "
            "('enable_external_access', 'lock_configuration', 'autoinstall_known_extensions')"
        ).fetchall()
    )
    assert settings == {
        "enable_external_access": "false",
        "lock_configuration": "true",
        "autoinstall_known_extensions": "false",
    }
