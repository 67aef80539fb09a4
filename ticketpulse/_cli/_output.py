"""Writing results: a rich table on a terminal, tab-separated text in a pipe, or JSON.

Data goes to stdout; notes and progress go to stderr, so ``| jq`` and
``| cut -f1`` see only the data.

``--json`` writes the models' JSON form, made by the SDK's own converter:
field names as on the wire, dates as ISO 8601 in UTC (``2025-08-02T12:00:00Z``),
prices as strings with their exact digits (``"29.95"``: JSON numbers would
turn into binary floats in most readers), ticket statuses as the API's
numbers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._convert import converter
from .._models import TicketStatus

__all__ = ["Column", "Output", "format_date", "format_status", "to_json_data"]


def to_json_data(value: Any) -> Any:
    """A model (or list of models) as plain JSON data, Decimals as exact strings."""
    return _decimals_as_strings(converter.unstructure(value))


def _decimals_as_strings(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _decimals_as_strings(item) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_decimals_as_strings(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def format_date(value: datetime | None, *, plain: bool) -> str:
    """ISO 8601 for machines; ``2025-08-02 12:00 UTC`` for people."""
    if value is None:
        return ""
    if plain:
        text: str = converter.unstructure(value, datetime)
        return text
    if value.utcoffset() == UTC.utcoffset(None):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.strftime("%Y-%m-%d %H:%M %z")


_STATUS_STYLES = {
    TicketStatus.CREATED: "yellow",
    TicketStatus.ACTIVE: "green",
    TicketStatus.SCANNED_IN: "cyan",
    TicketStatus.SCANNED_OUT: "cyan",
    TicketStatus.CANCELLED: "red",
}


def format_status(status: TicketStatus) -> str:
    """``active``, ``scanned in``... (``unknown 7`` for a status the SDK does not name)."""
    return (status.name or str(int(status))).lower().replace("_", " ")


def status_style(status: TicketStatus) -> str:
    return _STATUS_STYLES.get(status, "")


class Column:
    """A column: its heading; ``numeric``: right-aligned; ``wrap``: may break lines in a table."""

    def __init__(self, heading: str, *, numeric: bool = False, wrap: bool = True) -> None:
        self.heading = heading
        self.numeric = numeric
        self.wrap = wrap


Cell = str | Text


class Output:
    """Where a command writes: JSON, a rich table, or plain tab-separated lines."""

    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode
        self._out = Console(file=sys.stdout, highlight=False, soft_wrap=False)
        self._err = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        self.is_terminal = self._out.is_terminal
        self._tables_shown = 0

    @property
    def plain(self) -> bool:
        """True when writing tab-separated text (not a terminal, not JSON)."""
        return not self.json_mode and not self.is_terminal

    @property
    def stderr(self) -> Console:
        return self._err

    def json(self, value: Any) -> None:
        """Write ``value`` (plain data or models) as indented JSON."""
        click.echo(json.dumps(to_json_data(value), indent=2, ensure_ascii=False))

    def line(self, text: str) -> None:
        """One line of data on stdout, as it is (a URL, a path)."""
        click.echo(text)

    def table(
        self, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *, title: str | None = None
    ) -> None:
        """Rows as a rich table on a terminal, else tab-separated with a header line.

        ``title`` is shown above a table (not in plain output).
        """
        if self.is_terminal:
            if title and self._tables_shown:
                self._out.print()
            self._tables_shown += 1
            table = Table(
                title=title,
                title_justify="left",
                title_style="bold",
                show_edge=False,
                pad_edge=False,
                header_style="bold",
            )
            for column in columns:
                table.add_column(
                    column.heading,
                    justify="right" if column.numeric else "left",
                    no_wrap=not column.wrap,
                )
            for row in rows:
                table.add_row(*row)
            self._out.print(table)
            return
        click.echo("\t".join(_plain_heading(column.heading) for column in columns))
        for row in rows:
            click.echo("\t".join(_plain_cell(cell) for cell in row))

    def note(self, text: str, *, style: str = "") -> None:
        """A message for people, on stderr (never mixed into the data)."""
        if self._err.is_terminal:
            self._err.print(text, style=style or None, markup=False)
        else:
            click.echo(text, err=True)


def _plain_heading(heading: str) -> str:
    return heading.lower().replace(" ", "_")


def _plain_cell(cell: Cell) -> str:
    text = cell.plain if isinstance(cell, Text) else cell
    # A tab or a line break inside a value would break the columns.
    return " ".join(text.split())
