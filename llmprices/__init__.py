"""The observatory's core library: the lake, HTTP, the source parsers, the model catalog, the analyses and
the alerts, as plain Python with no Dagster import, so every part can be used and tested on its own.

Dagster wiring lives above it (`assets/`, `pipeline/`); the data-quality suites in `expectations/`.
"""
