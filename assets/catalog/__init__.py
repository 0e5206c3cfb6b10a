"""The model catalog (`model_catalog`), the models first seen each day (`new_models`) and the model ids the
matcher could not name (`unmatched_models`)."""

from assets.catalog.assets import CATALOG_ASSETS

__all__ = ["CATALOG_ASSETS"]
