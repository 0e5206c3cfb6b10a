"""Per source, `raw/<source>` (payloads as fetched) and `observations/<source>` (parsed, validated rows)."""

from assets.sources.assets import build_source_assets
from llmprices.sources import ALL_SOURCES

SOURCE_ASSETS = [asset for spec in ALL_SOURCES for asset in build_source_assets(spec)]
