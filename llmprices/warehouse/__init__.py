"""Warehouse tables derived from observations: every listing's price intervals (`history`) and what moved
from one day to the next (`changes`), as pure functions over frames plus the lake reads they need."""
