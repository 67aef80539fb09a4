"""The options shared by the commands, and the help layout that shows them.

The global options (``--api-key``, ``--base-url``, ``--sandbox``, ``--json``,
``--timeout``, ``--max-retries``) are accepted before the command
(``ticketpulse --json events``) and after it (``ticketpulse events --json``);
the environment variables are read once, by the group. Their values land in
the :class:`Settings` of the click context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from ._settings import Settings

__all__ = ["EVENT", "Command", "global_options", "pass_settings", "user_option"]

F = TypeVar("F", bound=Callable[..., Any])

pass_settings = click.make_pass_decorator(Settings, ensure=True)

EVENT = click.IntRange(min=1)

_GLOBAL = frozenset({"api_key", "base_url", "sandbox", "json", "timeout", "max_retries"})


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    name = param.name or ""
    source = ctx.get_parameter_source(name)
    if source in (None, ParameterSource.DEFAULT):
        return
    settings = ctx.ensure_object(Settings)
    on_command_line = source is ParameterSource.COMMANDLINE
    if name == "api_key":
        settings.api_key = value
        settings.api_key_on_command_line = on_command_line
    elif name == "base_url":
        settings.base_url = value
        settings.base_url_on_command_line = on_command_line
    elif name == "sandbox":
        settings.use_sandbox = bool(value)
    elif name == "json":
        settings.json = bool(value)
    elif name == "timeout":
        settings.timeout = value
    elif name == "max_retries":
        settings.max_retries = value


def global_options(*, on_group: bool) -> Callable[[F], F]:
    """The global options, for the group (with environment variables) or a command."""

    def env(name: str) -> str | None:
        return name if on_group else None

    options = [
        click.option(
            "--api-key",
            "api_key",
            metavar="KEY",
            envvar=env("TICKETPULSE_API_KEY"),
            expose_value=False,
            callback=_store,
            help="Your private API key [env: TICKETPULSE_API_KEY]. Never printed.",
        ),
        click.option(
            "--base-url",
            "base_url",
            metavar="URL",
            envvar=env("TICKETPULSE_BASE_URL"),
            expose_value=False,
            callback=_store,
            help="API base URL [env: TICKETPULSE_BASE_URL; default "
            "https://ticket-pulse.com/tp-api].",
        ),
        click.option(
            "--sandbox",
            "sandbox",
            is_flag=True,
            expose_value=False,
            callback=_store,
            help="Run against an in-process sandbox with the demo data (see ticketpulse --help).",
        ),
        click.option(
            "--json",
            "json",
            is_flag=True,
            expose_value=False,
            callback=_store,
            help="Write JSON (dates ISO 8601 UTC, prices as exact decimal strings).",
        ),
        click.option(
            "--timeout",
            "timeout",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
            expose_value=False,
            callback=_store,
            help="Per-request timeout [default: 5 to connect, 30 without progress].",
        ),
        click.option(
            "--max-retries",
            "max_retries",
            type=click.IntRange(min=0),
            metavar="N",
            expose_value=False,
            callback=_store,
            help="Retries of a failed request [default: 2].",
        ),
    ]

    def decorate(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


class Command(click.Command):
    """A command whose --help lists the global options in their own section."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            if not isinstance(param, click.Option):
                continue  # arguments are described in the command's text
            record = param.get_help_record(ctx)
            if record is not None:
                (shared if param.name in _GLOBAL else own).append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if shared:
            with formatter.section("Global options (also accepted before the command)"):
                formatter.write_dl(shared)


def user_option(f: F) -> F:
    return click.option(
        "--user",
        "user_id",
        type=click.IntRange(min=1),
        required=True,
        metavar="USER",
        help="The buyer's user id on your platform (e.g. the WooCommerce user id).",
    )(f)
