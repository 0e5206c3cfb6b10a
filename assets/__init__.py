"""Thin Dagster assets, one folder per domain (sources, catalog, warehouse, analytics, alerts), wiring the
core library's functions (`llmprices`) to partitions, resources, checks and metadata."""
