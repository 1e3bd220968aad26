"""Small helpers shared by the ``bench_*.py`` scripts: timing, verdicts, a text table,
the environment record and the JSON output. Generic on purpose: no estimator here.

Timing rule of the house: every figure is a ratio against a baseline timed in the same
run, on the same data and threads, with the candidates interleaved (A B A B ...) so
that load from other processes hits both alike; the best (minimum) of the repeats is
used, as ``timeit`` recommends, and the median is kept in the JSON.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark has."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes (a few minutes on 2 cores)")
    p.add_argument("--repeat", type=int, default=None, help="timed repeats per measurement")
    p.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return p


def timed(fn):
    """``(seconds, fn())`` with ``time.perf_counter``."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved(candidates: dict, repeat: int, per=None, budget_s: float | None = None) -> dict:
    """Time each candidate ``repeat`` times, interleaved, the order rotated by one
    each round (A B C, B C A, C A B, ...).

    Interleaving spreads the machine's load over every candidate; rotating gives
    each one every predecessor in turn. A run can depend on the one before it (on
    this machine a fit right after a large ``huber`` fit spends 3x the system time:
    the kernel reclaiming and compacting the memory it freed), and in a fixed order
    one candidate would always follow the same one.

    A candidate whose runs have taken more than ``budget_s`` seconds in all is not
    run again (it keeps at least one run), so that one slow candidate does not
    dominate the benchmark's duration.

    ``per(seconds, result) -> float`` turns one run into the figure to keep (for
    example seconds per iteration); the default keeps the seconds. Returns, per
    candidate, ``{"best", "median", "runs", "result"}`` where ``result`` is the return
    value of the last run.
    """
    per = per or (lambda seconds, result: seconds)
    runs = {name: [] for name in candidates}
    spent = dict.fromkeys(candidates, 0.0)
    last = {}
    names = list(candidates)
    for round_ in range(repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            if budget_s is not None and spent[name] > budget_s:
                continue
            seconds, result = timed(candidates[name])
            spent[name] += seconds
            runs[name].append(per(seconds, result))
            last[name] = result
    return {
        name: {
            "best": min(values),
            "median": statistics.median(values),
            "runs": values,
            "result": last[name],
        }
        for name, values in runs.items()
    }


def paired_median_ratio(runs, base_runs) -> float:
    """Median of the run-by-run ratios ``runs[i] / base_runs[i]`` (runs made side by
    side), a second estimate next to the ratio of the best runs."""
    return statistics.median(a / b for a, b in zip(runs, base_runs, strict=False))


def verdict(value: float, target: float, higher_is_better: bool = False) -> str:
    """``"PASS"`` when ``value`` meets ``target`` (``<=``, or ``>=`` when higher is better)."""
    ok = value >= target if higher_is_better else value <= target
    return "PASS" if ok else "MISS"


def table(rows: list[dict], columns: list[str], floatfmt: str = ".3g") -> str:
    """A plain-text table of ``rows`` (dicts) with the given column order."""

    def cell(value):
        if isinstance(value, float):
            return format(value, floatfmt)
        return "" if value is None else str(value)

    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def environment() -> dict:
    """What the figures depend on: versions, CPUs, BLAS/OpenMP pools, load, env vars."""
    import numpy
    import scipy
    import sklearn
    from threadpoolctl import threadpool_info

    env = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "threadpoolctl": threadpool_info(),
        "env": {
            k: v
            for k, v in sorted(os.environ.items())
            if k.startswith(("OPENBLAS", "OMP_", "MKL_", "BLIS_"))
        },
    }
    if hasattr(os, "getloadavg"):
        env["load_average_1_5_15"] = list(os.getloadavg())
    return env


def package_state() -> dict:
    """Which ``robustkmeans`` was measured: its path, a hash of its sources, the commit
    of this checkout and whether the measured sources are exactly that commit's (they
    may come from the working tree or from an exported copy on ``PYTHONPATH``)."""
    import robustkmeans

    package = Path(robustkmeans.__file__).resolve().parent
    sources = sorted(package.glob("*.py"))
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.name.encode() + source.read_bytes())
    state = {"path": str(package), "source_sha256": digest.hexdigest()[:16]}
    root = Path(__file__).resolve().parent.parent

    def git(*args):
        out = subprocess.run(["git", *args], cwd=root, capture_output=True)
        return out.stdout if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is not None:
        state["commit"] = commit.decode().strip()

        def matches(rev):
            listed = git("ls-tree", "--name-only", rev, "robustkmeans/")
            names = {Path(n).name for n in listed.decode().split()} if listed else set()
            return names == {s.name for s in sources} and all(
                git("show", f"{rev}:robustkmeans/{s.name}") == s.read_bytes() for s in sources
            )

        state["sources_match_commit"] = matches("HEAD")
        if not state["sources_match_commit"]:
            # an exported copy of an earlier commit: name it if it is a recent one
            recent = git("log", "-n", "20", "--format=%H", "--", "robustkmeans")
            for rev in recent.decode().split() if recent else []:
                if matches(rev):
                    state["sources_commit"] = rev
                    break
    return state


def record_end(env: dict) -> None:
    """Add the load average at the end of the run to an ``environment()`` record."""
    if hasattr(os, "getloadavg"):
        env["load_average_end"] = list(os.getloadavg())


def write_json(path: Path, payload: dict) -> None:
    """Write ``payload`` as indented JSON, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")


def _jsonable(value):
    try:
        import numpy

        if isinstance(value, numpy.generic):
            return value.item()
        if isinstance(value, numpy.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
