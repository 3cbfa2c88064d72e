"""The theorem-check suite: the built-in corpus, random well-typed programs and
the per-rule obligations, with statuses, timing and a JSON report.

    from linear_a.proofs.runner import run_suite
    report = run_suite(random_n=200, seed=0)
    report.summary()          # {theorem: {status: count}}, totals, seconds
    report.refuted            # the failures, each with its counterexample

Random programs come from ``linear_a.proofs.generators`` (hypothesis strategies),
drawn deterministically from ``seed``: a mix of purely non-linear programs
(every theorem applies), linear programs (typing, unzip, transposition) and
mixed programs (typing, unzip, checkpointing).  A refuted random program is
shrunk with ``hypothesis.find`` over the same strategy (the smallest program
hypothesis finds that still refutes the theorem) and reported with the
original.

Every theorem id of ``linear_a.proofs.theorems`` appears in a default run; a theorem
with no result at all is reported as ``unknown`` (never silently absent).
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from linear_a.semantics.evaluate import Costs, DEFAULT_COSTS
from linear_a.semantics.printer import show
from linear_a.semantics.syntax import Program, call_closure
from linear_a.semantics.typecheck import typecheck

from .checks import PROGRAM_SECONDS, Outcome, Subject, check_program, run_check
from .theorems import IDS, STATUSES, constants

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
KINDS = ("nonlinear", "looped", "flat", "linear", "mixed")   # the random mix (⅕ each);
# "looped": non-linear with a loop (issue 14);
# "flat": the fast path's fragment, so that the program `linear-a vjp` prints is checked
MAX_SHRINKS = 3          # refutations shrunk per run (each within SHRINK_SECONDS)
SHRINK_SECONDS = 5.0
SHRINK_TOTAL_SECONDS = 10.0     # all shrinking of one run
MIN_RANDOM_FOR_COVERAGE = 100   # from this many random programs on, every coverage item is required


@dataclass
class Report:
    results: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    programs: int = 0
    rules: int = 0
    seed: int = 0
    definitions: dict = field(default_factory=dict)   # file -> the definitions checked in it
    coverage: Counter = field(default_factory=Counter)   # item -> programs exercising it
    coverage_required: bool = False                      # a missing item is an error of the run

    @property
    def coverage_missing(self) -> list[str]:
        from .coverage import expected
        return [i for i in expected() if not self.coverage.get(i)]

    @property
    def failed(self) -> bool:
        return bool(self.refuted) or (self.coverage_required and bool(self.coverage_missing))

    @property
    def refuted(self) -> list[Outcome]:
        return [r for r in self.results if r.status == "refuted"]

    def by_theorem(self) -> dict:
        table = {t: Counter() for t in IDS}
        for r in self.results:
            table.setdefault(r.theorem, Counter())[r.status] += 1
        return table

    def summary(self) -> dict:
        table = self.by_theorem()
        totals = Counter()
        for c in table.values():
            totals.update(c)
        n = sum(totals.values())
        missing = [t for t, c in table.items() if not c]
        return {
            "by_theorem": {t: {s: c.get(s, 0) for s in STATUSES} for t, c in table.items()},
            "totals": {s: totals.get(s, 0) for s in STATUSES},
            "checks": n,
            "unknown_fraction": round(totals.get("unknown", 0) / n, 4) if n else 0.0,
            "theorems_without_results": missing,
            "programs": self.programs,
            "rule_obligations": self.rules,
            "seed": self.seed,
            "definitions": self.definitions,
            "seconds": round(self.seconds, 2),
            "coverage": {i: self.coverage.get(i, 0) for i in _expected()},
            "coverage_missing": self.coverage_missing,
            "coverage_required": self.coverage_required,
        }

    def as_json(self) -> dict:
        return {"results": [r.as_json() for r in self.results], "summary": self.summary()}


def _expected():
    from .coverage import expected
    return expected()


# ----------------------------------------------------------------------------
# Programs


def corpus() -> list[tuple[str, Program]]:
    """The built-in corpus: every ``examples/*.la``."""
    from linear_a.semantics.parser import parse_program
    out = []
    for path in sorted(EXAMPLES.glob("*.la")):
        out.append((f"examples/{path.name}", parse_program(path.read_text(encoding="utf-8"), str(path))))
    return out


def definition(prog: Program, fn: str) -> Program:
    """The program restricted to ``fn`` and the definitions it calls,
    transitively, in program order with ``fn`` last: the subject whose
    entry (last definition) is ``fn``."""
    keep = call_closure({d.name: d for d in prog.defs}, [fn])
    defs = [d for d in prog.defs if d.name in keep and d.name != fn]
    return Program(defs + [prog[fn]], file=prog.file)


def strategy(kind: str):
    from . import generators as g
    return {"nonlinear": g.nonlinear_programs, "flat": g.flat_programs, "linear": g.linear_programs,
            "mixed": g.mixed_programs, "looped": g.looped_programs}[kind]()


def random_programs(n: int, seed: int = 0) -> list[tuple[str, str, Program]]:
    """n programs (name, kind, program), deterministic in seed."""
    if n <= 0:
        return []
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st
    out: list[tuple[str, str, Program]] = []

    @hseed(seed)
    @settings(max_examples=n, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(KINDS) - 1).flatmap(
        lambda k: st.tuples(st.just(KINDS[k]), strategy(KINDS[k]))))
    def collect(kp):
        if len(out) < n:
            out.append(kp)
    collect()
    # hypothesis may stop early when it runs out of distinct examples; top up
    extra = seed + 1
    while len(out) < n and extra < seed + 50:
        before = len(out)
        hseed(extra)(collect)()
        extra += 1
        if len(out) == before:
            break
    # shapes the generator does not write, each on part of the programs (alpha- and let-equivalent):
    # names renamed to the transformations' own (``c``, ``c_1``, ``dc``, ``ct_c`` …: the fresh-name
    # collision paths), chains ending in a leaf (``sin(v3)`` for ``let (v4 ;) = sin(v3) in (v4 ;)``)
    # lets of a return (``let (v3 ;) = (t1 ;) in``) and a body that is one call (``f1(x0 ; dx0)``)
    import random as _random
    from .generators import call_wrapper, clashing_names, leaf_tails, return_lets
    progs = []
    for i, (k, p) in enumerate(out[:n]):
        name = f"random-{seed}-{i}:{k}"
        if i % 2:
            p, name = clashing_names(p, _random.Random(seed * 100003 + i)), name + ":clash"
        if i % 4 >= 2:
            p, name = leaf_tails(p), name + ":leaf-tails"
        if i % 3 == 2:                # and on a third, a let whose right-hand side is a return
            p, name = return_lets(p), name + ":return-lets"
        if i % 5 == 4:                # on a fifth, an entry whose body is the call of the old entry
            p, name = call_wrapper(p), name + ":call-tail"
        progs.append((name, k, p))
    return progs


class _OutOfTime(Exception):
    pass


def shrink(kind: str, theorem: str, max_examples: int = 100, budget: float = SHRINK_SECONDS):
    """The smallest program of ``kind`` hypothesis finds refuting ``theorem``
    (None if it finds none within ``max_examples`` draws or ``budget`` seconds)."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample
    deadline = time.perf_counter() + budget
    best = []

    def refutes(p):
        bad = run_check(Subject("shrink", p), theorem).status == "refuted"
        if bad:
            best.append(p)
        if time.perf_counter() > deadline:
            raise _OutOfTime()
        return bad
    try:
        return find(strategy(kind), refutes,
                    settings=settings(max_examples=max_examples, database=None, deadline=None,
                                      suppress_health_check=list(HealthCheck),
                                      phases=[Phase.generate, Phase.shrink]))
    except NoSuchExample:
        return None
    except _OutOfTime:
        return best[-1] if best else None     # the last (smallest so far) failing draw
    except Exception:
        return None


# ----------------------------------------------------------------------------
# The suite


CONSTANT_THEOREMS = ("jvp-cost", "jvp-size", "transpose-size", "vjp-cost")


def constants_crash(costs: Costs, error: Exception) -> list[Outcome]:
    """The constants are derived by running JVP and transposition on one-rule
    programs (``obligations.derive_constants``); when that crashes, each theorem
    stated with a constant is refuted, with the first one-rule program on which
    JVP crashes (the instance) when there is one."""
    from linear_a.semantics.parser import parse_program
    from linear_a.semantics.primitives import PRIMITIVES
    from linear_a.transforms.jvp import jvp_program
    from .obligations import call_text, names
    cex = {"error": f"{type(error).__name__}: {error}"}
    for op, p in PRIMITIVES.items():
        args = names("a", p.arity)
        text = (f"def f({', '.join(a + ': real' for a in args)}) -> (real ;) =\n"
                f"  {call_text(op, args)}\n")
        try:
            jvp_program(parse_program(text, f"<{op}>"))
        except Exception as e:
            cex = {"instance": text, "error": f"JVP: {type(e).__name__}: {e}"}
            break
    return [Outcome(t, "(all programs) constants", "refuted", "crash", 0.0,
                    "deriving the theorem's constants crashed (a transformation failed on a one-rule "
                    "program)", dict(cex)) for t in CONSTANT_THEOREMS]


def rule_outcomes(costs: Costs) -> list[Outcome]:
    from .obligations import LINEAR_FORMS, constants, local_adjoint, run_all
    try:
        constants(costs)
    except Exception as e:        # a broken transformation: refute, and still check what does not need them
        out = constants_crash(costs, e)
        for rule in LINEAR_FORMS:
            for K in (1, 2):
                out += [Outcome(o.theorem, f"(all programs) rule {o.rule}", o.status, "rule induction (z3)",
                                o.seconds, o.detail, o.counterexample) for o in local_adjoint(rule, K)]
        return out
    res = run_all(costs)
    return [Outcome(o.theorem, f"(all programs) rule {o.rule}", o.status, "rule induction (z3)",
                    o.seconds, o.detail, o.counterexample) for o in res]


_SUBJECTS: list = []          # shared with forked workers (fork copies, nothing is pickled in)
_RULES_ARGS: tuple = ()


def _work(task):
    kind, i = task
    if kind == "rules":
        return kind, i, rule_outcomes(*_RULES_ARGS)
    if kind == "schedules":
        from .schedules import binomial_outcomes
        from .tablecheck import table_outcomes
        return kind, i, binomial_outcomes() + table_outcomes()
    s, theorems, budget = _SUBJECTS[i]
    outs = check_program(s, theorems, budget)
    try:
        from .coverage import collect
        items = collect(s)
    except Exception:             # a broken transformation: its theorems are refuted already
        items = set()
    return kind, i, (outs, items)


def run_suite(files=None, random_n: int = 200, seed: int = 0, rules: bool = True,
              costs: Costs | None = None, progress=None, theorems=None, load=None,
              jobs: int | None = None, fns=None, budget: float | None = PROGRAM_SECONDS,
              path: str = "both") -> Report:
    """Run the suite.  ``files``: program files instead of the corpus (``load``
    reads one); each of their definitions is checked once, as the entry of
    the program it and its callees make (``fns``: only these names);
    ``progress(advance, total, label)`` is called as work is done; ``jobs``:
    worker processes (default: the number of CPUs, at most 2 -- the target
    machine's); ``budget``: seconds per program (a file's budget is shared by
    its definitions; None: only the per-theorem limit); ``path``: the vjp
    programs checked (``fast``: the one ``linear-a vjp`` prints,
    ``reference``: ``vjp_program``'s, ``both``)."""
    import os
    costs = costs or DEFAULT_COSTS
    t0 = time.perf_counter()
    report = Report(seed=seed)
    subjects: list[Subject] = []
    kinds: dict[str, str] = {}
    budgets: list = []
    if files:
        for f in files:
            prog = load(f)
            typecheck(prog, derive=False)    # the whole file first: its located errors, as written
            names = [n for n in prog.names if not fns or n in fns]
            report.definitions[str(f)] = names
            for n in names:
                subjects.append(Subject(f"{f}:{n}", definition(prog, n), costs, seed, positive=True, path=path))
                budgets.append(None if budget is None else budget / len(names))
    else:
        for name, prog in corpus():
            subjects.append(Subject(name, prog, costs, seed, positive=True, path=path))
    for name, kind, prog in random_programs(random_n, seed):
        subjects.append(Subject(name, prog, costs, seed + len(subjects), path=path))
        kinds[name] = subjects[-1].kind   # the program's actual shape decides the theorems
        if kind == "looped":              # … and a looped one shrinks among looped programs
            kinds[name] = kind
    total = len(subjects) + (2 if rules else 0)
    if progress:
        progress(0, total, "constants")
    try:
        constants(costs)                  # computed once, before any fork
    except Exception as e:                # refuted (by rule_outcomes or here); the rest still runs
        if not rules:
            report.results.extend(o for o in constants_crash(costs, e)
                                  if theorems is None or o.theorem in theorems)
    global _SUBJECTS, _RULES_ARGS
    budgets += [budget] * (len(subjects) - len(budgets))
    _SUBJECTS = [(s, theorems, b) for s, b in zip(subjects, budgets)]
    _RULES_ARGS = (costs,)
    tasks = ([("rules", 0), ("schedules", 0)] if rules else []) + [("subject", i) for i in range(len(subjects))]
    jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
    by_subject: dict[int, list] = {}
    rule_results: list = []

    def take(kind, i, outs):
        if kind in ("rules", "schedules"):
            rule_results.extend(outs)
            label = "per-rule obligations" if kind == "rules" else "binomial schedules"
        else:
            by_subject[i], items = outs
            report.coverage.update(items)
            label = subjects[i].name
        if progress:
            progress(1, total, label)

    if jobs > 1 and len(tasks) > 1:
        import multiprocessing as mp
        ctx = mp.get_context("fork")
        with ctx.Pool(jobs) as pool:
            for kind, i, outs in pool.imap_unordered(_work, tasks, chunksize=1):
                take(kind, i, outs)
    else:
        for t in tasks:
            take(*_work(t))
    _SUBJECTS = []
    if theorems is not None:
        rule_results = [r for r in rule_results if r.theorem in theorems]
    report.results.extend(rule_results)
    report.rules = len(rule_results)
    shrinks = 0
    shrink_deadline = time.perf_counter() + SHRINK_TOTAL_SECONDS
    for i, s in enumerate(subjects):
        outs = by_subject[i]
        for o in outs:
            left = shrink_deadline - time.perf_counter()
            if o.status == "refuted" and s.name in kinds and shrinks < MAX_SHRINKS and left > 0:
                shrinks += 1
                small = shrink(kinds[s.name], o.theorem, budget=min(SHRINK_SECONDS, left))
                if small is not None:
                    o.counterexample = dict(o.counterexample or {})
                    o.counterexample["shrunk_program"] = show(small)
        report.results.extend(outs)
        report.programs += 1
    if theorems is None and not files:
        seen = {r.theorem for r in report.results}
        for t in IDS:
            if t not in seen:
                report.results.append(Outcome(t, "(none)", "unknown", "", 0.0,
                                              "no program exercised this theorem"))
    report.coverage_required = not files and theorems is None and random_n >= MIN_RANDOM_FOR_COVERAGE
    report.seconds = time.perf_counter() - t0
    return report
