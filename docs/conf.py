"""Sphinx configuration of the robustkmeans documentation.

Build (gallery examples executed; about 1.5 minutes on 2 busy CPU cores)::

    python -m sphinx -W -b html docs docs/_build/html

Build without running the gallery scripts (what ``tests/test_docs.py`` does)::

    ROBUSTKMEANS_DOCS_PLOT_GALLERY=0 python -m sphinx -W -b html docs docs/_build/html

Everything builds offline: there is no intersphinx (no inventory download), and
references to other projects' objects are rendered as code without a link.
References to robustkmeans objects, pages and examples are checked
(``nitpicky``), so with ``-W`` a broken one fails the build.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path

import robustkmeans

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "sphinxext"))

# -- Project -----------------------------------------------------------------------
project = "robustkmeans"
author = "robustkmeans developers"
copyright = "robustkmeans developers, BSD-3-Clause"
version = release = robustkmeans.__version__

# -- General -----------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
    "cli_help",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md", "sphinxext", "examples"]
root_doc = "index"
default_role = "literal"
nitpicky = True
# Objects of other projects cannot be linked offline (no intersphinx inventory):
# referring to them is allowed and renders as code. Everything else must resolve.
nitpick_ignore_regex = [
    (r"py:.*", r"(sklearn|numpy|np|scipy|joblib|matplotlib|torch|torchvision|PIL|tqdm)(\..*)?"),
    (r"py:.*", r"(os|pathlib|collections|typing|argparse)\..*"),
    (r"py:.*", r"(UserWarning|RuntimeWarning|ValueError|TypeError|FileNotFoundError)"),
    (r"py:.*", r"(RuntimeError|ImportError|OSError)"),
    # scikit-learn's metadata-routing methods appear in the method tables but are
    # documented in scikit-learn's user guide, not here (see _skip_member below)
    (r"py:obj", r"robustkmeans\..*\.(set_\w+_request|get_metadata_routing)"),
]

# -- autodoc / autosummary / numpydoc -----------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = True
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- matplotlib plot directive --------------------------------------------------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.autolayout": True}
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"

# -- sphinx-gallery --------------------------------------------------------------------
# The environment variable ROBUSTKMEANS_DOCS_PLOT_GALLERY=0 builds the gallery pages
# without running the scripts (sphinx-gallery's ``-D plot_gallery=0`` also works, but
# Sphinx >= 8 warns that the value is a string, which -W turns into an error).
_plot_gallery = os.environ.get("ROBUSTKMEANS_DOCS_PLOT_GALLERY", "1").lower() not in (
    "0",
    "false",
    "no",
)

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"/_",
    "plot_gallery": _plot_gallery,
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("robustkmeans",),
    "within_subsection_order": "gallery_order.ExampleOrder",
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "matplotlib_animations": False,
    "download_all_examples": False,
    "reset_modules": ("matplotlib", "seaborn"),
}

# sphinx-gallery's own matplotlib backend is Agg; keep examples quiet about it.
warnings.filterwarnings("ignore", category=UserWarning, message=".*non-interactive.*")
warnings.filterwarnings("ignore", category=UserWarning, message=".*FigureCanvasAgg.*")

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"robustkmeans {version}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "getting_started": []}
html_show_sourcelink = False


# -- aliases: public names re-exported by the package ---------------------------------
def _public_aliases() -> dict[str, str]:
    """Map ``<defining module>.<name>`` to ``robustkmeans.<name>`` for public names.

    Docstrings may name an object where it is defined (``robustkmeans.model_selection.
    select_k``) or where users import it (``robustkmeans.select_k``); the API reference
    documents each object once, at the import path users see, and this map lets the
    other spelling resolve to it.
    """
    aliases = {}
    for name in robustkmeans.__all__:
        if name.startswith("_"):
            continue
        obj = getattr(robustkmeans, name)
        module = getattr(obj, "__module__", None)
        if module and module != "robustkmeans":
            aliases[f"{module}.{name}"] = f"robustkmeans.{name}"
    return aliases


_ALIASES = _public_aliases()


def _resolve_alias(app, env, node, contnode):
    """Resolve a Python reference that the default lookup missed.

    Two spellings are accepted, both unambiguous: the defining-module path of a
    public name (``robustkmeans.model_selection.select_k`` for
    ``robustkmeans.select_k``), and a bare name that exactly one documented object
    carries (``elbow_index`` or ``VGG16Featurizer.feature_maps`` written in a
    docstring of another module).
    """
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    target = node.get("reftarget", "")
    # both directions: whichever of the two spellings the API reference documents
    pairs = [*_ALIASES.items(), *((c, a) for a, c in _ALIASES.items())]
    for alias, canonical in pairs:
        if target == alias or target.startswith(alias + "."):
            target = canonical + target[len(alias) :]
            break
    else:
        if not all(part.isidentifier() for part in target.split(".")):
            return None
        matches = [
            name
            for name in domain.objects
            if name.startswith("robustkmeans.") and name.endswith("." + target)
        ]
        if len(set(matches)) != 1:
            return None
        target = matches[0]
    found = domain.resolve_any_xref(env, node["refdoc"], app.builder, target, node, contnode)
    return found[0][1] if found else None


#: Members that scikit-learn generates on every estimator for metadata routing; they
#: are documented in scikit-learn's user guide, not here.
_SKIPPED_MEMBERS = re.compile(r"^(set_\w+_request|get_metadata_routing)$")


def _skip_member(app, what, name, obj, skip, options):
    if _SKIPPED_MEMBERS.match(name):
        return True
    return None


def setup(app):
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-skip-member", _skip_member)
