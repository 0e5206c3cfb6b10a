"""The lake: the table registry, the atomic parquet store, typed reads, compaction and the SQL query layer."""
