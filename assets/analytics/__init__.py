"""Analytics assets: `provider_prices`, `daily_spreads` and `cost_trends` (one asset per `trends/<table>`)."""

from assets.analytics.assets import ANALYTICS_ASSETS

__all__ = ["ANALYTICS_ASSETS"]
