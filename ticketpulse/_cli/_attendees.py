"""Reading the attendees CSV of ``ticketpulse personalize``.

The whole file is checked before anything is sent: every problem is reported
with its line number (the header is line 1) and, if there is one, no request
is made at all.

- The header row names the columns ``ticket_id``, ``first_name``,
  ``last_name``, ``email`` and ``tel``, in any order; case, spaces, hyphens
  and underscores do not matter (``First Name``, ``E-mail``), and ``phone``
  may stand for ``tel``. Other columns are ignored.
- Comma, semicolon (as spreadsheets write in many European locales) or tab
  separated: the separator is the one that splits the header into those
  columns. UTF-8, with or without a byte-order mark.
- Every field of every row is required and non-empty (surrounding spaces are
  stripped); a ticket may appear once; fully empty rows are skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from .._models import Attendee

__all__ = ["COLUMNS", "AttendeeRow", "AttendeesFileError", "file_problems", "parse_attendees"]

COLUMNS = ("ticket_id", "first_name", "last_name", "email", "tel")
_SEPARATORS = (",", ";", "\t")
_SHOWN_PROBLEMS = 5


class AttendeesFileError(Exception):
    """The file cannot be used; ``str()`` is one line naming every problem."""


@dataclass(frozen=True)
class AttendeeRow:
    """One data row of the file: its line number (the header is line 1) and attendee."""

    line: int
    attendee: Attendee


def file_problems(name: str, problems: Sequence[str]) -> AttendeesFileError:
    """One error naming the first few ``problems`` (``"line 3: ..."``) of file ``name``."""
    shown = "; ".join(problems[:_SHOWN_PROBLEMS])
    more = (
        f" (and {len(problems) - _SHOWN_PROBLEMS} more)" if len(problems) > _SHOWN_PROBLEMS else ""
    )
    return AttendeesFileError(f"{name}: {shown}{more}")


def parse_attendees(data: bytes, name: str) -> list[AttendeeRow]:
    """The rows of a CSV file's bytes; :class:`AttendeesFileError` if any row is bad."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AttendeesFileError(
            f"{name}: line {line}: not UTF-8 text; save the sheet as CSV UTF-8"
        ) from None
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise AttendeesFileError(
            f"{name}: line 1: expected a header row naming the columns {', '.join(COLUMNS)}"
        )
    separator, positions = _header(first_line, name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    problems: list[str] = []
    attendees: list[AttendeeRow] = []
    seen: dict[str, int] = {}
    try:
        next(reader)  # the header
        line = reader.line_num + 1
        for row in reader:
            problem, attendee = _row(row, positions, line, seen)
            if problem:
                problems.append(f"line {line}: {problem}")
            elif attendee is not None:
                attendees.append(AttendeeRow(line, attendee))
            line = reader.line_num + 1
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if problems:
        raise file_problems(name, problems)
    if not attendees:
        raise AttendeesFileError(f"{name}: no tickets after the header row")
    return attendees


# Headings are compared without case, spaces, hyphens or underscores.
_ALIASES = {
    "ticketid": "ticket_id",
    "ticket": "ticket_id",
    "firstname": "first_name",
    "lastname": "last_name",
    "email": "email",
    "tel": "tel",
    "phone": "tel",
    "telephone": "tel",
}


def _normalise(heading: str) -> str:
    squeezed = "".join(char for char in heading.lower() if char.isalnum())
    return _ALIASES.get(squeezed, squeezed)


def _header(first_line: str, name: str) -> tuple[str, dict[str, int]]:
    """The separator that splits the header into the required columns, and their positions."""
    best: tuple[str, list[str]] | None = None
    for separator in _SEPARATORS:
        none: list[str] = []
        cells = next(csv.reader([first_line], delimiter=separator), none)
        headings = [_normalise(cell) for cell in cells]
        if best is None or _known(headings) > _known(best[1]):
            best = (separator, headings)
    assert best is not None
    separator, headings = best
    missing = [column for column in COLUMNS if column not in headings]
    if missing:
        raise AttendeesFileError(
            f"{name}: line 1: missing column {', '.join(missing)} "
            f"(the header row must name {', '.join(COLUMNS)})"
        )
    repeated = sorted({h for h in headings if h in COLUMNS and headings.count(h) > 1})
    if repeated:
        raise AttendeesFileError(f"{name}: line 1: column {', '.join(repeated)} appears twice")
    return separator, {column: headings.index(column) for column in COLUMNS}


def _known(headings: Sequence[str]) -> int:
    return sum(1 for column in COLUMNS if column in headings)


def _row(
    row: Sequence[str], positions: dict[str, int], line: int, seen: dict[str, int]
) -> tuple[str, Attendee | None]:
    """One data row: a problem to report, or the attendee (None for an empty row)."""
    if not any(cell.strip() for cell in row):
        return "", None
    values: dict[str, str] = {}
    faults: list[str] = []
    for column in COLUMNS:
        index = positions[column]
        if index >= len(row):
            faults.append(f"missing {column}")
            continue
        value = row[index].strip()
        if not value:
            faults.append(f"empty {column}")
        elif any(not char.isprintable() for char in value):
            faults.append(f"{column} contains a line break or a control character")
        values[column] = value
    ticket_id = values.get("ticket_id", "")
    if ticket_id in seen:
        faults.insert(0, f"ticket {ticket_id} is already on line {seen[ticket_id]}")
    elif ticket_id:
        seen[ticket_id] = line
    if faults:
        return ", ".join(faults), None
    return "", Attendee(**values)
