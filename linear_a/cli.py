"""`linear-a`: the command-line tool.

Each group of subcommands lives in its own module (``cmd_core``, ``cmd_transforms``,
``cmd_check``, ``cmd_paper``) exposing ``register(subparsers)``; this module only
assembles them and turns errors into one readable line and an exit code:

* 0 — success;
* 1 — the input was wrong (a :class:`semantics.LinearAError`: parse, type,
  transform, domain error …) or a check was refuted;
* 2 — the command line was wrong (unknown flag, bad ``--args``);
* 3 — an internal error, i.e. a bug in linear-a (a traceback only with ``--debug``).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from semantics.errors import LinearAError, UsageError

COMMAND_MODULES = ["cmd_core", "cmd_transforms", "cmd_check", "cmd_paper"]
REPORT_URL = "the linear-a issue tracker"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="linear-a",
                description="Reverse-mode AD as JVP, then unzip, then transpose, in Linear A "
                            "(You Only Linearize Once, POPL 2023).")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for internal errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"linear_a.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"linear_a.{name}":
                continue   # that group of commands is not built yet
            raise
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except UsageError as e:
        print(f"linear-a: {e.message}" if e.pos is None and e.file is None else f"linear-a: {e}",
              file=sys.stderr)
        return 2
    except LinearAError as e:
        print(str(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("linear-a: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except RecursionError:
        if debug:
            raise
        print("linear-a: internal error: the input nests too deeply for this implementation "
              f"(a bug: please report it to {REPORT_URL}; rerun with --debug for details)", file=sys.stderr)
        return 3
    except Exception as e:  # a bug in linear-a, never the user's fault
        if debug:
            raise
        print(f"linear-a: internal error: {type(e).__name__}: {e}\n"
              f"This is a bug in linear-a; please report it to {REPORT_URL} with the input "
              f"(rerun with --debug for the traceback).", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
