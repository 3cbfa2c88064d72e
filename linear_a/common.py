"""Helpers shared by the subcommands: loading programs, reading arguments,
printing JSON, writing files atomically."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from semantics.errors import InputError, LinearAError, UsageError
from semantics.parser import parse_program
from semantics.syntax import Program


def read_text(path: str) -> str:
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {path}")
    if p.is_dir():
        raise InputError(f"{path} is a directory, not a program file")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8 text (byte {e.start}: {e.reason})") from None
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None


def load_program(path: str) -> Program:
    """A core program from a ``.la`` file, or the traced functions of a ``.py`` file."""
    if path.endswith(".py"):
        try:
            from semantics.surface import load_surface_file
        except ImportError:
            raise InputError("the surface (.py) front end is not available") from None
        return load_surface_file(path)
    if not path.endswith(".la"):
        raise InputError(f"{path}: expected a Linear A file (.la) or a Python surface file (.py)")
    try:
        return parse_program(read_text(path), path)
    except LinearAError as e:
        raise e.located(path)


def parse_json_arg(text: str, flag: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{flag} is not valid JSON ({e.msg} at character {e.pos}): {text!r}") from None


def parse_at(text: str) -> dict:
    """``x1=2,x2=5`` -> {"x1": 2.0, "x2": 5.0} (values may be JSON: p=[1,2])."""
    out = {}
    for part in _split_top(text):
        if "=" not in part:
            raise UsageError(f"--at expects name=value pairs separated by commas, got {part!r}")
        k, v = part.split("=", 1)
        out[k.strip()] = parse_json_arg(v.strip(), "--at")
    return out


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
    """The point from ``--args JSON`` or ``--at x=1,y=2``."""
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


def print_json(obj):
    print(json.dumps(obj, indent=2))


def write_atomic(path: str | os.PathLike, data: str | bytes):
    """Write via a temporary file in the same directory, then rename: a failure
    never leaves a half-written file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def add_program_args(p, fn_required=True, point=False):
    p.add_argument("file", help="a Linear A program (.la) or a Python surface file (.py)")
    p.add_argument("--fn", required=fn_required, help="the function to use")
    if point:
        p.add_argument("--args", help='JSON object: parameter name -> number or nested list, '
                                      'e.g. \'{"x1": 2, "x2": 5}\'')
        p.add_argument("--at", help="the same as name=value pairs: x1=2,x2=5")
