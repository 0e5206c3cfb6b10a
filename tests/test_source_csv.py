"""csv: a person's CSV of prices, split by snapshot_date byte for byte, then parsed one day at a time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.archive import read_archive_day
from llmprices.sources.base import PayloadError, SourceNotConfigured
from llmprices.sources.csv_import import SOURCE, parse, split_csv_by_day
from pipeline.resources import CsvImportSource

FIXTURE = Path(__file__).parent / "fixtures" / "sources" / "prices.csv"
JAN13, JAN14 = date(2025, 1, 13), date(2025, 1, 14)


def _payload(body: bytes) -> RawPayload:
    return RawPayload("prices.csv", "file:///prices.csv", 200, None, body)


def test_fetch_points_at_the_cli():
    with pytest.raises(SourceNotConfigured, match="llmprices import-csv FILE"):
        CsvImportSource().fetch(HttpClient())
    assert SOURCE.live is False


def test_split_by_day_keeps_lines_byte_exact_at_their_line_numbers():
    data = FIXTURE.read_bytes()
    lines = data.splitlines(keepends=True)
    by_day = split_csv_by_day(data)
    assert list(by_day) == [JAN13, JAN14]

    newline = b"\r\n"  # the fixture's, kept
    assert lines[0].endswith(newline)

    def in_place(kept: set[int]) -> bytes:  # the other days' lines and the blank line 7 are left empty
        return b"".join(line if i == 0 or i in kept else newline for i, line in enumerate(lines[: max(kept) + 1]))

    assert by_day[JAN13] == in_place({1, 3, 4, 5, 8, 9})
    assert by_day[JAN14] == in_place({2, 7, 10, 11}) + lines[12] + newline  # the last line gets its newline
    for day, body in by_day.items():  # line N of a payload is line N of the file
        for number, line in enumerate(body.splitlines(), start=1):
            assert line in (b"", lines[number - 1].rstrip(b"\r\n")), (day, number)


def test_split_rejects_a_bad_date_naming_the_line():
    data = (
        b"snapshot_date,provider,model,input_usd_per_mtok,output_usd_per_mtok\n2025-01-13,a,m,1,2\n13/01/2025,a,m,1,2\n"
    )
    with pytest.raises(ValueError, match=r"line 3: snapshot_date '13/01/2025' is not a YYYY-MM-DD date"):
        split_csv_by_day(data)
    with pytest.raises(ValueError, match="line 1: the header lacks snapshot_date, model, input_usd_per_mtok, "
                       "output_usd_per_mtok \\(it has date,provider\\)"):  # fmt: skip
        split_csv_by_day(b"date,provider\n2025-01-13,a\n")
    assert split_csv_by_day(b"") == {}


def test_a_file_s_last_line_gets_a_newline_and_crlf_files_keep_crlf():
    data = b"snapshot_date,provider,model,input_usd_per_mtok,output_usd_per_mtok\n2025-01-14,a,m,1,2"
    assert split_csv_by_day(data + b"\n2025-01-13,b,m,1,2\n")[JAN14] == data + b"\n"
    assert split_csv_by_day(data)[JAN14] == data + b"\n"
    crlf = data.replace(b"\n", b"\r\n") + b"\r\n2025-01-13,b,m,1,2"
    assert split_csv_by_day(crlf)[JAN13] == crlf.split(b"\r\n")[0] + b"\r\n\r\n2025-01-13,b,m,1,2\r\n"


def test_parse_each_day():
    by_day = split_csv_by_day(FIXTURE.read_bytes())
    [jan13] = parse([_payload(by_day[JAN13])], JAN13)
    rows = [
        (
            i.provider,
            i.provider_model_id,
            i.input_usd_per_mtok,
            i.output_usd_per_mtok,
            i.quantization,
            i.variant,
            i.context_length,
        )
        for i in jan13.listings
    ]
    assert rows == [
        ("deepinfra", "meta-llama/Meta-Llama-3.1-70B-Instruct", 0.23, 0.4, "bf16", "bf16", 131072),
        ("together", "Meta Llama 3.1 70B Instruct Turbo, FP8", 0.88, 0.88, "fp8", "fp8", 131072),
        ("lambda", "llama3.1-405b-instruct-fp8", 0.8, 0.8, "fp8", "fp8", 131072),
        ("fireworks", "accounts/fireworks/models/llama-v3p1-70b-instruct", 0.9, 0.9, None, "", None),
    ]
    assert [r.reason for r in jan13.rejections] == [
        "line 6: repeats line 5 (Lambda, llama3.1-405b-instruct-fp8, quantization fp8)",
        "line 10: context_length='128k' is not a whole number of tokens",
    ]
    assert jan13.rejections[1].record["line"] == 10  # the file's line numbers, not the day's payload's

    [jan14] = parse([_payload(by_day[JAN14])], JAN14)
    assert [(i.provider, i.input_usd_per_mtok, i.output_usd_per_mtok) for i in jan14.listings] == [
        ("deepinfra", 0.23, 0.4),
        ("sambanova", 5.0, 10.0),
    ]
    assert [(r.provider, r.reason) for r in jan14.rejections] == [
        ("groq", "line 8: output_usd_per_mtok='n/a' is not a number"),
        (None, "line 11: provider is empty"),
        ("cerebras", "line 12: output_usd_per_mtok is missing"),
    ]


def test_a_row_of_another_day_is_rejected():
    body = b"snapshot_date,provider,model,input_usd_per_mtok,output_usd_per_mtok\n2025-01-14,a,m,1,2\n"
    [parsed] = parse([_payload(body)], JAN13)
    assert [r.reason for r in parsed.rejections] == [
        "line 2: snapshot_date '2025-01-14' is not this payload's day 2025-01-13"
    ]


def test_missing_required_columns_is_a_payload_error():
    with pytest.raises(PayloadError, match=r"lacks \['output_usd_per_mtok'\]"):
        list(parse([_payload(b"snapshot_date,provider,model,input_usd_per_mtok\n2025-01-13,a,m,1\n")], JAN13))
    with pytest.raises(PayloadError, match="empty"):
        list(parse([_payload(b"")], JAN13))


def test_split_days_read_back_like_the_cli_lands_them(tmp_path):
    for day, body in split_csv_by_day(FIXTURE.read_bytes()).items():
        (tmp_path / f"{day.isoformat()}.csv").write_bytes(body)
    [payload] = read_archive_day(tmp_path, JAN14, SOURCE.archive_payload_name)
    [parsed] = parse([payload], JAN14)
    assert (len(parsed.listings), len(parsed.rejections)) == (2, 3)
