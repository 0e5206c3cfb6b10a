"""How assets show what they computed in the Dagster UI: markdown tables and charts."""

from __future__ import annotations

import base64
import io

import dagster as dg
import pandas as pd
from PIL import Image


def table_md(frame: pd.DataFrame, rows: int = 25, floatfmt: str = ".4g") -> dg.MetadataValue:
    """The first `rows` of a frame as a markdown table ("none" when empty)."""
    return dg.MetadataValue.md(frame.head(rows).to_markdown(index=False, floatfmt=floatfmt) if len(frame) else "none")


def chart_md(title: str, png: bytes) -> dg.MetadataValue:
    """A chart inlined as a markdown data URI, re-encoded with a 64-colour palette: it looks the same and is
    several times smaller, which matters because it is stored in the event log with every materialization."""
    small = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64).save(small, format="PNG", optimize=True)
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(small.getvalue()).decode()})")
