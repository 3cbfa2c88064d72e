"""The long fuzzing run (SPEC §16): the properties of tests/test_fuzz.py with a
bigger, non-derandomized budget.  Prints, per fuzzer and in total, the inputs
tried, the distinct error kinds (exception class and rule) and messages seen,
and the crashes (any exception that is not a LinearAError, or a CLI exit 3).

    python3 benchmarks/fuzz.py                 # 2000 inputs per fuzzer
    python3 benchmarks/fuzz.py -n 20000 --only ast tokens
    python3 benchmarks/fuzz.py --seed 7        # reproducible
    python3 benchmarks/fuzz.py --limits        # 10^6 lets and pathological inputs via the CLI

Exit status 0 if there were no crashes, 1 otherwise (the first failing input of
each crashing fuzzer is printed, shrunk by hypothesis).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import test_fuzz as tf  # noqa: E402  (the fuzzers live with the tests)


def limits(lets: int) -> int:
    """The CLI on big and pathological inputs: exit code, time, message."""
    import contextlib
    import io
    import tempfile
    from linear_a.cli import main as cli
    d = tempfile.mkdtemp(prefix="linear-a-limits-")
    n = 10 ** 5
    cases = {
        f"{lets:.0e} lets": ("def f(x: real) -> (real ;) =\n" + "".join(
            f"  let (y{i} ;) = sin(x) in\n  let (;) = drop(y{i}) in\n" for i in range(lets // 2))
            + "  (x ;)\n", 0),
        "1e5-deep tuple type": ("def f(x: " + "(" * n + "real" + ",)" * n + ") -> (real ;) = (x ;)\n", 1),
        "1e5-deep let rhs": ("def f(x: real) -> (real ;) = " + "".join(f"let (y{i} ;) = " for i in range(n))
                             + "(x ;)" + "".join(f" in (y{i} ;)" for i in reversed(range(n))), 1),
        "10 MB single line": ("x" * 10_000_000, 1),
        "NUL byte": (b"def f(x: real) -> (real ;) = (x\x00 ;)\n", 1),
        "binary file": (bytes(range(256)) * 4000, 1),
        "empty file": ("", 1),
        "a directory": (None, 1),
        "a missing file": (False, 1),
    }
    bad = 0
    print(f"{'input':<22} {'exit':>4} {'want':>4} {'seconds':>8}  message")
    for i, (name, (data, want)) in enumerate(cases.items()):
        path = os.path.join(d, f"case{i}.la")
        if data is None:
            os.mkdir(path)
        elif data is not False:
            with open(path, "wb") as f:
                f.write(data if isinstance(data, bytes) else data.encode())
        err = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = cli(["typecheck", path])
        dt = time.perf_counter() - t0
        msg = err.getvalue().strip().replace(d + "/", "")
        bad += code != want or len(msg.splitlines()) > 1
        print(f"{name:<22} {code:>4} {want:>4} {dt:>8.2f}  {msg[:110]}", flush=True)
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2000, help="inputs per fuzzer (default 2000)")
    ap.add_argument("--only", nargs="*", choices=sorted(tf.FUZZERS), help="run only these fuzzers")
    ap.add_argument("--seed", type=int, default=None, help="derandomize with this seed")
    ap.add_argument("--limits", type=int, nargs="?", const=10 ** 6, metavar="LETS",
                    help="instead of fuzzing, run the CLI on a chain of LETS lets (default 10^6) "
                         "and on pathological inputs, printing exit codes and times")
    ns = ap.parse_args(argv)
    if ns.limits:
        return limits(ns.limits)
    if ns.seed is not None:
        import random
        random.seed(ns.seed)
    names = ns.only or list(tf.FUZZERS)
    total = tf.Tally()
    crashed = 0
    print(f"{'fuzzer':<12} {'inputs':>8} {'kinds':>6} {'messages':>9} {'crashes':>8} {'seconds':>8}")
    for name in names:
        t = tf.Tally()
        t0 = time.perf_counter()
        try:
            tf.FUZZERS[name](t, ns.n, derandomize=ns.seed is not None)
        except Exception as e:      # hypothesis re-raises the (shrunk) failing example
            t.crashes.append("".join(traceback.format_exception(e)))
        dt = time.perf_counter() - t0
        kinds = len([k for k in t.kinds if k != "ok"])
        print(f"{name:<12} {t.inputs:>8} {kinds:>6} {len(t.messages):>9} {len(t.crashes):>8} {dt:>8.1f}",
              flush=True)
        total.inputs += t.inputs
        total.kinds.update(t.kinds)
        total.messages |= t.messages
        if t.crashes:
            crashed += 1
            print(t.crashes[0], file=sys.stderr)
    kinds = sorted(k for k in total.kinds if k != "ok")
    print(f"\ntotal: {total.inputs} inputs tried, {len(kinds)} distinct error kinds, "
          f"{len(total.messages)} distinct messages, {crashed} crashing fuzzers")
    print(f"accepted (well-typed, evaluated, transformed): {total.kinds['ok']}")
    print("error kinds seen:")
    for k in kinds:
        print(f"  {total.kinds[k]:>7}  {k}")
    return 1 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
