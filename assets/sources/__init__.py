"""Every price source the pipeline knows, one module each."""

from assets.sources import openrouter
from assets.sources.base import SourceSpec

ALL_SOURCES: list[SourceSpec] = [
    openrouter.SOURCE,
]

SOURCES_BY_NAME: dict[str, SourceSpec] = {spec.name: spec for spec in ALL_SOURCES}
