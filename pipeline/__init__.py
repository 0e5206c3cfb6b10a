"""Dagster wiring of the LLM inference price observatory: definitions, resources, lake, CLI."""
