"""The documentation: docstring examples run, and the Sphinx site builds cleanly.

* Every ``Examples`` section of every module of the package runs as a doctest.
* The site (user guide, API reference, gallery pages) builds with ``sphinx-build -W``
  and nitpicky references, without executing the gallery scripts. The full build,
  which runs the gallery, is ``python -m sphinx -W -b html docs docs/_build/html``
  (see ``docs/getting_started.rst``).
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import robustkmeans

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(robustkmeans.__path__, prefix="robustkmeans.")
    if not info.ispkg
) + ["robustkmeans"]


@pytest.fixture
def in_tmp_dir(tmp_path, monkeypatch):
    """Run doctests in an empty folder: some write files (e.g. ``main([...])``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name, in_tmp_dir):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    report = []
    tests = [t for t in finder.find(module, module_name) if t.examples]
    for test in tests:
        out = []
        result = runner.run(test, out=out.append, clear_globs=True)
        if result.failed:
            report.append("".join(out))
    plt.close("all")
    assert not report, f"doctest failures in {module_name}:\n" + "\n".join(report)


def test_every_public_object_has_examples():
    """Each name exported by the package has a docstring with an Examples section."""
    missing = []
    for name in robustkmeans.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(robustkmeans, name)
        if not callable(obj):
            continue
        doc = obj.__doc__ or ""
        if "Examples\n" not in doc or ">>>" not in doc:
            missing.append(name)
    assert not missing, f"public objects without a runnable Examples section: {missing}"


def _api_names():
    """Fully qualified names listed in the autosummary tables of ``docs/api.rst``."""
    names, module = [], None
    for line in (DOCS / "api.rst").read_text(encoding="utf-8").splitlines():
        found = re.match(r"\.\. (?:currentmodule|module|automodule):: (\S+)", line)
        if found:
            module = found.group(1)
            continue
        found = re.match(r"   ([A-Za-z_]\w*)$", line)
        if found and module:
            names.append(f"{module}.{found.group(1)}")
    return names


#: numpydoc validation codes every public function, class and method must pass:
#: parameters documented (PR01) and existing (PR02), Returns (RT01), See Also (SA01)
#: and Examples (EX01); the last two for functions and classes, not methods, which
#: must have a docstring (GL08), ``__call__`` too (the API pages show it).
_REQUIRED = {"PR01", "PR02", "RT01", "SA01", "EX01"}
_REQUIRED_METHODS = {"GL08", "PR01", "PR02", "RT01"}


def test_public_docstrings_are_complete():
    """Every function and class of the API reference has Parameters, Returns,
    See Also and Examples sections (numpydoc validation), and its public methods
    (``__call__`` too) document their parameters and return values."""
    pytest.importorskip("numpydoc")
    import inspect

    from numpydoc.validate import validate

    problems = []
    for name in _api_names():
        module_name, _, attr = name.rpartition(".")
        obj = getattr(importlib.import_module(module_name), attr)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue  # data: scorer instances, constants
        if inspect.isclass(obj) and issubclass(obj, Exception):
            continue
        problems += [
            f"{name}: {code} {msg}" for code, msg in validate(name)["errors"] if code in _REQUIRED
        ]
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                if (member.startswith("_") and member != "__call__") or not inspect.isfunction(
                    getattr(value, "__func__", value)
                ):
                    continue
                problems += [
                    f"{name}.{member}: {code} {msg}"
                    for code, msg in validate(f"{name}.{member}")["errors"]
                    if code in _REQUIRED_METHODS
                ]
    assert not problems, "incomplete docstrings:\n" + "\n".join(problems)


#: The modules whose names are public; the others (``robustkmeans._*``) are private,
#: though the API reference documents a few of their objects.
PUBLIC_MODULES = [
    "robustkmeans",
    "robustkmeans.cli",
    "robustkmeans.metrics",
    "robustkmeans.model_selection",
    "robustkmeans.plotting",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_modules_export_what_the_api_reference_documents(module_name):
    """``__all__`` of each public module is what ``docs/api.rst`` documents for it:
    every name documented under the module is exported, and every exported object
    is documented (under this module, or under ``robustkmeans`` when re-exported
    there). ``from module import *`` then gives those names only, not the module's
    own imports (``np``, ``Pipeline``, ``annotations``...)."""
    module = importlib.import_module(module_name)
    exported = [name for name in module.__all__ if not name.startswith("__")]
    api = [name.rpartition(".") for name in _api_names()]
    documented_here = {attr for mod, _, attr in api if mod == module_name}
    documented_objects = [getattr(importlib.import_module(mod), attr) for mod, _, attr in api]
    assert sorted(documented_here - set(exported)) == [], "documented but not in __all__"
    undocumented = [
        name
        for name in exported
        if not any(getattr(module, name) is obj for obj in documented_objects)
    ]
    assert undocumented == [], "in __all__ but not in docs/api.rst"
    namespace = {}
    exec(f"from {module_name} import *", namespace)
    assert sorted(set(namespace) - {"__builtins__"}) == sorted(module.__all__)


def test_readme_links_resolve():
    """Relative links in README.md point at files that exist."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    broken = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert not broken, f"README.md links to missing files: {broken}"


@pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None
    or importlib.util.find_spec("sphinx_gallery") is None
    or importlib.util.find_spec("numpydoc") is None
    or importlib.util.find_spec("pydata_sphinx_theme") is None,
    reason="needs the docs extra: pip install -e '.[docs]'",
)
def test_sphinx_build_without_gallery(tmp_path):
    """``sphinx-build -W`` (warnings are errors, nitpicky references) succeeds, and
    would fail on a broken reference.

    The docs are copied to a temporary folder so that the generated files
    (autosummary pages, gallery rst) never touch the checkout. The gallery scripts
    are not run (``ROBUSTKMEANS_DOCS_PLOT_GALLERY=0``); their pages, the links to
    them and their code are still checked. One build checks both properties: a
    canary page with four kinds of broken reference is added to the copy, and the
    build must report exactly those, and nothing else.
    """
    src = tmp_path / "docs"
    shutil.copytree(
        DOCS,
        src,
        ignore=shutil.ignore_patterns("_build", "generated", "auto_examples", "gen_modules"),
    )
    canary = {
        "no_such_label": ":ref:`no_such_label`",
        "robustkmeans.NoSuchClass": ":class:`robustkmeans.NoSuchClass`",
        "robustkmeans.metrics.no_such_function": ":func:`robustkmeans.metrics.no_such_function`",
        "sphx_glr_auto_examples_plot_no_such_example.py": (
            ":ref:`sphx_glr_auto_examples_plot_no_such_example.py`"
        ),
    }
    (src / "zz_broken_references.rst").write_text(
        ":orphan:\n\nBroken references\n=================\n\n"
        + "\n\n".join(canary.values())
        + "\n",
        encoding="utf-8",
    )
    env = dict(os.environ, ROBUSTKMEANS_DOCS_PLOT_GALLERY="0", MPLBACKEND="Agg")
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "-q",
        "-d",
        str(tmp_path / "doctrees"),
        str(src),
        str(tmp_path / "html"),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, timeout=600)
    output = proc.stdout + proc.stderr
    problems = [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line]
    unexpected = [line for line in problems if "zz_broken_references" not in line]
    assert not unexpected, "sphinx-build -W reported problems:\n" + "\n".join(unexpected)
    for target in canary:
        assert any(target in line for line in problems), f"broken reference not caught: {target}"
    assert proc.returncode != 0, "sphinx-build -W succeeded despite broken references"
    html = tmp_path / "html"
    for page in ["index", "getting_started", "api", "user_guide/index", "auto_examples/index"]:
        assert (html / f"{page}.html").is_file(), page


def test_the_cache_guide_says_when_the_network_runs_once_per_image():
    """The guide claimed "exactly once per image" for any grid search; parallel
    workers (n_jobs=2) each compute the images they reach before any entry is
    written (24 images took 32 passes). Only n_jobs=1 is exact
    (test_vgg16.py::test_grid_search_runs_the_network_once_per_image)."""
    text = " ".join((DOCS / "user_guide" / "image_features.rst").read_text().split())
    start = text.index("runs the network exactly once per image")
    claim = text[start : text.index(":func:`select_k` and", start)]
    assert "(``n_jobs=1``, the default)" in claim
    assert "up to once per worker" in claim
