"""The model catalog (`model_catalog`) and the model ids the matcher could not name (`unmatched_models`)."""

from assets.catalog.assets import model_catalog, unmatched_models

CATALOG_ASSETS = [model_catalog, unmatched_models]
