"""The documentation: docstring examples run, and the Sphinx site builds cleanly.

* Every ``Examples`` section of every module of the package runs as a doctest.
* The site (user guide, API reference, gallery pages) builds with ``sphinx-build -W``
  and nitpicky references, without executing the gallery scripts. The full build,
  which runs the gallery, is ``python -m sphinx -W -b html docs docs/_build/html``
  (see ``docs/getting_started.rst``).
* The code a user copies from README.md, the front page, Getting started and the
  user guide runs and gives what the text beside it says, and the command lines
  shown there are valid.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import io
import os
import pkgutil
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _optional import HAS_TORCH, TORCH_REASON

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


def _doctests(module_name):
    """The doctests of ``module_name`` that ``test_docstring_examples`` runs: those of
    the objects the module defines or claims (``__module__``), the lazily imported
    names of ``robustkmeans`` included (``ImageLoadError`` says it is
    ``robustkmeans``'s, so only this module's tests can find it)."""
    module = importlib.import_module(module_name)
    for name in getattr(module, "_PUBLIC", ()):
        getattr(module, name)  # in the module's namespace, where the finder looks
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, module_name) if t.examples]


#: what an example that needs PyTorch runs: it builds a VGG16Featurizer (fitted or
#: used) or torch tensors
_TORCH_EXAMPLE = re.compile(r"VGG16Featurizer\(|to_normalized_tensor\(|\bimport torch\b")


def _needs_torch(test):
    """Whether the doctest ``test`` needs PyTorch (the ``vision`` extra)."""
    return any(_TORCH_EXAMPLE.search(example.source) for example in test.examples)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name, in_tmp_dir):
    """The module's examples pass; without PyTorch, those that need it are left out
    (and the test, once the others passed, is reported as skipped, naming them)."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    report, left_out = [], []
    for test in _doctests(module_name):
        if not HAS_TORCH and _needs_torch(test):
            left_out.append(test.name)
            continue
        out = []
        result = runner.run(test, out=out.append, clear_globs=True)
        if result.failed:
            report.append("".join(out))
    plt.close("all")
    assert not report, f"doctest failures in {module_name}:\n" + "\n".join(report)
    if left_out:
        pytest.skip(f"{TORCH_REASON}: the examples of {', '.join(left_out)}; the others pass")


def test_docstring_examples_cover_the_api_reference():
    """Every docstring with examples of an object of the API reference, or of one
    of its methods, is among those ``test_docstring_examples`` runs: the doctest
    finder skips an object whose ``__module__`` is not the module it searches."""
    import inspect

    run = {inspect.cleandoc(t.docstring) for m in MODULES for t in _doctests(m)}
    not_run = []
    for name in _api_names():
        module_name, _, attr = name.rpartition(".")
        obj = getattr(importlib.import_module(module_name), attr)
        members = [(name, obj)]
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                value = value.fget if isinstance(value, property) else value
                members.append((f"{name}.{member}", getattr(value, "__func__", value)))
        for qualname, member in members:
            if not (inspect.isfunction(member) or inspect.isclass(member)):
                continue
            doc = member.__doc__ or ""
            if ">>>" in doc and inspect.cleandoc(doc) not in run:
                not_run.append(qualname)
    assert not_run == [], "docstring examples that no doctest runs"


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
#: parameters documented (PR01) and existing (PR02), Returns (RT01), sections in
#: numpydoc's order (GL07: the order the API pages show them in, as ``help()``
#: should), See Also (SA01) and Examples (EX01); the last two for functions and
#: classes, not methods, which must have a docstring (GL08), ``__call__`` too (the
#: API pages show it).
_REQUIRED = {"PR01", "PR02", "RT01", "GL07", "SA01", "EX01"}
_REQUIRED_METHODS = {"GL08", "PR01", "PR02", "RT01", "GL07"}


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


def _documented_default(text):
    """The value a numpydoc ``default=...`` gives (``None``, ``"auto"``, ``1e-4``, a
    name such as ``nan``), as Python sees it; unparsed text as it is."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {"nan": np.nan, "inf": np.inf}.get(text, text)


def test_documented_defaults_are_the_signatures():
    """The ``default=`` of each parameter in the API reference's docstrings (classes,
    functions and their public methods) is the signature's default, and no
    required parameter is documented with one: ``Parameters`` is what a user reads
    to know what an omitted argument does."""
    pytest.importorskip("numpydoc")
    import inspect

    from numpydoc.docscrape import NumpyDocString

    def check(qualname, func, doc):
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError):
            return []
        found = []
        for item in NumpyDocString(doc)["Parameters"]:
            match = re.search(r"default\s*=\s*(.+)$", item.type)
            if not match:
                continue
            names = [n.strip() for n in item.name.split(",")]
            values = [v.strip() for v in match.group(1).split(",")]
            if len(values) != len(names):
                values = [match.group(1).strip()] * len(names)
            for name, text in zip(names, values, strict=True):
                parameter = signature.parameters.get(name)
                if parameter is None:
                    continue  # PR02 of test_public_docstrings_are_complete
                if parameter.default is inspect.Parameter.empty:
                    found.append(f"{qualname}({name}): documented default={text}, but required")
                    continue
                documented = _documented_default(text)
                same = documented == parameter.default or (
                    isinstance(documented, float)
                    and isinstance(parameter.default, float)
                    and np.isnan(documented)
                    and np.isnan(parameter.default)
                )
                if not same:
                    found.append(
                        f"{qualname}({name}): documented default={text}, "
                        f"signature {parameter.default!r}"
                    )
        return found

    problems, checked = [], 0
    for name in _api_names():
        module_name, _, attr = name.rpartition(".")
        obj = getattr(importlib.import_module(module_name), attr)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        members = [(name, obj)]
        if inspect.isclass(obj):
            members += [
                (f"{name}.{member}", getattr(value, "__func__", value))
                for member, value in vars(obj).items()
                if (not member.startswith("_") or member == "__call__")
                and inspect.isfunction(getattr(value, "__func__", value))
            ]
        for qualname, member in members:
            if member.__doc__:
                checked += 1
                problems += check(qualname, member, inspect.getdoc(member))
    assert checked >= 40
    assert problems == [], "\n".join(problems)


#: The types a docstring may give an attribute, by the first word of each
#: alternative ("int or None", "ndarray of shape ...", "list of matplotlib Axes").
_ATTRIBUTE_TYPES = {
    "ndarray": np.ndarray,
    "int": (int, np.integer),
    "float": (float, np.floating),
    "str": str,
    '"auto"': str,
    "None": type(None),
    "dict": dict,
    "list": list,
    "tuple": tuple,
}


def test_documented_attributes_are_the_ones_set():
    """The ``Attributes`` section of each class of the API reference lists exactly
    the public attributes ending in ``_`` that the objects of its docstring example
    hold (fitted estimators, drawn displays; ``feature_names_in_`` only with named
    columns), each of a type the section gives: a user reading the page finds every
    attribute there, and none that is not."""
    pytest.importorskip("numpydoc")
    pytest.importorskip("matplotlib")
    import inspect

    import matplotlib.pyplot as plt
    from numpydoc.docscrape import NumpyDocString

    problems, checked = [], 0
    for name in _api_names():
        module_name, _, attr = name.rpartition(".")
        cls = getattr(importlib.import_module(module_name), attr)
        if not inspect.isclass(cls) or issubclass(cls, Exception):
            continue
        documented = {
            part.strip(): item.type
            for item in NumpyDocString(inspect.getdoc(cls))["Attributes"]
            for part in item.name.split(",")
        }
        test = doctest.DocTestFinder().find(cls, name, globs={})[0]
        assert test.name == name, f"{name} has no Examples"
        if not HAS_TORCH and _needs_torch(test):
            continue  # its example fits no object without PyTorch
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test, out=lambda text: None, clear_globs=False)
        for obj in [v for v in test.globs.values() if isinstance(v, cls)]:
            checked += 1
            public = {a for a in vars(obj) if a.endswith("_") and not a.startswith("_")}
            for missing in sorted(set(documented) - public - {"feature_names_in_"}):
                if missing.endswith("_"):
                    problems.append(f"{name}: documented {missing} is not set")
            for extra in sorted(public - set(documented)):
                problems.append(f"{name}: {extra} is set but not in Attributes")
            for attribute in sorted(public & set(documented)):
                words = [
                    alt.removeprefix("matplotlib ").split()[0]
                    for alt in re.split(r" or |, ", documented[attribute])
                ]
                value = getattr(obj, attribute)
                if all(w in _ATTRIBUTE_TYPES for w in words) and not any(
                    isinstance(value, _ATTRIBUTE_TYPES[w]) for w in words
                ):
                    problems.append(
                        f"{name}.{attribute}: documented as {documented[attribute]!r}, "
                        f"is a {type(value).__name__}"
                    )
        test.globs.clear()
    plt.close("all")
    assert checked >= 8, "the docstring examples made too few objects to check"
    assert not problems, "\n".join(problems)


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


def test_getting_started_says_what_the_convex_losses_do_with_its_outliers():
    """Getting started said the convex robust losses keep each center where its
    cluster's bulk is and "may still give an isolated group of outliers a cluster";
    on its own data and seed ``huber`` and ``absolute`` merge the three blobs into
    one cluster and give the outliers two, as ``square`` does."""
    from sklearn.datasets import make_blobs

    from robustkmeans import LossKMeans

    text = " ".join((DOCS / "getting_started.rst").read_text().split())
    assert "they too spend two of their three clusters on outliers" in text
    X, _ = make_blobs(300, centers=3, random_state=0)
    X = np.vstack([X, np.random.default_rng(0).uniform(-60, 60, (30, 2))])
    for loss in ["square", "huber", "absolute"]:
        km = LossKMeans(n_clusters=3, loss=loss, random_state=0).fit(X)
        sizes = np.sort(np.bincount(km.labels_, minlength=3))
        assert sizes[-1] >= 300 and sizes[:2].sum() <= 30, (loss, sizes)


# ---------------------------------------------------------------------------------
# the code a user copies from the prose pages: README, front page, Getting started
# and the user guide (the docstrings and the gallery are run above and by Sphinx)
# ---------------------------------------------------------------------------------
PAGES = [
    "README.md",
    "docs/index.rst",
    "docs/getting_started.rst",
    *sorted(p.relative_to(ROOT).as_posix() for p in (DOCS / "user_guide").glob("*.rst")),
]


def _code_blocks(page):
    """``(line, language, code)`` of each code block of ``page``, in order, ``line``
    being that of its first row: fenced blocks of a Markdown file, ``..
    code-block:: LANGUAGE`` and ``::`` literal blocks of an rst file (the latter in
    Python, as Sphinx highlights them)."""
    text = (ROOT / page).read_text(encoding="utf-8")
    if page.endswith(".md"):
        return [
            (text.count("\n", 0, m.start()) + 2, m.group(1), m.group(2))
            for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)
        ]
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        directive = re.match(r"(\s*)\.\. code-block:: (\w+)\s*$", lines[i])
        literal = lines[i].rstrip().endswith("::") and not lines[i].lstrip().startswith("..")
        if not (directive or literal):
            i += 1
            continue
        outer = len(lines[i]) - len(lines[i].lstrip())
        i += 1
        while i < len(lines) and (not lines[i].strip() or re.match(r"\s+:\w+:", lines[i])):
            i += 1  # blank lines and the directive's options
        if i == len(lines) or len(lines[i]) - len(lines[i].lstrip()) <= outer:
            continue  # a paragraph that ends in "::" with nothing indented after it
        start, indent, body = i + 1, len(lines[i]) - len(lines[i].lstrip()), []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) >= indent
        ):
            body.append(lines[i][indent:])
            i += 1
        language = directive.group(2) if directive else "python"
        blocks.append((start, language, "\n".join(body).strip("\n") + "\n"))
    return blocks


PYTHON_PAGES = [p for p in PAGES if any(lang == "python" for _, lang, _ in _code_blocks(p))]

#: What the comment beside a line of a snippet says it gives, checked after the
#: block holding the line has run: {page: {line: (words of its comment, check)}}.
#: The words keep the page and this table in step. The claims under the key
#: ``"imagenet"`` hold with the ImageNet weights only.
CLAIMS = {
    "README.md": {
        "km.cluster_centers_, km.inertia_, km.sigma_": (
            "the blob centers; the outliers cost at most 1 each",
            lambda ns: (
                np.allclose(
                    np.sort(ns["km"].cluster_centers_, axis=0),
                    np.sort([ns["X"][:300][ns["y"] == i].mean(axis=0) for i in range(3)], axis=0),
                    atol=0.2,
                )
                and ns["km"].transform(ns["X"]).max() <= 1
            ),
        ),
    },
    "docs/getting_started.rst": {
        "km.cluster_centers_": (
            "about (-1.7, 2.8), (1.9, 0.8), (0.8, 4.4)",
            lambda ns: np.allclose(
                ns["km"].cluster_centers_, [(-1.7, 2.8), (1.9, 0.8), (0.8, 4.4)], atol=0.05
            ),
        ),
        "km.sigma_": ("about 1.6", lambda ns: round(ns["km"].sigma_, 1) == 1.6),
        "imagenet": {
            'evaluate_labels(data.target, labels)["adjusted_rand"]': (
                "1.0: the six classes found",
                lambda ns: (
                    ns["evaluate_labels"](ns["data"].target, ns["labels"])["adjusted_rand"] == 1.0
                ),
            ),
        },
    },
    "docs/user_guide/choosing_k.rst": {
        "result.best_k": (
            'all four criteria choose 4 here: {"elbow": 4, "silhouette": 4, ...}',
            lambda ns: set(ns["result"].best_k.values()) == {4},
        ),
        "search.best_params_": (
            'loss "square", n_clusters 4',
            lambda ns: (
                ns["search"].best_params_["cluster__loss"] == "square"
                and ns["search"].best_params_["cluster__n_clusters"] == 4
            ),
        ),
        "halving.best_params_": (
            "n_clusters 4: 7 candidates with n_init 3, the best 3 with 9",
            lambda ns: (
                ns["halving"].best_params_["cluster__n_clusters"] == 4
                and ns["halving"].n_candidates_ == [7, 3]
                and ns["halving"].n_resources_ == [3, 9]
            ),
        ),
    },
    "docs/user_guide/losses.rst": {
        "km.delta_": ("about 1.9 here", lambda ns: round(ns["km"].delta_, 1) == 1.9),
    },
    "docs/user_guide/quantization.rst": {
        'china = load_sample_image("china.jpg")': (
            "(427, 640, 3) uint8",
            lambda ns: ns["china"].shape == (427, 640, 3) and ns["china"].dtype == np.uint8,
        ),
        "km.cluster_centers_": (
            "the palette, in [0, 1]",
            lambda ns: (
                ns["km"].cluster_centers_.shape == (16, 3)
                and 0 <= ns["km"].cluster_centers_.min() <= ns["km"].cluster_centers_.max() <= 1
            ),
        ),
    },
    "docs/user_guide/image_features.rst": {
        "maps[3].shape": (
            "(64, 224, 224)",
            lambda ns: sorted(ns["maps"]) == [3, 15, 29] and ns["maps"][3].shape == (64, 224, 224),
        ),
    },
}


@pytest.fixture(scope="module")
def snippet_inputs(tmp_path_factory):
    """The files the snippets name (``photos/<class>/<image>``, ``photo.jpg``), a
    home folder for their feature cache, shared by the pages so that each image
    goes through VGG16 once, and VGG16 weights: the ImageNet file where it is
    (``ROBUSTKMEANS_VGG16_WEIGHTS``, else ``shared/weights/`` beside the checkout),
    else a random state dict written here. Nothing is downloaded."""
    Image = pytest.importorskip("PIL.Image")
    from sklearn.datasets import load_sample_image

    from robustkmeans._demo import make_demo_images

    folder = tmp_path_factory.mktemp("snippet_inputs")
    # the crops Getting started makes, whose features the cache then holds
    make_demo_images(folder / "photos", n_per_class=4)
    Image.fromarray(load_sample_image("flower.jpg")).save(folder / "photo.jpg")
    (folder / "home").mkdir()
    imagenet = Path(
        os.environ.get("ROBUSTKMEANS_VGG16_WEIGHTS")
        or ROOT.parent / "shared" / "weights" / "vgg16_features_imagenet1k_v1.pth"
    )
    weights = imagenet if imagenet.is_file() else None
    if weights is None and importlib.util.find_spec("torchvision") is not None:
        import torch
        import torchvision

        torch.manual_seed(0)
        weights = folder / "random_vgg16_features.pth"
        features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"])
        torch.save(features.state_dict(), weights)  # vgg16().features, without its head
    return {"folder": folder, "weights": weights, "imagenet": weights == imagenet}


def _run_block(code, namespace, name, line):
    """Run one block in ``namespace``; return what it printed. A block of ``>>>``
    lines runs as a doctest, with the flags of the docstring examples."""
    out = io.StringIO()
    if ">>>" in code:
        test = doctest.DocTestParser().get_doctest(code, namespace, name, name, line)
        runner = doctest.DocTestRunner(
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
        )
        runner.run(test, out=out.write, clear_globs=False)
        assert not runner.failures, f"{name}:{line}:\n{out.getvalue()}"
        return ""
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"{name}:{line}", "exec"), namespace)
    return out.getvalue()


@pytest.mark.parametrize("page", PYTHON_PAGES)
def test_python_snippets_of_the_pages_run(page, snippet_inputs, in_tmp_dir, monkeypatch):
    """The Python blocks of each page run, in order and in one namespace (a page's
    blocks build on each other), offline, in an empty folder holding the files
    they name; a ``text`` block right after one is what it prints, and the values
    the comments and the text give hold (``CLAIMS``). A page that builds
    :class:`VGG16Featurizer` with the default weights gets the ImageNet file
    through ``ROBUSTKMEANS_VGG16_WEIGHTS``, or random weights (then the claims that
    need ImageNet are skipped); the placeholder ``path/to/vgg16_features.pth``
    stands for that file."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    inputs = snippet_inputs
    for name in ["photos", "photo.jpg"]:
        (in_tmp_dir / name).symlink_to(inputs["folder"] / name)
    monkeypatch.setenv("HOME", str(inputs["folder"] / "home"))
    claims = dict(CLAIMS.get(page, {}))
    imagenet_claims = claims.pop("imagenet", {})
    namespace, printed = {"__name__": "__main__"}, None
    try:
        for line, language, code in _code_blocks(page):
            if language == "text" and printed is not None:
                assert printed == code, f"{page}:{line}: the block above prints\n{printed}"
            if language != "python":
                printed = None
                continue
            if "VGG16Featurizer(" in code:
                if not HAS_TORCH:
                    pytest.skip(TORCH_REASON)
                if inputs["weights"] is None:
                    pytest.skip("needs torchvision: pip install -e '.[vision]'")
                monkeypatch.setenv("ROBUSTKMEANS_VGG16_WEIGHTS", str(inputs["weights"]))
                code = code.replace("path/to/vgg16_features.pth", str(inputs["weights"]))
            printed = _run_block(code, namespace, page, line)
            rows = {row.split("#")[0].strip(): row for row in code.splitlines()}
            for claim in [c for c in claims if c in rows]:
                shown, check = claims.pop(claim)
                assert shown in rows[claim], (
                    f"{page}:{line}: {rows[claim]!r} no longer says {shown!r}"
                )
                assert check(namespace), f"{page}:{line}: {claim} is not {shown!r}"
            for claim in [c for c in imagenet_claims if c in rows]:
                shown, check = imagenet_claims.pop(claim)
                assert shown in rows[claim], (
                    f"{page}:{line}: {rows[claim]!r} no longer says {shown!r}"
                )
                assert not inputs["imagenet"] or check(namespace), (
                    f"{page}:{line}: {claim} is not {shown!r}"
                )
    finally:
        plt.close("all")
    assert not claims and not imagenet_claims, (
        f"claimed lines not in {page}: {[*claims, *imagenet_claims]}"
    )


def _command_lines():
    """``(page, line, command, whole)`` of each ``robustkmeans`` or ``python
    SCRIPT`` command of the pages: the lines of their shell blocks (``whole``: a
    command line to copy as it is) and the ``robustkmeans ...`` literals of
    their text (which may name only a subcommand and an option)."""
    found = []
    for page in PAGES:
        for line, language, code in _code_blocks(page):
            if language in ("bash", "console", "shell", "sh"):
                for offset, row in enumerate(code.splitlines()):
                    words = shlex.split(row, comments=True)
                    if (
                        words[:1] == ["robustkmeans"]
                        or words[:1] == ["python"]
                        and words[1:2] != ["-m"]
                    ):
                        found.append((page, line + offset, words, True))
        text = (ROOT / page).read_text(encoding="utf-8")
        for match in re.finditer(r"``?(robustkmeans(?: [^`]*)?)``?", text):
            words = match.group(1).split()
            if len(words) > 1:
                found.append((page, text.count("\n", 0, match.start()) + 1, words, False))
    return found


def test_documented_command_lines_are_valid(in_tmp_dir, monkeypatch, capsys):
    """Each ``robustkmeans`` command line of the shell blocks passes every check the
    command makes before it runs (``main`` with the subcommands replaced by a
    no-op returns 0, where a usage error returns 2), each option that a command
    of the pages names is in that subcommand's ``--help``, and each script that
    ``python`` runs exists."""
    pytest.importorskip("matplotlib")  # main imports it first for the figures
    import argparse

    from robustkmeans import cli

    parser = cli.build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for sub in commands.choices.values():
        sub.set_defaults(func=lambda args: 0)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    helps = {}
    for name in ["", *commands.choices]:
        assert cli.main([name, "--help"] if name else ["--help"]) == 0
        helps[name] = capsys.readouterr().out
    found, problems = _command_lines(), []
    assert sum(whole for *_, whole in found) >= 12, "the shell blocks were not found"
    for page, line, words, whole in found:
        where = f"{page}:{line}: {' '.join(words)}"
        if words[0] == "python":
            if not (ROOT / words[1]).is_file():
                problems.append(f"{where}: no such script")
            continue
        command = words[1] if words[1] in commands.choices else ""
        for option in [w.split("=")[0] for w in words[1:] if w.startswith("--")]:
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", helps[command]):
                problems.append(f"{where}: {option} is not in {command or 'the'} --help")
        if whole:
            status = cli.main(words[1:])
            if status != 0:
                problems.append(f"{where}: exit status {status}: {capsys.readouterr().err}")
    assert problems == []
