"""Small helpers shared by the estimators and the image functions."""

from __future__ import annotations

import numbers
import os
import sys
from pathlib import PurePath


def display_text(text: str) -> str:
    """``text`` as valid Unicode, for what shows text: the command line's report,
    summary.json and terminal, and the figures' titles, labels and legends.

    The bytes of a file name that are not UTF-8 reach Python as lone surrogates
    (:func:`os.fsdecode`), which no UTF-8 text can hold (matplotlib refuses them);
    they are shown as ``\\xff`` escapes (``bad\\xff.png``), as Python shows them on
    stderr. Other text is returned unchanged.
    """
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is not an undecodable byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def system_path(value):
    """The path ``value`` as the system resolves it where it goes up (``..``),
    relative if it was (a str; other paths are returned as given). The system
    needs each folder before a ``..`` to exist: writing to
    ``images/new/../../out`` created ``images/new``, a folder left in the images,
    and files were written through it (a user review). The folders are then
    created (:func:`make_folders`) and written in through this path."""
    value = os.fspath(value)
    if isinstance(value, bytes) or ".." not in PurePath(value).parts:
        return value
    real = os.path.realpath(value)
    if os.path.isabs(value):
        return real
    try:
        return os.path.relpath(real)
    except ValueError:  # (another drive, on Windows)
        return real


def make_folders(path) -> None:
    """``os.makedirs(path, exist_ok=True)`` of the path as the system resolves it
    (:func:`os.path.realpath`): with ``..`` after a missing folder
    (``images/new/../../out``), makedirs creates ``images/new`` on the way, a
    folder left in the images (a user review); the system's path is ``out``.
    Write in the folder through :func:`system_path`."""
    os.makedirs(os.path.realpath(path), exist_ok=True)


def is_count(value, minimum: int) -> bool:
    """Whether ``value`` is an integer (a bool is not one) of at least ``minimum``:
    the check behind the counts of the public functions, each with its own message."""
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum


def metric_name(metric) -> str:
    """A distance metric as titles and JSON name it: a string as it is, a callable
    by its ``__name__`` (else its repr)."""
    if isinstance(metric, str):
        return metric
    return getattr(metric, "__name__", None) or repr(metric)


def outside_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` in the function calling this one that
    names the first frame outside robustkmeans, scikit-learn and joblib: the user's
    call, whatever wrappers lie between (``set_output``'s, a Pipeline's, which goes
    through joblib's ``Memory``). In a worker thread, the thread's first frame
    outside them (``concurrent.futures``, say): the user's call is in another
    thread."""
    import joblib
    import sklearn

    inside = tuple(
        os.path.dirname(f) + os.sep for f in (__file__, sklearn.__file__, joblib.__file__)
    )
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    return level
