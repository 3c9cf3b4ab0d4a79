"""The ``kumoi`` command: argument parsing only; the work happens in :mod:`kumoi.runtime`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from kumoi import __version__
from kumoi.config import load_settings, setting_docs


def _comma_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``kumoi serve``: one flag per setting, derived from :class:`~kumoi.config.Settings`."""
    epilog = "Every option can also be set in the environment:\n" + "\n".join(
        f"  {env:<26} {help_text} (default: {default!r})" for _name, env, help_text, default in setting_docs()
    )
    serve = commands.add_parser(
        "serve", help="run the server", epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, env, help_text, default in setting_docs():
        flag = "--" + name.replace("_", "-")
        described = f"{help_text} [{env}]"
        if isinstance(default, bool):
            serve.add_argument(
                flag, dest=name, default=None, action="store_const", const=True, help=described
            )
        elif isinstance(default, tuple):
            serve.add_argument(flag, dest=name, default=None, type=_comma_list, help=described)
        else:
            serve.add_argument(flag, dest=name, default=None, type=type(default), help=described)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kumoi", description="A self-hosted, AWS-compatible cloud core.")
    parser.add_argument("--version", action="version", version=f"kumoi {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_parser(commands)
    snapshot = commands.add_parser("snapshot", help="save or load all data of a kumoi server")
    actions = snapshot.add_subparsers(dest="action", required=True)
    save = actions.add_parser("save", help="ask a running server for a consistent snapshot")
    save.add_argument("file", type=Path)
    save.add_argument("--endpoint", default="http://127.0.0.1:4566", help="the running server's URL")
    load = actions.add_parser("load", help="unpack a snapshot into an empty data directory (server stopped)")
    load.add_argument("file", type=Path)
    load.add_argument("--data-dir", type=Path, default=Path(".kumoi"))
    reset = commands.add_parser("reset", help="delete all data of a stopped server")
    reset.add_argument("--data-dir", type=Path, default=Path(".kumoi"))
    keys = commands.add_parser("keys", help="manage the master keys of encryption at rest")
    key_actions = keys.add_subparsers(dest="action", required=True)
    rotate = key_actions.add_parser(
        "rotate", help="make a new master key active and rewrap every data key (server stopped)"
    )
    rotate.add_argument("--data-dir", type=Path, default=Path(".kumoi"))
    rotate.add_argument("--master-key-file", default="", help="the current key, if the server is given one")
    rotate.add_argument(
        "--new-key-file", default="", help="the new key (base64); default: generate one in <data-dir>/keys/"
    )
    coverage = commands.add_parser("coverage", help="print which operations of each service are implemented")
    coverage.add_argument("--missing", action="store_true", help="list the operations not implemented")
    coverage.add_argument("--markdown", action="store_true", help="print a Markdown table (for the README)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(vars(args))
    if args.command in ("snapshot", "reset"):
        from kumoi.runtime.snapshots import run_command

        return run_command(args)
    if args.command == "keys":
        return _rotate_keys(args)
    if args.command == "coverage":
        from kumoi.runtime.coverage import coverage_report

        print(coverage_report(missing=args.missing, markdown=args.markdown))
        return 0
    return 2


def _serve(options: dict[str, object]) -> int:
    from kumoi.runtime.app import StartupError
    from kumoi.runtime.logs import configure as configure_logging
    from kumoi.runtime.serve import run

    try:
        settings = load_settings(options)
    except ValueError as exc:
        print(f"kumoi: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        run(settings)
    except StartupError as exc:
        print(f"kumoi: {exc}", file=sys.stderr)
        return 2
    return 0


def _rotate_keys(args: argparse.Namespace) -> int:
    from kumoi.runtime.keys import MasterKeyError, rotate

    try:
        report = rotate(args.data_dir, args.master_key_file, args.new_key_file)
    except (MasterKeyError, OSError) as exc:
        print(f"kumoi: {exc}", file=sys.stderr)
        return 2
    print(
        f"active master key {report.key_id}: rewrapped {report.blobs} blobs and {report.inline} inline "
        f"objects, {report.failed} under unknown keys, {report.retired} old keys removed"
    )
    return 1 if report.failed else 0
