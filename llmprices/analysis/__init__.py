"""Spread statistics and monthly-refitted cost trends: pure functions over frames.

`spreads` picks one price per provider and summarizes how far providers differ for the same model;
`trends` fits the seed's size -> minimum-price line (per month, per provider) and reads MoE,
proprietary-model and price-decline figures off it; `monthly` refits a month's every trend table;
`charts` renders the seed's charts as PNG bytes. Dagster wiring (`assets/analytics/`) only calls these.
"""
