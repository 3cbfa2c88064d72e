"""`linear-a`: the command-line tool.

Each group of subcommands lives in its own module (``cmd_core``, ``cmd_transforms``,
``cmd_check``, ``cmd_paper``) exposing ``register(subparsers)``; this module only
assembles them and turns every failure into ONE readable line on stderr and an
exit code (docs/errors.md):

* 0 — success;
* 1 — the input was wrong (a :class:`semantics.LinearAError`: parse, type,
  transform, domain, input error, solver timeout …) or a check was refuted;
* 2 — the command line was wrong (unknown flag, bad ``--args``);
* 3 — an internal error, i.e. a bug in linear-a.  It says so and where to report
  it; the Python traceback is shown only with ``--debug``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from linear_a.semantics.errors import LinearAError, UsageError, one_line

COMMAND_MODULES = ["cmd_core", "cmd_transforms", "cmd_check", "cmd_paper"]
REPORT_TO = "the linear-a issue tracker (attach the input file and the command line)"

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="linear-a",
                description="Reverse-mode AD as JVP, then unzip, then transpose, in Linear A "
                            "(You Only Linearize Once, POPL 2023).",
                epilog="exit codes: 0 ok, 1 bad input (parse/type/transform/domain error) or a "
                       "refuted check, 2 bad command line, 3 internal error (a bug)")
    p.add_argument("--debug", action="store_true",
                   help="show Python tracebacks for internal errors")
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


def _say(text: str):
    print(one_line(text), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the tool; returns the exit code (never raises, except with --debug)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    args = None
    try:
        parser = build_parser()
        args = parser.parse_args([a for a in argv if a != "--debug"])   # --debug goes anywhere
        args.debug = debug
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(args.func(args) or 0)
    except UsageError as e:
        hint = f"; {e.hint}" if e.hint else ""
        _say(f"linear-a: usage error: {e.message}{hint}")
        return EXIT_USAGE
    except LinearAError as e:
        if e.file is None and isinstance(getattr(args, "file", None), str):
            e.located(args.file)         # the command's input file, when the error has none
        _say(str(e) if e.file or e.pos else f"linear-a: {e.kind}"
             + (f" ({e.rule})" if e.rule else "") + f": {e.message}" + (f"; {e.hint}" if e.hint else ""))
        return EXIT_INPUT
    except SystemExit as e:        # --help / --version from argparse
        return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_USAGE)
    except KeyboardInterrupt:
        _say("linear-a: interrupted")
        return 130
    except BrokenPipeError:        # `linear-a … | head`: stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return EXIT_OK
    except MemoryError:
        _say("linear-a: out of memory: the input is too large for this machine")
        return EXIT_INPUT
    except Exception as e:  # a bug in linear-a, never the user's fault
        if debug:
            raise
        what = ("the input nests too deeply for this implementation"
                if isinstance(e, RecursionError) else f"{type(e).__name__}: {e}")
        _say(f"linear-a: internal error (a bug in linear-a, not in your program): {what}")
        _say(f"linear-a: please report it to {REPORT_TO}; rerun with --debug for the traceback")
        return EXIT_BUG


if __name__ == "__main__":
    raise SystemExit(main())
