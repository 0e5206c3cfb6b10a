"""Prices you can trust: who is selling, which listings not to believe and why, one price per provider.

`sellers` says what kind of offer a listing is (first-party, marketplace, curated, resale; routers in
`routers.csv`); the rules flag rows with a reason and never delete them (`flags`: resale, stale, placeholder,
unit_slip, outlier, order_violation; thresholds in `TrustConfig`); `reconcile` makes one price per provider,
model, variant and day with its provenance; `checkpoints` says which models are their creators' own dense
checkpoints (the siblings of the order rule, the models of the cost trend). Pure functions over frames.
"""
