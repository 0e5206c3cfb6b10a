"""The parquet lake: the table registry (`tables`), atomic storage (`store`), typed reads (`read`), yearly
compaction of observations (`compaction`) and read-only SQL over it all (`query`)."""

from llmprices.lake.store import DEFAULT_LAKE_URI, Lake, lake_uri_from_env

__all__ = ["DEFAULT_LAKE_URI", "Lake", "lake_uri_from_env"]
