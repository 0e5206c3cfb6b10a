"""Prices from a CSV file a person collected (`llmprices import-csv FILE`), one payload per day.

Header: `snapshot_date,provider,model,input_usd_per_mtok,output_usd_per_mtok`, optionally
`quantization` and `context_length` (any order; other columns are ignored). The CLI splits a file by
`snapshot_date` with `split_csv_by_day` and lands each day's lines, byte for byte and at their line numbers
in the file, as that day's raw payload, so the parser sees one day at a time and cites the file's lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, ParsedPayload, PayloadError, Rejection, SourceSpec
from llmprices.sources.common import MAX_INT
from llmprices.sources.prices import BadPrice, usd_per_mtok
from llmprices.sources.providers import canonical_provider

REQUIRED_COLUMNS = ("snapshot_date", "provider", "model", "input_usd_per_mtok", "output_usd_per_mtok")
OPTIONAL_COLUMNS = ("quantization", "context_length")


def split_csv_by_day(data: bytes) -> dict[date, bytes]:
    """{day: the file with only that day's records}, in day order.

    A day's payload is the header, then every line of the file in its place: that day's lines byte-exact,
    the other days' lines (and blank ones) left empty. Line N of a day's payload is line N of the file, so a
    quarantine reason's "line N" points into the file the user wrote. A quoted field spanning lines stays
    with its record. A header without the required columns, or a `snapshot_date` that is not YYYY-MM-DD, raises
    ValueError naming the line (so a file is refused before anything lands).
    """
    records = _physical_records(data)
    if not records:
        return {}
    header_line, header = records[0][1], _fields(*records[0])
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise ValueError(
            f"line 1: the header lacks {', '.join(missing)} (it has {','.join(header)}); a price CSV's header "
            f"names {','.join(REQUIRED_COLUMNS)}, optionally {','.join(OPTIONAL_COLUMNS)}, in any order"
        )
    date_index = names.index("snapshot_date")
    by_day: dict[date, list[tuple[int, bytes]]] = {}
    for line_number, raw in records[1:]:
        fields = _fields(line_number, raw)
        if not any(f.strip() for f in fields):
            continue
        value = fields[date_index].strip() if date_index < len(fields) else ""
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"line {line_number}: snapshot_date {value!r} is not a YYYY-MM-DD date") from None
        by_day.setdefault(day, []).append((line_number, raw))
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    return {day: _in_place(header_line, lines, newline) for day, lines in sorted(by_day.items())}


def _in_place(header_line: bytes, records: list[tuple[int, bytes]], newline: bytes) -> bytes:
    """The header and `records` (first line number, bytes) each on its own line number, empty lines between."""
    out, next_line = [_terminated(header_line, newline)], 2
    for line_number, raw in records:
        out.append(newline * (line_number - next_line))
        out.append(_terminated(raw, newline))
        next_line = line_number + len(raw.splitlines())
    return b"".join(out)


def _terminated(line: bytes, newline: bytes) -> bytes:
    """The file's last line may lack its newline; a payload's lines all end with one."""
    return line if line.endswith(b"\n") else line + newline


def _physical_records(data: bytes) -> list[tuple[int, bytes]]:
    """(first line number, bytes) of each CSV record, joining lines inside a quoted field."""
    records: list[tuple[int, bytes]] = []
    pending, start = b"", 0
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        if not pending:
            start = number
        pending += line
        if pending.count(b'"') % 2 == 0:
            if pending.strip():
                records.append((start, pending))
            pending = b""
    if pending.strip():
        records.append((start, pending))
    return records


def _fields(line_number: int, raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"line {line_number}: not UTF-8 text: {exc}") from None
    return next(csv.reader(io.StringIO(text)), [])


def parse(payloads: list[RawPayload], day: date) -> Iterator[ParsedPayload]:
    for payload in payloads:
        yield _parse_payload(payload, day)


def _parse_payload(payload: RawPayload, day: date) -> ParsedPayload:
    try:
        text = payload.body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{payload.name} is not UTF-8 text: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise PayloadError(f"{payload.name} is empty: no CSV header")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise PayloadError(f"{payload.name}: the CSV header lacks {missing} (header: {header})")
    index = {name: names.index(name) for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if name in names}
    parsed = ParsedPayload(payload)
    seen: dict[tuple[str, str, str], int] = {}
    while True:
        line_number = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.rejections.append(Rejection(f"line {line_number}: not valid CSV: {exc}", {"line": line_number}))
            continue
        if not any(cell.strip() for cell in row):
            continue
        _parse_row(row, line_number, index, day, parsed, seen)
    return parsed


def _parse_row(row: list[str], line: int, index: dict[str, int], day: date, parsed: ParsedPayload, seen) -> None:
    values = {name: row[i].strip() if i < len(row) else None for name, i in index.items()}
    record = {"line": line, **values}
    provider = canonical_provider(values["provider"]) if values.get("provider") else None
    model = values.get("model") or None

    def reject(reason: str) -> None:
        parsed.rejections.append(Rejection(f"line {line}: {reason}", record, provider, model))

    for name in REQUIRED_COLUMNS:
        if not values.get(name):
            reject(f"{name} is {'missing' if values.get(name) is None else 'empty'}")
            return
    if values["snapshot_date"] != day.isoformat():
        reject(f"snapshot_date {values['snapshot_date']!r} is not this payload's day {day.isoformat()}")
        return
    try:
        input_price = usd_per_mtok(values["input_usd_per_mtok"], "input_usd_per_mtok")
        output_price = usd_per_mtok(values["output_usd_per_mtok"], "output_usd_per_mtok")
        if input_price < 0 or output_price < 0:
            raise BadPrice(f"negative price (input {input_price}, output {output_price})")
    except BadPrice as exc:
        reject(str(exc))
        return
    context_text = values.get("context_length") or ""
    context_length = None
    if context_text:
        try:
            context_length = int(context_text.replace(",", "").replace("_", ""))
        except ValueError:
            context_length = None
        if context_length is None or not 0 <= context_length <= MAX_INT:
            reject(f"context_length={context_text!r} is not a whole number of tokens")
            return
    quantization = (values.get("quantization") or "").lower() or None
    key = (provider, model, quantization or "")
    if key in seen:
        reject(f"repeats line {seen[key]} ({values['provider']}, {model}, quantization {quantization})")
        return
    seen[key] = line
    parsed.listings.append(
        Listing(
            provider=provider,
            provider_model_id=model,
            input_usd_per_mtok=input_price,
            output_usd_per_mtok=output_price,
            # one provider may list a model at several quantizations: those are distinct listings
            variant=quantization or "",
            context_length=context_length,
            quantization=quantization,
        )
    )


SOURCE = SourceSpec(
    name="csv",
    description="Prices from a CSV file, landed per day by `llmprices import-csv FILE`.",
    parse=parse,
    live=False,
    archive_payload_name="prices.csv",
)
