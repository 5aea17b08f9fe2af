"""The `tagtrail` command: a thin layer over the library.

Every command parses its options, calls the library and prints (text for people, `--json` for
scripts). Errors are translated here, once: a `TagtrailError` exits with 1 and its message, a
usage error with 2 and the usage hint, and with `--json` both stay valid JSON on stdout. No
traceback reaches a user unless `TAGTRAIL_DEBUG=1` asks for one.
"""

from __future__ import annotations

import functools
import importlib
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import click

from tagtrail import __version__
from tagtrail.cli.output import report_error, report_tagtrail_error
from tagtrail.errors import InvalidOptions, InvalidSettings, TagtrailError
from tagtrail.settings import load_settings

logger = logging.getLogger(__name__)


#: Every command, imported only when it runs (`tagtrail build` need not load the server), with
#: the summary `tagtrail --help` lists, so that listing them imports none (it took 5.7 s when
#: it imported them all; tests/cli/test_help.py holds each summary to its command's help).
COMMANDS: Final = {
    "attribute": (
        "tagtrail.cli.attribute:attribute",
        "Attribute conversions to channels under every model, side by side (DESIGN §7).",
    ),
    "build": (
        "tagtrail.cli.build:build",
        "Build a tracked campaign link and predict its GA4 channel.",
    ),
    "campaigns": (
        "tagtrail.cli.campaigns:campaigns",
        "Campaigns: list them, show one, its clicks over every link, and its holdout.",
    ),
    "channel": (
        "tagtrail.cli.channel:channel",
        "Predict the GA4 default channel of a visit, and say which rule decides it.",
    ),
    "check": (
        "tagtrail.cli.check:check",
        "Follow each URL's redirect chain and check that its UTMs survive every hop.",
    ),
    "keys": (
        "tagtrail.cli.keys:keys",
        "API keys: create, list, revoke (on the store in --data-dir or --database-url).",
    ),
    "links": (
        "tagtrail.cli.links:links",
        "Short links: create, list, show, stats, recipient URLs, import, disable, delete.",
    ),
    "messages": (
        "tagtrail.cli.messages:messages",
        "Campaign messages: an email or SMS body in, tracked per-recipient links out.",
    ),
    "lint": (
        "tagtrail.cli.build:lint",
        "Report problems in existing tracked URLs without rewriting them.",
    ),
    "presets": (
        "tagtrail.cli.build:presets",
        "List the presets `tagtrail build --preset` knows (built-in and from the naming policy).",
    ),
    "serve": (
        "tagtrail.cli.serve:serve",
        "Run the tagtrail server: short links, click tracking and the API (docs at /docs).",
    ),
    "profile": (
        "tagtrail.cli.profile:profile",
        "Show USER's profile: first touch (initial_*) and last non-direct touch (last_*).",
    ),
    "report": (
        "tagtrail.cli.report:report",
        "Write the overview, campaigns and links, channels and the attribution model comparison.",
    ),
    "goals": (
        "tagtrail.cli.goals:goals",
        "Conversion goals: track events that convert (on --data-dir, or --api with --key).",
    ),
    "import": (
        "tagtrail.cli.transfer:import_",
        "Store FILE: a journey CSV (user_id,timestamp,type,channel,...) or Segment JSON lines.",
    ),
    "init": (
        "tagtrail.cli.store:init",
        "Create the store (migrated to this version) and its workspace.",
    ),
    "migrate": (
        "tagtrail.cli.store:migrate",
        "Apply the migrations this version of tagtrail adds to an existing store.",
    ),
    "mcp": (
        "tagtrail.cli.mcp:mcp",
        "Serve tagtrail's tools to AI assistants over the Model Context Protocol.",
    ),
    "export": (
        "tagtrail.cli.transfer:export",
        "Write every identity's arrivals and conversions in the DESIGN §7 format.",
    ),
    "lift": (
        "tagtrail.cli.lift:lift",
        "Measure what a campaign caused: its treated recipients against its held-out ones.",
    ),
    "workspace": (
        "tagtrail.cli.workspace:workspace",
        "The workspace's settings (default UTMs, identification, excluded domains, global "
        "holdout).",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's documented pattern)."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = {name: target for name, (target, _) in lazy.items()}
        self.summaries = {name: summary for name, (_, summary) in lazy.items()}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return _translating(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands, from their summaries: no command is imported for it."""
        rows = [(name, self.summaries[name]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _translating(command: click.Command) -> click.Command:
    """`command` (and its subcommands) with the library's `InvalidOptions` raised as click's
    usage errors, so they print and exit (2) as click's own do."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _translating(sub)
    callback = command.callback
    if callback is not None and not getattr(callback, "_translates", False):
        command.callback = _usage_errors(callback)
    return command


def _usage_errors(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except InvalidOptions as exc:
            if exc.option is None:
                raise click.UsageError(exc.message) from None
            flag = "--" + exc.option.replace("_", "-")
            raise click.BadParameter(exc.message, param_hint=flag) from None

    wrapper._translates = True  # type: ignore[attr-defined]
    return wrapper


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="tagtrail")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="How much to log on stderr [TAGTRAIL_LOG_LEVEL, else info].",
)
def cli(log_level: str | None) -> None:
    """tagtrail: campaign links you can trust, and the attribution they earn.

    Build and lint UTM links, predict their GA4 channel, and check that their UTMs survive every
    redirect. Run `tagtrail COMMAND --help` for a command's options; docs/cli.md has them all.
    """
    level = log_level or _setting("log_level", "info")
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if level != "debug":  # the HTTP client logs a line per request: shown with debug only
        for chatty in ("httpx", "httpcore"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


def _setting(name: str, fallback: Any) -> Any:
    """A setting for the CLI itself; settings that are not valid leave it at `fallback` (the
    command that reads them says what is wrong)."""
    try:
        return getattr(load_settings(), name)
    except TagtrailError:
        return fallback


# Commands: each module owns its commands; register them here, one line each (lazily in
# COMMANDS above, or with cli.add_command below).


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` and return the exit code (never raises for user errors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    try:
        result = cli.main(args, prog_name="tagtrail", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        hint = None
        if exc.ctx is not None:
            hint = f"see `{exc.ctx.command_path} --help`"
        report_error(exc.format_message(), hint=hint, as_json=as_json, status=2)
        return 2
    except click.ClickException as exc:
        report_error(exc.format_message(), hint=None, as_json=as_json, status=exc.exit_code)
        return exc.exit_code
    except InvalidSettings as exc:  # a setting is given like an option: a usage error
        report_error(exc.message, hint=exc.hint, as_json=as_json, status=2)
        return 2
    except TagtrailError as exc:
        report_tagtrail_error(exc, as_json=as_json)
        return 1
    except click.Abort:
        report_error("aborted", hint=None, as_json=as_json, status=130)
        return 130
    except KeyboardInterrupt:
        report_error("interrupted", hint=None, as_json=as_json, status=130)
        return 130
    except Exception as exc:  # the last line of defence: a bug, reported without a traceback
        if _setting("debug", False):
            raise
        logger.debug("unexpected error", exc_info=True)
        report_error(
            f"internal error: {type(exc).__name__}: {exc}",
            hint="run again with TAGTRAIL_DEBUG=1 for the traceback, and report it",
            as_json=as_json,
            status=1,
        )
        return 1
    return result if isinstance(result, int) else 0


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
