"""Analytics assets: `provider_prices` and `anomalies` (the trust rules and the reconciliation, one multi-asset),
`daily_spreads`, and `cost_trends` (one asset per `trends/<table>`)."""

from assets.analytics.prices import reconciled_prices
from assets.analytics.spreads import daily_spreads
from assets.analytics.trends import cost_trends

ANALYTICS_ASSETS = [reconciled_prices, daily_spreads, cost_trends]

__all__ = ["ANALYTICS_ASSETS"]
