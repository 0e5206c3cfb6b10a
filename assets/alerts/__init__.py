"""Alert assets: `alert_deliveries`."""

from assets.alerts.assets import ALERT_ASSETS

__all__ = ["ALERT_ASSETS"]
