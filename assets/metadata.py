"""How assets show what they computed in the Dagster UI: markdown tables and charts."""

from __future__ import annotations

import base64
import io

import dagster as dg
import pandas as pd
from PIL import Image


def rows_md(frame: pd.DataFrame, rows: int = 25) -> dg.MetadataValue:
    """The first `rows` of a frame as a markdown list, one line per row led by its first column ("none" when
    empty). A list wraps in the UI's metadata column, about 400 pixels wide on an asset's overview, where a
    table of more than three columns is cut off."""
    if not len(frame):
        return dg.MetadataValue.md("none")
    head, *rest = frame.columns
    lines = [
        f"- **{record[head]}**: " + "; ".join(f"{column} {_cell(record[column])}" for column in rest)
        for record in frame.head(rows).to_dict("records")
    ]
    if len(frame) > rows:
        lines.append(f"- and {len(frame) - rows} more")
    return dg.MetadataValue.md("\n".join(lines))


def _cell(value) -> str:
    if isinstance(value, float):
        return "-" if pd.isna(value) else f"{value:.4g}"
    return str(value)


def chart_md(title: str, png: bytes) -> dg.MetadataValue:
    """A chart inlined as a markdown data URI, re-encoded with a 64-colour palette: it looks the same and is
    several times smaller, which matters because it is stored in the event log with every materialization."""
    small = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64).save(small, format="PNG", optimize=True)
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(small.getvalue()).decode()})")
