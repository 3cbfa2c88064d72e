"""Building LaTeX into PDF with latexmk/pdflatex, atomically.

Documents are written and built in a temporary directory next to the target;
only when latexmk succeeds are the ``.tex`` (and its inputs) and the ``.pdf``
moved into place, so a failed build leaves nothing half-written.  A missing
TeX installation is reported as :class:`TeXError` (a project error, exit 1),
with the packages to install.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from linear_a.semantics.errors import InputError, TeXError

STY = Path(__file__).with_name("linear-a.sty")
TEX_PACKAGES = ("texlive-latex-base texlive-latex-recommended texlive-science texlive-pictures latexmk "
                "poppler-utils")


def sty_text() -> str:
    return STY.read_text(encoding="utf-8")


def preamble(title: str = "") -> str:
    return ("\\documentclass[10pt,a4paper]{article}\n"
            "\\usepackage[margin=2cm]{geometry}\n"
            "\\usepackage{linear-a}\n"
            "\\usepackage[hidelinks,bookmarks=false]{hyperref}\n"
            "\\setlength{\\parindent}{0pt}\n"
            "\\setlength{\\parskip}{0.4em}\n"
            "\\setcounter{secnumdepth}{2}\n"
            + (f"\\title{{{title}}}\n\\author{{}}\n\\date{{}}\n" if title else ""))


def standalone(body: str, title: str = "") -> str:
    """A complete document around ``body``; the macros are inlined so the
    ``.tex`` file compiles on its own."""
    sty = sty_text().replace("\\NeedsTeXFormat{LaTeX2e}", "").replace(
        "\\ProvidesPackage{linear-a}[2026/11/23 Linear A typesetting]", "").replace("\\endinput", "")
    sty = sty.replace("\\RequirePackage", "\\usepackage")
    head = preamble(title).replace("\\usepackage{linear-a}\n", "\\makeatletter\n" + sty + "\\makeatother\n")
    return head + "\\begin{document}\n" + ("\\maketitle\n" if title else "") + body + "\n\\end{document}\n"


def require_tex():
    missing = [t for t in ("latexmk", "pdflatex") if shutil.which(t) is None]
    if missing:
        raise TeXError(f"no TeX installation found (`{'`, `'.join(missing)}` not on PATH); "
                       f"install it, e.g. `apt-get install {TEX_PACKAGES}`, or omit --pdf")


def _log_errors(log: str) -> str:
    lines = [l for l in log.splitlines() if l.startswith("!") or re.match(r"^[^:]+:\d+: ", l)]
    return "; ".join(lines[:3]) or "see the .log file"


def overfull_boxes(log: str) -> list[float]:
    """Widths (pt) by which boxes are overfull, from a LaTeX log."""
    return [float(m) for m in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]


def build(out_dir: str | os.PathLike, name: str, files: dict[str, str | bytes], pdf: bool = True,
          timeout: int = 300) -> dict:
    """Write ``files`` ({relative name: text}) into ``out_dir`` and, if ``pdf``,
    build ``name``.tex there with latexmk.  Everything is prepared in a
    temporary directory and moved into place only on success.  Returns
    {"tex", "pdf", "log", "pages"}."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the output directory {out}: {e.strerror}") from None
    if pdf:
        require_tex()
    tmp = Path(tempfile.mkdtemp(prefix=".linear-a-build-", dir=out))
    try:
        for rel, data in files.items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                p.write_bytes(data)
            else:
                p.write_text(data, encoding="utf-8")
        log = ""
        if pdf:
            cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
                   f"{name}.tex"]
            try:
                r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout,
                                   env={**os.environ, "max_print_line": "1000"})
            except subprocess.TimeoutExpired:
                raise TeXError(f"latexmk did not finish within {timeout} s on {name}.tex") from None
            logp = tmp / f"{name}.log"
            log = logp.read_text(encoding="utf-8", errors="replace") if logp.exists() else r.stdout
            if r.returncode != 0 or not (tmp / f"{name}.pdf").exists():
                raise TeXError(f"pdflatex failed on the generated {name}.tex: {_log_errors(log)}")
        result = {"tex": str(out / f"{name}.tex"), "pdf": None, "log": log, "pages": None}
        for rel in files:
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, dst)
        if pdf:
            os.replace(tmp / f"{name}.pdf", out / f"{name}.pdf")
            (out / f"{name}.log").write_text(log, encoding="utf-8")
            result["pdf"] = str(out / f"{name}.pdf")
            m = re.search(r"Output written on .*?\((\d+) pages?", log)
            result["pages"] = int(m.group(1)) if m else None
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
