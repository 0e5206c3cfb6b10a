"""Reading the lake for people: a model's price history (`history`) and the monthly HTML report (`monthly`).

Pure functions over the lake's read-only SQL views (`llmprices.lake.query`) that return frames, PNG bytes or
one HTML string; writing files is the caller's (the CLI, the `cost_trends` asset).
"""
