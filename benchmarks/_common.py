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
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark has."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--quick", action="store_true", help="small sizes (run times: the script's docstring)"
    )
    p.add_argument("--repeat", type=int, default=None, help="timed repeats per measurement")
    p.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return p


def timed(fn):
    """``(seconds, fn())`` with ``time.perf_counter``."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved(
    candidates: dict, repeat: int, budget_s: float | None = None, seed: int = 0
) -> dict:
    """Time each candidate ``repeat`` times, interleaved, in a new random order each
    round (seeded: the same orders in every run of the benchmark).

    Interleaving spreads the machine's load over every candidate; shuffling gives
    each one random predecessors. A run can depend on the one before it (on this
    machine a fit right after a large ``huber`` fit spends 3x the system time: the
    kernel reclaiming and compacting the memory it freed), and in a fixed order, or
    a fixed order rotated each round (which keeps every candidate's predecessor),
    one candidate would always follow the same one.

    A candidate whose runs have taken more than ``budget_s`` seconds in all is not
    run again (it keeps at least one run), so that one slow candidate does not
    dominate the benchmark's duration.

    Returns, per candidate, ``{"best", "median", "runs", "result"}`` (seconds) where
    ``result`` is the return value of the last run.
    """
    runs = {name: [] for name in candidates}
    spent = dict.fromkeys(candidates, 0.0)
    last = {}
    order = random.Random(seed)
    for _ in range(repeat):
        names = list(candidates)
        order.shuffle(names)
        for name in names:
            if budget_s is not None and spent[name] > budget_s:
                continue
            seconds, result = timed(candidates[name])
            spent[name] += seconds
            runs[name].append(seconds)
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


def marginal(candidates: dict, low: int, high: int, repeat: int, **kwargs) -> dict:
    """Seconds per iteration of each candidate, net of its fixed costs: every
    candidate ``make(max_iter)`` (returning a function that fits and returns the
    fitted model) is timed at ``max_iter=low`` and ``high``, all interleaved
    (``interleaved``), and its figure is ``(t_high - t_low) / (n_iter_high -
    n_iter_low)``, from the best runs (``best``) and from the medians (``median``).
    A fit divided by its own ``n_iter_`` would count validation, copies and the last
    assignment as iterations, flattering a candidate whose iterations cost more than
    the baseline's.

    Returns, per candidate, ``{"best", "median", "n_iter": (low, high), "per_fit":
    best fit time / n_iter_ at ``high``, "result": the model fitted at ``high``}``;
    ``n_iter`` shows whether both fits ran every iteration (else the difference
    counts fewer: the iterations it measures are then fewer and later ones). Where
    the fit at ``high`` ran no more iterations than the one at ``low`` (both
    converged by ``low``), the difference measures no iteration: ``best`` and
    ``median`` are NaN.
    """
    runs = interleaved(
        {(name, m): make(m) for name, make in candidates.items() for m in (low, high)},
        repeat,
        **kwargs,
    )
    out = {}
    for name in candidates:
        lo, hi = runs[(name, low)], runs[(name, high)]
        n_lo, n_hi = int(lo["result"].n_iter_), int(hi["result"].n_iter_)
        # (two fits that ran the same iterations differ by noise only)
        steps = n_hi - n_lo if n_hi > n_lo else float("nan")
        out[name] = {
            "best": (hi["best"] - lo["best"]) / steps,
            "median": (hi["median"] - lo["median"]) / steps,
            "n_iter": (n_lo, n_hi),
            "per_fit": hi["best"] / max(n_hi, 1),
            "result": hi["result"],
            "runs_low": lo["runs"],
            "runs_high": hi["runs"],
        }
    return out


def paired_median_ratio(runs, base_runs) -> float:
    """Median of the run-by-run ratios ``runs[i] / base_runs[i]`` (runs made side by
    side), a second estimate next to the ratio of the best runs."""
    return statistics.median(a / b for a, b in zip(runs, base_runs, strict=False))


def verdict(
    value: float, target: float, higher_is_better: bool = False, positive: bool = False
) -> str:
    """``"PASS"`` when ``value`` meets ``target`` (``<=``, or ``>=`` when higher is better).

    ``"INVALID"`` where ``value`` measures nothing: NaN, or, with ``positive`` (a time
    or a ratio of times), not positive (a difference of two fits where the shorter
    one took longer), which ``<=`` would otherwise pass.
    """
    if value != value or (positive and value <= 0):
        return "INVALID"
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
    may come from the working tree or from an exported copy on ``PYTHONPATH``); and a
    hash of the benchmark scripts and whether they are that commit's."""
    import robustkmeans

    package = Path(robustkmeans.__file__).resolve().parent
    sources = sorted(package.glob("*.py"))
    state = {"path": str(package), "source_sha256": _digest(sources)}
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
        # the benchmark scripts too: a figure can change with them alone
        scripts = sorted(Path(__file__).resolve().parent.glob("*.py"))
        state["benchmarks_sha256"] = _digest(scripts)
        state["benchmarks_match_commit"] = all(
            git("show", f"HEAD:benchmarks/{s.name}") == s.read_bytes() for s in scripts
        )
    return state


def _digest(files) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


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
