"""Every price source the pipeline knows, one module each (a fetch and an offline parser), and the ways past
days come in: folders of dated captures (`archive`) and the git and Wayback importers (`importers`)."""

from llmprices.sources import (
    artificialanalysis,
    csv_import,
    genai_prices,
    html_pages,
    huggingface,
    litellm,
    openrouter,
    openrouter_endpoints,
)
from llmprices.sources.base import SourceSpec

ALL_SOURCES: list[SourceSpec] = [
    openrouter.SOURCE,
    openrouter_endpoints.SOURCE,
    huggingface.SOURCE,
    litellm.SOURCE,
    genai_prices.SOURCE,
    artificialanalysis.SOURCE,
    html_pages.SOURCE,
    csv_import.SOURCE,
]

SOURCES_BY_NAME: dict[str, SourceSpec] = {spec.name: spec for spec in ALL_SOURCES}
