"""Helpers shared by the subcommands: loading programs, reading arguments,
printing JSON, writing files atomically."""
from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from fractions import Fraction
from pathlib import Path

from linear_a.semantics.errors import InputError, LinearAError, ParseError, Pos, UsageError
from linear_a.semantics.parser import parse_program
from linear_a.semantics.syntax import Program


MAX_FILE_BYTES = 256 * 2**20   # 256 MB: ~10^7 lets; a bigger "program" is refused unread


def _pos_of_byte(data: bytes, offset: int) -> Pos:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return Pos(line, len(data[start:offset].decode("utf-8", "replace")) + 1)


def read_text(path: str) -> str:
    """The text of a program file, or an InputError naming the file and, for
    bad bytes, their line and column: missing, a directory or other non-file,
    unreadable, too big, not UTF-8, or binary (NUL bytes)."""
    path = str(path)
    p = Path(path)
    try:
        if not p.exists():
            raise InputError("no such file", file=path)
        if p.is_dir():
            raise InputError("this is a directory, not a program file", file=path)
        if not p.is_file():
            raise InputError("not a regular file (a device, pipe or socket?)", file=path)
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"the file is {size / 2**20:.0f} MB; programs larger than "
                             f"{MAX_FILE_BYTES // 2**20} MB are refused", file=path)
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", file=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text: byte 0x{data[e.start]:02x} ({e.reason}); is this a "
                         "binary file?", _pos_of_byte(data, e.start), file=path) from None
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputError("the file contains a NUL byte; is this a binary file?",
                         _pos_of_byte(data, nul), file=path)
    if text.startswith("\ufeff"):      # a UTF-8 byte-order mark is not part of the program
        text = text[1:]
    return text


def load_program(path: str, fns=None) -> Program:
    """A core program from a ``.la`` file, or the traced functions of a ``.py``
    file.  ``fns`` (a name or names): the functions the command asks for; in a
    ``.py`` file a function that cannot be traced is an error only when it is
    asked for (or when the whole file is: ``fns=None``)."""
    path = str(path)
    if path.endswith(".py"):
        try:
            from linear_a.semantics.surface import load_surface_file
        except ImportError:
            raise InputError("the surface (.py) front end is not available", file=path) from None
        return load_surface_file(path, only=fns)
    if not path.endswith(".la"):
        raise InputError("expected a Linear A file (.la) or a Python surface file (.py)", file=path)
    text = read_text(path)
    try:
        prog = parse_program(text, path)
    except LinearAError as e:
        raise e.located(path)
    if not prog.defs:
        lines = text.split("\n")
        raise ParseError("expected `def` (a definition), found end of input: the file defines no "
                         "functions", Pos(len(lines), len(lines[-1]) + 1), file=path)
    return prog


def _no_constant(name):
    raise UsageError(f"`{name}` is not a finite number")


def parse_json_arg(text: str, flag: str):
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise UsageError(f"{flag} is not valid JSON ({e.msg} at character {e.pos}): "
                         f"{_clip(text)!r}") from None
    except UsageError as e:
        raise UsageError(f"{flag}: {e.message}") from None
    except RecursionError:
        raise UsageError(f"{flag}: the JSON value nests too deeply") from None
    except ValueError as e:       # e.g. an integer of more than 4300 digits
        what = "a number has too many digits" if "digits" in str(e) else str(e).split(";")[0]
        raise UsageError(f"{flag}: {what}") from None


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n] + "…"


def parse_at(text: str) -> dict:
    """``x1=2,x2=5`` -> {"x1": 2.0, "x2": 5.0} (values may be JSON: p=[1,2])."""
    out = {}
    for part in _split_top(text):
        if "=" not in part:
            raise UsageError(f"--at expects name=value pairs separated by commas, got {_clip(part)!r}")
        k, v = part.split("=", 1)
        k = k.strip()
        if not k.isidentifier():
            raise UsageError(f"--at: {_clip(k)!r} is not a parameter name")
        if k in out:
            raise UsageError(f"--at gives `{k}` twice")
        out[k] = parse_json_arg(_quote_rationals(v.strip()), "--at")
    return out


# A rational written as p/q (`1/3`, `-2/7`, `0.5/3`), in --at values and as JSON strings in --args.
_RATIONAL = re.compile(r"[+-]?\d+(?:\.\d+)?/\d+")


def _quote_rationals(text: str) -> str:
    """``p=[1/3, 2]`` -> ``p=["1/3", 2]``: rationals become JSON strings (read by
    :func:`_rationals`)."""
    return re.sub(r'(?<![\w."])' + _RATIONAL.pattern + r'(?![\w."])', lambda m: f'"{m.group(0)}"', text)


def _rationals(v, domain: str):
    """Strings ``"p/q"`` in an argument value to exact rationals (a sympy
    Rational in the sympy domain, the nearest float in the float domain)."""
    if isinstance(v, list):
        return [_rationals(x, domain) for x in v]
    if isinstance(v, dict):
        return {k: _rationals(x, domain) for k, x in v.items()}
    if isinstance(v, str) and _RATIONAL.fullmatch(v.strip()):
        num, den = v.strip().split("/")
        if Fraction(den) == 0:
            raise UsageError(f"`{v}` divides by zero")
        q = Fraction(num) / Fraction(den)
        if domain == "sympy":
            import sympy
            return sympy.Rational(q.numerator, q.denominator)
        return float(q)
    return v


def _split_top(text: str):
    depth, cur, out = 0, [], []
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur)); cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return [p for p in out if p.strip()]


def get_args(ns) -> dict:
    """The point from ``--args JSON`` or ``--at x=1,y=2``; a value may be a
    rational ``p/q`` (a string ``"p/q"`` in JSON), exact in the sympy domain."""
    return _rationals(_get_args(ns), getattr(ns, "domain", "float"))


def _get_args(ns) -> dict:
    if getattr(ns, "args", None) is not None and getattr(ns, "at", None) is not None:
        raise UsageError("give either --args or --at, not both")
    if getattr(ns, "args", None) is not None:
        v = parse_json_arg(ns.args, "--args")
        if not isinstance(v, dict):
            raise UsageError("--args must be a JSON object from parameter names to values")
        return v
    if getattr(ns, "at", None) is not None:
        return parse_at(ns.at)
    return {}


def to_json(v):
    """Values (floats, tuples, sympy numbers) to JSON-able data."""
    if isinstance(v, tuple) or isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, (int, float)):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def to_text(v) -> str:
    """A value as printed: floats as Python prints them, sympy values exactly
    (``2 - cos(5)``, ``1/3``), tuples as lists."""
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(to_text(x) for x in v) + "]"
    return str(v)


def to_exact_json(v):
    """Values to JSON with sympy values as their exact text (``"2 - cos(5)"``)."""
    if isinstance(v, (tuple, list)):
        return [to_exact_json(x) for x in v]
    if isinstance(v, (int, float)):
        return v
    return str(v)


def print_json(obj):
    print(json.dumps(obj, indent=2))


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """``with atomic_output("out.pdf") as tmp: <write or produce tmp>`` — the
    file appears at ``path`` only if the block succeeds (rename of a temporary
    file in the same directory); on any failure ``path`` is left as it was and
    the temporary file is removed.  For tools that write files themselves."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise InputError(f"cannot write here: {e.strerror or e}", file=str(path)) from None
    os.close(fd)
    try:
        yield Path(tmp)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)           # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise InputError(f"cannot write the file: {e.strerror or e}", file=str(path)) from None
        raise


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def write_atomic(path: str | os.PathLike, data: str | bytes):
    """Write via a temporary file in the same directory, then rename: a failure
    (an exception while writing, a full disk, Ctrl-C) never leaves a
    half-written or empty file behind, and an existing file is kept intact."""
    with atomic_output(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")


def add_program_args(p, fn_required=True, point=False):
    p.add_argument("file", help="a Linear A program (.la) or a Python surface file (.py)")
    p.add_argument("--fn", required=fn_required, help="the function to use")
    if point:
        p.add_argument("--args", help='JSON object: parameter name -> number or nested list, '
                                      'e.g. \'{"x1": 2, "x2": 5}\'')
        p.add_argument("--at", help="the same as name=value pairs: x1=2,x2=5 "
                                    "(a value may be a rational: x=1/3)")
