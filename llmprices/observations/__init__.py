"""From raw payloads to observation rows: `parse` reads a range of days from `raw/` with the sources' parsers,
`normalize` turns listings into rows of the lake schema, `write` lands the validated rows a partition a day.
Validation between parsing and writing is the data-quality suites' (`expectations/`)."""
