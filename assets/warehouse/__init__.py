"""Warehouse assets: `price_history`, `price_changes`, `compacted_observations`."""

from assets.warehouse.assets import WAREHOUSE_ASSETS

__all__ = ["WAREHOUSE_ASSETS"]
