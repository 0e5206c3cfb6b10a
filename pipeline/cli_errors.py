"""How `llmprices` says something went wrong: one or two lines on stderr saying what and what to do, exit 2 for a
usage error (a file that is not there, a source that does not exist, a refused query) and 1 for anything else
(a run that failed, a bug); `--debug` shows the traceback instead.

Arguments are checked where argparse parses them (`existing_file`, `existing_folder`, `source_name`, `iso_day`,
`iso_month`), so a mistake is reported before any run starts.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import NoReturn

USAGE, FAILED, INTERRUPTED = 2, 1, 130


class Parser(argparse.ArgumentParser):
    """argparse, saying a usage mistake in a line and where the options are (not the whole usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: {message}\n  ({self.prog} --help lists the options)\n")


class UsageError(Exception):
    """What the user asked for cannot be done as asked; the message says what to change."""


def run_reporting_errors(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace, debug: bool) -> int:
    """`handler(args)`'s exit status; an exception becomes one or two lines and a status, unless `debug`."""
    if debug:
        return handler(args)
    command = f"llmprices {args.command}"
    try:
        return handler(args)
    except UsageError as exc:
        return _say(f"{command}: {exc}", USAGE)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as exc:
        return _say(f"{command}: {exc.filename or ''}: {(exc.strerror or str(exc)).lower()}", USAGE)
    except KeyboardInterrupt:
        return _say(f"{command}: interrupted", INTERRUPTED)
    except Exception as exc:  # a bug: say it in a line, and how to see where
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return _say(
            f"{command} failed: {type(exc).__name__}: {first_line}\n"
            f"  (unexpected: run it again with --debug for the traceback, and report it)",
            FAILED,
        )


def _say(message: str, status: int) -> int:
    print(message, file=sys.stderr)
    return status


def debug_anywhere(argv: list[str]) -> list[str]:
    """`--debug` wherever it was typed, moved before the command, where the main parser takes it."""
    return ["--debug"] * ("--debug" in argv) + [arg for arg in argv if arg != "--debug"]


# -- argument types: argparse turns their ArgumentTypeError into "error: argument X: <message>", exit 2 ---------
def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a file")
    return path


def existing_folder(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return path


def source_name(text: str) -> str:
    """A source the pipeline knows, or what the user may have meant."""
    from llmprices.sources import SOURCES_BY_NAME

    if text in SOURCES_BY_NAME:
        return text
    known = sorted(SOURCES_BY_NAME)
    close = difflib.get_close_matches(text, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise argparse.ArgumentTypeError(f"unknown source {text!r}{hint} (sources: {', '.join(known)})")


def iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from None


def iso_month(text: str) -> str:
    """A YYYY-MM month, as the lake's monthly partitions name it."""
    try:
        return date.fromisoformat(f"{text}-01").strftime("%Y-%m") if len(text) == 7 else _not_a_month(text)
    except ValueError:
        return _not_a_month(text)


def _not_a_month(text: str) -> str:
    raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM month")
